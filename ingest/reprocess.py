"""Re-run the analysis of stored records (``ecg reprocess``) after an algorithm change.

:func:`select_records` finds the records an operator names (clinic, upload date range,
status, analysis version older than the current one, record ids); :func:`requeue`
queues them again through the outbox, one transaction per batch: each record goes back
to ``queued`` (attempts reset) and gets a ``records`` message. The workers then store
the new result as described in :mod:`ingest.reanalysis` (history kept, signed reports
never replaced, alerts only for newly found critical values).

Only records in a final state (``done``, ``needs_review``, ``failed``) are queued; a
record already queued or being analysed is skipped (counted), never queued twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ingest.outbox import enqueue
from models.db import TERMINAL_STATUSES, Clinic, InboxEntry, Record, ReviewItem
from models.errors import InputError, NotFoundError

__all__ = [
    "Criteria",
    "RequeueReport",
    "Selected",
    "parse_version",
    "progress_of",
    "requeue",
    "select_records",
]

_VERSION_PART = re.compile(r"\d+")


def parse_version(text: str | None) -> tuple[int, ...]:
    """A comparable form of an analysis version (``"0.10.1"`` -> ``(0, 10, 1)``).

    Missing or unparsable versions compare as the oldest, ``()``.
    """
    return tuple(int(p) for p in _VERSION_PART.findall(text or ""))


@dataclass(frozen=True)
class Criteria:
    """Which records to re-analyse (every given criterion must hold).

    Attributes
    ----------
    clinic : str or None
        Clinic id or exact name.
    since, until : date or None
        Upload date range, inclusive, UTC.
    statuses : tuple of str
        Record statuses to select (final states only).
    older_than : str or None
        Only records whose newest analysis version is older than this (or unknown).
    record_ids : tuple of str
        Only these records.
    limit : int or None
        At most this many records (oldest upload first).
    """

    clinic: str | None = None
    since: date | None = None
    until: date | None = None
    statuses: tuple[str, ...] = ("done", "needs_review", "failed")
    older_than: str | None = None
    record_ids: tuple[str, ...] = ()
    limit: int | None = None

    def check(self) -> None:
        """Reject criteria that cannot be right.

        Raises
        ------
        InputError
            A status that is not final, or ``since`` after ``until``.
        """
        bad = [s for s in self.statuses if s not in TERMINAL_STATUSES]
        if bad:
            raise InputError(
                f"status {', '.join(bad)} cannot be reprocessed: choose from "
                f"{', '.join(sorted(TERMINAL_STATUSES))} (a queued record is already queued)"
            )
        if self.since and self.until and self.since > self.until:
            raise InputError(f"--since {self.since} is after --until {self.until}")


@dataclass(frozen=True)
class Selected:
    """One selected record (what the dry run lists)."""

    record_id: str
    clinic: str
    created_at: datetime
    status: str
    analysis_version: str | None
    signed: bool


def _clinic_id(session: Session, clinic: str) -> str:
    row = session.scalar(select(Clinic.id).where(or_(Clinic.id == clinic, Clinic.name == clinic)))
    if row is None:
        raise NotFoundError(f"no clinic with id or name {clinic!r} (see `ecg clinic list`)")
    return row


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _query(session: Session, criteria: Criteria) -> Select[str, str, datetime, str, str | None]:
    stmt: Select[str, str, datetime, str, str | None] = (
        select(Record.id, Clinic.name, Record.created_at, Record.status, Record.analysis_version)
        .join(Clinic, Clinic.id == Record.clinic_id)
        .where(Record.status.in_(criteria.statuses))
        .order_by(Record.created_at, Record.id)
    )
    if criteria.clinic:
        stmt = stmt.where(Record.clinic_id == _clinic_id(session, criteria.clinic))
    if criteria.since:
        stmt = stmt.where(Record.created_at >= _day_start(criteria.since))
    if criteria.until:
        stmt = stmt.where(Record.created_at < _day_start(criteria.until + timedelta(days=1)))
    if criteria.record_ids:
        stmt = stmt.where(Record.id.in_(criteria.record_ids))
    if criteria.older_than is not None:
        wanted = parse_version(criteria.older_than)
        known = session.scalars(select(Record.analysis_version).distinct())
        older = [v for v in known if v is not None and parse_version(v) < wanted]
        stmt = stmt.where(
            or_(Record.analysis_version.is_(None), Record.analysis_version.in_(older))
        )
    if criteria.limit is not None:
        stmt = stmt.limit(criteria.limit)
    return stmt


def select_records(session: Session, criteria: Criteria) -> list[Selected]:
    """The records matching ``criteria``, oldest upload first.

    Raises
    ------
    InputError
        Invalid criteria.
    NotFoundError
        The clinic does not exist.
    """
    criteria.check()
    rows = session.execute(_query(session, criteria)).all()
    ids = [r[0] for r in rows]
    signed: set[str] = set()
    for chunk in _chunks(ids, 500):
        signed.update(
            session.scalars(
                select(ReviewItem.record_id).where(
                    ReviewItem.record_id.in_(chunk), ReviewItem.status == "signed"
                )
            )
        )
    return [
        Selected(rid, clinic, created, status, version, rid in signed)
        for rid, clinic, created, status, version in rows
    ]


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class RequeueReport:
    """What :func:`requeue` did."""

    batch: str
    queued: int = 0
    skipped: int = 0  # no longer in a final state when its batch ran
    message_ids: list[str] = field(default_factory=list)


def requeue(
    sessions: sessionmaker[Session],
    record_ids: Sequence[str],
    *,
    batch_size: int = 200,
    batch_tag: str,
    on_batch: Callable[[int, int], None] | None = None,
    on_commit: Callable[[], None] | None = None,
) -> RequeueReport:
    """Queue records again for analysis, one transaction per batch.

    Each batch moves its records that are still in a final state to ``queued`` (attempts
    and error reset) and adds one outbox ``records`` message per record, carrying
    ``{"record_id", "reprocess": batch_tag}``; the relay publishes after the commit.

    Parameters
    ----------
    sessions : sessionmaker
        Database sessions.
    record_ids : sequence of str
        Records to queue (from :func:`select_records`).
    batch_size : int
        Records per transaction.
    batch_tag : str
        Identifies this reprocess run in the messages.
    on_batch : callable, optional
        Called after each commit with (queued, skipped) of that batch.
    on_commit : callable, optional
        Wakes an in-process relay after each commit.

    Returns
    -------
    RequeueReport
        Counts and the message ids (to follow progress).
    """
    if batch_size < 1:
        raise InputError(f"batch size must be >= 1, got {batch_size}")
    report = RequeueReport(batch=batch_tag)
    for chunk in _chunks(record_ids, batch_size):
        with sessions() as session, session.begin():
            claim = (
                update(Record)
                .where(Record.id.in_(chunk), Record.status.in_(TERMINAL_STATUSES))
                .values(status="queued", attempts=0, error=None)
                .returning(Record.id)
            )
            claimed = list(session.scalars(claim))
            for rid in claimed:
                msg = enqueue(session, "records", "", {"record_id": rid, "reprocess": batch_tag})
                report.message_ids.append(msg.message_id)
        report.queued += len(claimed)
        report.skipped += len(chunk) - len(claimed)
        if on_commit is not None:
            on_commit()
        if on_batch is not None:
            on_batch(len(claimed), len(chunk) - len(claimed))
    return report


def progress_of(session: Session, message_ids: Sequence[str]) -> int:
    """How many of the reprocess messages a worker has finished (inbox rows)."""
    done = 0
    for chunk in _chunks(message_ids, 500):
        done += int(
            session.scalar(
                select(func.count(InboxEntry.id)).where(InboxEntry.message_id.in_(chunk))
            )
            or 0
        )
    return done
