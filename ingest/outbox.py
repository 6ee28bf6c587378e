"""Transactional outbox: rows written with a state change, published after commit.

:func:`enqueue` adds a message to the caller's open session (same transaction as the
state change). :class:`OutboxRelay` publishes committed, unsent rows in id order with
publisher confirms and marks them sent only after the confirm, so a crash between the
two re-publishes (at-least-once); every consumer deduplicates by message id.
On PostgreSQL several relays may run: rows are claimed with ``FOR UPDATE SKIP LOCKED``.

Wake-up instead of polling: :func:`enqueue` marks the session, and on PostgreSQL also
sends ``NOTIFY ecg_outbox`` in the same transaction (delivered at commit, to every
process). A relay wakes on its own process's commits (:func:`wake_on_commit`) and on
the notification (a ``LISTEN`` connection), and otherwise polls every ``poll_s``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ingest.messaging import RESULT_ROUTES, Broker, OutgoingMessage, Route
from models.db import Alert, InboxEntry, OutboxMessage, Record, ReviewItem, new_id, utcnow
from models.errors import PipelineError

__all__ = [
    "NOTIFY_CHANNEL",
    "OutboxRelay",
    "enqueue",
    "enqueue_record",
    "recover_unfinished",
    "wake_on_commit",
]

#: PostgreSQL notification channel: an outbox row was committed.
NOTIFY_CHANNEL = "ecg_outbox"
_PENDING = "ecg_outbox_pending"
_WAKERS = "_ecg_outbox_wakers"

log = logging.getLogger(__name__)


#: Built once (compiled forms cached by SQLAlchemy): the hot paths enqueue per upload.
_INSERT_OUTBOX = insert(OutboxMessage.__table__)  # type: ignore[arg-type]
_NOTIFY = text(f"NOTIFY {NOTIFY_CHANNEL}")
_MARK_SENT = (
    OutboxMessage.__table__.update()  # type: ignore[attr-defined]
    .where(OutboxMessage.__table__.c.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("now"))
)


def enqueue(
    session: Session, route: Route, routing_key: str, body: dict[str, Any]
) -> OutboxMessage:
    """Add an outbox message to the session's transaction (published after commit).

    A Core INSERT (no ORM unit of work for a row this transaction never reads back);
    the returned object is a detached copy of the row's message fields.
    """
    msg = OutboxMessage(message_id=new_id(), exchange=route, routing_key=routing_key, body=body)
    session.execute(
        _INSERT_OUTBOX,
        {
            "message_id": msg.message_id,
            "exchange": route,
            "routing_key": routing_key,
            "body": body,
            "created_at": utcnow(),
        },
    )
    session.info[_PENDING] = True  # wakes a relay of this process after the commit
    if session.get_bind().dialect.name == "postgresql":
        # delivered at commit to every listening relay; repeats in one transaction fold
        session.execute(_NOTIFY)
    return msg


def enqueue_record(session: Session, record_id: str) -> OutboxMessage:
    """Queue a record for analysis (claim check: the id only)."""
    return enqueue(session, "records", "", {"record_id": record_id})


def wake_on_commit(sessions: sessionmaker[Session], wake: Callable[[], None]) -> Callable[[], None]:
    """Call ``wake`` after every commit (in this process) that added outbox rows.

    Returns a function that unregisters ``wake`` again.
    """
    wakers: list[Callable[[], None]] | None = getattr(sessions, _WAKERS, None)
    if wakers is None:
        wakers = []
        setattr(sessions, _WAKERS, wakers)

        def after_commit(session: Session) -> None:
            if session.info.pop(_PENDING, False):
                for fn in list(wakers):
                    fn()

        def after_rollback(session: Session, _tx: Any) -> None:
            session.info.pop(_PENDING, None)

        event.listen(sessions, "after_commit", after_commit)
        event.listen(sessions, "after_soft_rollback", after_rollback)
    wakers.append(wake)
    return lambda: wakers.remove(wake) if wake in wakers else None


class OutboxRelay:
    """Publishes committed outbox rows; run :meth:`run` in a thread or its own process."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        broker: Broker,
        *,
        poll_s: float = 0.05,
        batch: int = 200,
        listen_url: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._broker = broker
        self._poll_s = poll_s
        self._batch = batch
        self._listen_url = listen_url
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.published = 0
        self._select: Any = None
        self._unregister = wake_on_commit(sessions, self.wake)

    def wake(self) -> None:
        """Publish now (an outbox row was committed); thread-safe."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the current batch."""
        self._unregister()
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        """Publish until stopped; broker outages are retried, never skipped."""
        if self._listen_url:
            threading.Thread(target=self._listen, name="outbox-listen", daemon=True).start()
        publisher = self._broker.publisher()
        try:
            while not self._stop.is_set():
                try:
                    sent = self.publish_batch(publisher)
                except PipelineError as exc:
                    log.warning("outbox relay: %s; retrying", exc)
                    sent = 0
                    publisher.close()
                    publisher = self._broker.publisher()
                    self._stop.wait(1.0)
                if sent < self._batch:
                    # a short batch took every visible row: no second, empty query; a
                    # commit after the clear() below (this process or NOTIFY) re-wakes
                    self._wake.wait(self._poll_s)
                    self._wake.clear()  # before the next query: a later commit re-wakes
                    publisher.idle(0)  # heartbeats
        finally:
            publisher.close()

    def _listen(self) -> None:
        """Wake on ``NOTIFY ecg_outbox`` from any process (PostgreSQL only)."""
        import psycopg

        assert self._listen_url is not None
        url = make_url(self._listen_url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._wake.set()
            except psycopg.Error as exc:
                log.warning("outbox LISTEN connection lost (%s); polling meanwhile", exc)
                self._stop.wait(1.0)

    def publish_batch(self, publisher: Any) -> int:
        """Publish up to ``batch`` unsent rows; returns how many were confirmed."""
        with self._sessions() as session, session.begin():
            if self._select is None:  # built once per relay (Core: no ORM objects)
                table = OutboxMessage.__table__
                stmt = (
                    select(
                        table.c.id,
                        table.c.exchange,
                        table.c.routing_key,
                        table.c.body,
                        table.c.message_id,
                    )
                    .where(table.c.sent_at.is_(None))
                    .order_by(table.c.id)
                    .limit(self._batch)
                )
                if session.get_bind().dialect.name == "postgresql":
                    stmt = stmt.with_for_update(skip_locked=True)
                self._select = stmt
            rows = list(session.execute(self._select))
            if not rows or self._stop.is_set():
                return 0
            report = publisher.publish_many(
                [
                    OutgoingMessage(
                        cast(Route, row.exchange), row.routing_key, row.body, row.message_id
                    )
                    for row in rows
                ]
            )
            # mark what was confirmed even if other messages of the batch failed
            sent = [rows[i].id for i in report.confirmed]
            if sent:
                session.execute(_MARK_SENT, {"ids": sent, "now": utcnow()})
        self.published += len(sent)
        if report.errors:
            raise PipelineError(
                f"{len(rows) - len(sent)} of {len(rows)} messages not published: "
                + "; ".join(report.errors[:3])
            )
        return len(sent)


def _rowcount(session: Session, stmt: Any) -> int:
    return int(cast("CursorResult[Any]", session.execute(stmt)).rowcount)


def recover_unfinished(session: Session) -> int:
    """Re-publish sent messages whose effect is not stored (embedded in-memory queue only).

    With the in-process queue a message held in memory dies with the process. At start-up
    every ``records`` message without an inbox row, and every alert/review result
    message without its worklist row, is marked unsent again; consumers are idempotent by
    message id, so re-publishing is safe. Returns the number of messages revived.
    """
    done_ids = select(InboxEntry.message_id)
    revived = _rowcount(
        session,
        update(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.exchange == "records",
            OutboxMessage.message_id.not_in(done_ids),
        )
        .values(sent_at=None),
    )
    alerted = select(Alert.message_id)
    reviewed = select(ReviewItem.message_id)
    revived += _rowcount(
        session,
        update(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.exchange == "results",
            OutboxMessage.routing_key.in_(
                [key for key, queues in RESULT_ROUTES.items() if "review" in queues]
            ),
            OutboxMessage.message_id.not_in(reviewed)
            | (
                (OutboxMessage.routing_key == "result.critical")
                & OutboxMessage.message_id.not_in(alerted)
            ),
        )
        .values(sent_at=None),
    )
    # a record queued with no pending or consumed message (should not happen): re-enqueue
    pending = select(Record.id).where(Record.status.in_(["queued", "analysing"]))
    for record_id in session.scalars(pending):
        has_msg = session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.exchange == "records",
                OutboxMessage.body["record_id"].as_string() == record_id,
                OutboxMessage.message_id.not_in(done_ids),
            )
            .limit(1)
        )
        if has_msg is None:
            enqueue_record(session, record_id)
            revived += 1
    return int(revived)
