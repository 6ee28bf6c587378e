"""Audit trail: one append-only row per reviewer view or change, in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db_review import AuditEntry
from review.auth import Actor

__all__ = ["audit", "audit_rows"]


def audit(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    now: datetime,
    record_id: str | None = None,
    item_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    remote_addr: str | None = None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Add an audit row to ``session`` (committed with the action it records).

    Parameters
    ----------
    session : Session
        The transaction of the view or change.
    actor : Actor or None
        Who; None for a failed login (``actor_name`` then names the attempt).
    action : str
        ``view_worklist``, ``view_item``, ``view_trace``, ``view_hr_trend``,
        ``view_prior`` and ``view_prior_trace`` (record = the prior ECG when shown),
        ``view_audit``, ``claim``, ``release``, ``confirm``, ``override``, ``add_finding``,
        ``sign``, ``login``, ``login_failed``, ``logout``.
    now : datetime
        When (UTC).
    record_id, item_id : optional
        The record and worklist item concerned.
    before, after : dict, optional
        The values before and after a change.
    remote_addr : str, optional
        Client address.
    actor_name : str, optional
        Name to record when there is no authenticated actor.
    """
    entry = AuditEntry(
        at=now,
        reviewer_id=actor.reviewer_id if actor else None,
        actor=(actor.name if actor else actor_name or "?")[:100],
        action=action,
        record_id=record_id,
        item_id=item_id,
        before=before,
        after=after,
        remote_addr=remote_addr,
    )
    session.add(entry)
    return entry


def audit_rows(
    session: Session, *, record_id: str | None = None, limit: int = 500
) -> list[AuditEntry]:
    """Newest audit rows first, optionally for one record."""
    stmt = select(AuditEntry)
    if record_id:
        stmt = stmt.where(AuditEntry.record_id == record_id)
    return list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))
