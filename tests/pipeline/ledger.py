"""The ledger: for every accepted upload, was its effect stored exactly once?"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.db import (
    TERMINAL_STATUSES,
    Alert,
    InboxEntry,
    OutboxMessage,
    Record,
    Result,
    ReviewItem,
)


def _counts(session: Session, column: Any, ids: set[str]) -> Counter[str]:
    return Counter(r for r in session.scalars(select(column)) if r in ids)


def ledger(sessions: sessionmaker[Session], accepted: Sequence[str]) -> dict[str, Any]:
    """Lost records and duplicated effects among ``accepted`` record ids."""
    ids = set(accepted)
    with sessions() as s:
        status = dict(s.execute(select(Record.id, Record.status).where(Record.id.in_(ids))).all())
        results = _counts(s, Result.record_id, ids)
        inbox = _counts(s, InboxEntry.record_id, ids)
        published = Counter(
            b["record_id"]
            for b in s.scalars(
                select(OutboxMessage.body).where(OutboxMessage.exchange == "results")
            )
            if b.get("record_id") in ids
        )
        alerts = _counts(s, Alert.record_id, ids)
        review = _counts(s, ReviewItem.record_id, ids)
        severity = dict(s.execute(select(Result.record_id, Result.severity)).all())
    lost = sorted(
        r
        for r in ids
        if status.get(r) not in TERMINAL_STATUSES or (status[r] == "done" and results[r] != 1)
    )
    dup = {
        name: sum(c - 1 for c in counter.values() if c > 1)
        for name, counter in (
            ("results", results),
            ("inbox", inbox),
            ("result_messages", published),
            ("alerts", alerts),
            ("review_items", review),
        )
    }
    want_alerts = {r for r in ids if severity.get(r) == "critical"}
    want_review = {
        r
        for r in ids
        if severity.get(r) in ("critical", "abnormal", "unanalysable")
        or status.get(r) in ("needs_review", "failed")
    }
    return {
        "accepted": len(ids),
        "lost": len(lost),
        "lost_ids": lost[:10],
        "duplicated": sum(dup.values()),
        "duplicated_by_kind": dup,
        "missing_alerts": len(want_alerts - set(alerts)),
        "missing_review": len(want_review - set(review)),
        "statuses": Counter(status.values()),
    }


def settled_ledger(
    sessions: sessionmaker[Session], accepted: Sequence[str], timeout_s: float = 30.0
) -> dict[str, Any]:
    """The ledger once the downstream consumers have caught up (or the timeout passed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        book = ledger(sessions, accepted)
        if (
            book["missing_alerts"] == 0 and book["missing_review"] == 0
        ) or time.monotonic() > deadline:
            return book
        time.sleep(0.3)
