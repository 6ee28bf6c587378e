"""alerts and review: notify settings, alert timers and notifications, reviewers, audit

Revision ID: 0002_alerts_review
Revises: 0001
Create Date: 2026-11-23 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_alerts_review"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clinic_notify_settings",
        sa.Column("clinic_id", sa.String(length=32), sa.ForeignKey("clinics.id"), primary_key=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("ack_timeout_min", sa.Float(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "alert_state",
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), primary_key=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("analysed_at", _TS, nullable=False),
        sa.Column("due_at", _TS, nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("acked_at", _TS, nullable=True),
        sa.Column("acked_by", sa.String(length=200), nullable=True),
        sa.Column("read_back", sa.Text(), nullable=True),
        sa.Column("withdrawn_codes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_alert_state_due", "alert_state", ["acked_at", "due_at"])
    op.create_table(
        "alert_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
    )
    op.create_index("ix_alert_notifications_alert_id", "alert_notifications", ["alert_id"])
    op.create_index("ix_alert_notif_pending", "alert_notifications", ["status", "next_attempt_at"])
    op.create_table(
        "reviewers",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False, unique=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=False, unique=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "reviewer_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("reviewers.id"), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
    )
    op.create_table(
        "review_work",
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("review_items.id"), primary_key=True),
        sa.Column("claimed_by", sa.Integer(), sa.ForeignKey("reviewers.id"), nullable=False),
        sa.Column("claimed_at", _TS, nullable=False),
        sa.Column("signed_at", _TS, nullable=True),
        sa.Column("conclusion", sa.Text(), nullable=True),
    )
    op.create_table(
        "finding_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("review_items.id"), nullable=False),
        sa.Column("finding_index", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("original_severity", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("final_severity", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("reviewers.id"), nullable=False),
        sa.Column("decided_at", _TS, nullable=False),
        sa.UniqueConstraint("item_id", "finding_index", name="uq_decision_finding"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("reviewers.id"), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_audit_record", "audit_log", ["record_id", "at"])
    op.create_index("ix_audit_at", "audit_log", ["at"])


def downgrade() -> None:
    for name in (
        "audit_log",
        "finding_decisions",
        "review_work",
        "reviewer_sessions",
        "reviewers",
        "alert_notifications",
        "alert_state",
        "clinic_notify_settings",
    ):
        op.drop_table(name)
