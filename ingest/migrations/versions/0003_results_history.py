"""results history: results.version and the results_history table (reprocess)

Revision ID: 0003_results_history
Revises: 0002_alerts_review
Create Date: 2026-11-23 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_results_history"
down_revision = "0002_alerts_review"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "results_history",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("record_id", sa.String(length=32), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("result_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("result_json", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("analysis_version", sa.String(length=40), nullable=False),
        sa.Column("analysed_at", _TS, nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_results_history_record", "results_history", ["record_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_results_history_record", table_name="results_history")
    op.drop_table("results_history")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("version")
