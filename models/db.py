"""Database tables (SQLAlchemy 2 typed ORM) shared by the API, relay, worker and consumers.

The schema is created and changed only by Alembic migrations (``ingest/migrations``);
a new table is a new migration. Tables:

``clinics``
    One row per sending clinic; ``api_key_sha256`` is the SHA-256 of its API key.
``records``
    One uploaded recording: owner clinic, content hash, files (blob manifest), metadata,
    ``status`` (queued -> analysing -> done | needs_review | failed), attempts and error.
``results``
    The current :class:`models.result.AnalysisResult` JSON, one per record, with a
    ``version`` counting the analyses applied to it (1 = the first).
``results_history``
    Results that are not current (migration ``0003``): ``superseded`` rows are earlier
    results replaced by a re-analysis; ``held`` rows are re-analyses of a record whose
    report a reviewer has signed, kept here because a signed report is never replaced.
``outbox``
    Messages to publish, written in the same transaction as the state change that
    caused them; the relay publishes them and sets ``sent_at`` after the broker confirm.
``inbox``
    Messages already processed by a consumer (``UNIQUE(message_id)``): redeliveries
    are acknowledged without a second effect.
``dead_letters``
    Records given up on after the bounded retries, with the reason.
``alerts``
    One row per critical result delivered to ``ecg.alerts`` (alerts/consumer.py).
``review_items``
    The reviewer worklist, one row per result delivered to ``ecg.review``
    (review/consumer.py), with an urgency (0 = most urgent).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool

__all__ = [
    "RECORD_STATUSES",
    "TERMINAL_STATUSES",
    "Alert",
    "Base",
    "Clinic",
    "DeadLetter",
    "InboxEntry",
    "OutboxMessage",
    "Record",
    "RecordStatus",
    "Result",
    "ResultHistory",
    "ReviewItem",
    "make_engine",
    "make_read_sessionmaker",
    "make_sessionmaker",
    "new_id",
    "utcnow",
]

RecordStatus = Literal["queued", "analysing", "done", "needs_review", "failed"]
RECORD_STATUSES: tuple[RecordStatus, ...] = (
    "queued",
    "analysing",
    "done",
    "needs_review",
    "failed",
)
TERMINAL_STATUSES: frozenset[str] = frozenset({"done", "needs_review", "failed"})


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new random identifier (32 hex characters)."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Clinic(Base):
    """A sending clinic and the hash of its API key."""

    __tablename__ = "clinics"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    api_key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Record(Base):
    """One uploaded recording and its processing state."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("clinic_id", "content_sha256", name="uq_records_clinic_content"),
        UniqueConstraint("clinic_id", "idempotency_key", name="uq_records_clinic_idem"),
        Index("ix_records_status", "status"),
        Index("ix_records_clinic_created", "clinic_id", "created_at"),
        Index("ix_records_clinic_patient_created", "clinic_id", "patient_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"))
    content_sha256: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    source_format: Mapped[str] = mapped_column(String(40))
    primary_file: Mapped[str] = mapped_column(String(255))
    files: Mapped[list[Any]] = mapped_column(JSON)
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    recording_type: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    patient_age_years: Mapped[float | None] = mapped_column(Float, nullable=True)
    patient_sex: Mapped[str | None] = mapped_column(String(1), nullable=True)
    clinic_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    analysis_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Result(Base):
    """The stored analysis result of one record (the ``ecg analyze`` JSON)."""

    __tablename__ = "results"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), unique=True)
    result_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    severity: Mapped[str] = mapped_column(String(20))
    analysis_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ResultHistory(Base):
    """A result that is not (or no longer) the record's current one.

    ``kind`` is ``superseded`` (an earlier result, replaced by a re-analysis) or
    ``held`` (a re-analysis of a record with a signed report; the signed result stays
    current and this one is kept for the reviewer to see).
    """

    __tablename__ = "results_history"
    __table_args__ = (Index("ix_results_history_record", "record_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"))
    result_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    result_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    severity: Mapped[str] = mapped_column(String(20))
    analysis_version: Mapped[str] = mapped_column(String(40))
    analysed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OutboxMessage(Base):
    """A message committed with a state change, published by the relay after commit."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    exchange: Mapped[str] = mapped_column(String(100))
    routing_key: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class InboxEntry(Base):
    """A message a consumer has fully processed (deduplication by message id)."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    consumer: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeadLetter(Base):
    """A message given up on after bounded retries, with the reason."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    record_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    queue: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Alert(Base):
    """A critical result delivered to the alerts queue (one per result message)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"))
    codes: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="new")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewItem(Base):
    """A worklist entry for a human reviewer (critical, abnormal or unanalysable)."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_open_urgency", "status", "urgency", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"))
    severity: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str, *, pool: bool = True) -> Engine:
    """Create an engine; SQLite gets WAL mode and a busy timeout for concurrent writers.

    Parameters
    ----------
    url : str
        SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg://...``).
    pool : bool, default True
        False uses no connection pool (short-lived tools, forked processes).
    """
    kwargs: dict[str, Any] = {}
    if not pool:
        kwargs["poolclass"] = NullPool
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
        if pool:
            kwargs.update(pool_size=10, max_overflow=20)
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Any]:
    """A session factory that keeps loaded attributes usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(sessions: sessionmaker[Any]) -> sessionmaker[Any]:
    """Sessions for single read-only queries, on the same pool, in autocommit mode.

    A plain session costs ``BEGIN`` and ``ROLLBACK`` round trips around one ``SELECT``;
    in autocommit mode the query is the only statement (psycopg skips the rollback of
    an idle connection). Use only for reads that need no transaction (one statement,
    or statements that need not see one snapshot); never for writes.

    Parameters
    ----------
    sessions : sessionmaker
        The read-write session factory whose engine (and pool) is reused.
    """
    engine: Engine = sessions.kw["bind"]
    return sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


def message_already_stored(
    sessions: sessionmaker[Any],
    model: type[Alert] | type[ReviewItem] | type[InboxEntry],
    message_id: str,
) -> bool:
    """Whether a row for ``message_id`` exists (tells a redelivery from another conflict).

    Consumers (worker inbox, alerts, worklist) catch the ``IntegrityError`` of a
    redelivered message (``message_id`` is UNIQUE) and ack it; any other integrity
    failure (a foreign key, say) must not be acked as a duplicate, or the result, alert
    or worklist item would be silently lost.
    """
    with sessions() as session:
        found = session.scalar(select(model.id).where(model.message_id == message_id).limit(1))
    return found is not None
