"""Tables of the alert service and the reviewer service (migration ``0002``).

Companion tables to :mod:`models.db` (``alerts`` and ``review_items`` stay as the
consumers write them; the state kept here hangs off them by id):

``clinic_notify_settings``
    How each clinic is told of a critical value: channels (``webhook``, ``email``,
    ``log``), webhook URL and optional HMAC signing secret, e-mail address, and an
    optional per-clinic acknowledgement timeout.
``alert_state``
    One row per alert: when the result was analysed, the escalation timer (``due_at``:
    the next time the alert escalates if still unacknowledged), escalation count, the
    acknowledgement (who, when, the read-back) and codes withdrawn by a reviewer.
``alert_notifications``
    Every notification to send or sent (a durable notification outbox): kind
    (``initial``, ``reminder``, ``escalation``, ``correction``, ``failure``), audience
    (``clinic`` or ``oncall``), channel, target, status (``pending``, ``sent``,
    ``failed``), attempts and the next attempt time.
``reviewers`` / ``reviewer_sessions``
    Cardiologist accounts (SHA-256 of a random token) and login sessions (SHA-256 of
    the session cookie, with a CSRF token and an expiry).
``review_work``
    Claim, sign-off and conclusion of a worklist item (``review_items.id``).
``finding_decisions``
    A reviewer's confirm/override of one finding of the item's result.
``audit_log``
    Who did or viewed what, when, on which record, with before/after values; written
    in the same transaction as the action.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, utcnow

__all__ = [
    "AlertNotification",
    "AlertState",
    "AuditEntry",
    "ClinicNotifySettings",
    "FindingDecision",
    "ReviewWork",
    "Reviewer",
    "ReviewerSession",
    "as_utc",
]


def as_utc(value: datetime | None) -> datetime | None:
    """Attach UTC to a naive datetime read back from SQLite (stored as UTC).

    Parameters
    ----------
    value : datetime or None
        A timestamp from the database.

    Returns
    -------
    datetime or None
        The same instant, timezone-aware.
    """
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class ClinicNotifySettings(Base):
    """Notification channels of one clinic."""

    __tablename__ = "clinic_notify_settings"

    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    channels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    webhook_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    ack_timeout_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class AlertState(Base):
    """Timers, escalation and acknowledgement of one alert."""

    __tablename__ = "alert_state"
    __table_args__ = (Index("ix_alert_state_due", "acked_at", "due_at"),)

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(20), default="analysis")
    analysed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    read_back: Mapped[str | None] = mapped_column(Text, nullable=True)
    withdrawn_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class AlertNotification(Base):
    """One notification (durable outbox row) of an alert."""

    __tablename__ = "alert_notifications"
    __table_args__ = (Index("ix_alert_notif_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str | None] = mapped_column(String(500), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Reviewer(Base):
    """A cardiologist account; the login token is stored as SHA-256 only."""

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewerSession(Base):
    """A browser login session (cookie value stored as SHA-256)."""

    __tablename__ = "reviewer_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewWork(Base):
    """Claim and sign-off of one worklist item (one reviewer per item)."""

    __tablename__ = "review_work"

    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id"), primary_key=True)
    claimed_by: Mapped[int] = mapped_column(ForeignKey("reviewers.id"))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    conclusion: Mapped[str | None] = mapped_column(Text, nullable=True)


class FindingDecision(Base):
    """A reviewer's decision on one finding (index into the result's ``findings``)."""

    __tablename__ = "finding_decisions"
    __table_args__ = (UniqueConstraint("item_id", "finding_index", name="uq_decision_finding"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id"))
    finding_index: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    original_severity: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(10))
    final_severity: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """One audited view or change by a reviewer (append-only)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_record", "record_id", "at"),
        Index("ix_audit_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64), nullable=True)
