"""Alert lifecycle in one transaction: open, ensure, withdraw, acknowledge, view.

Each function works in the caller's session: :func:`open_alert` starts the timers
(:class:`~models.db_review.AlertState`) and queues the ``initial`` notifications;
:func:`acknowledge` stops them. The sweep that escalates and delivers is
:class:`alerts.service.AlertService`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alerts.policy import AlertPolicy, clinic_targets
from alerts.readback import check_read_back
from models.db import Alert, Record, Result, new_id
from models.db_review import AlertNotification, AlertState, ClinicNotifySettings, as_utc
from models.errors import NotFoundError

__all__ = [
    "_ACTIVE_KINDS",
    "_queue",
    "acknowledge",
    "alert_view",
    "ensure_alerted",
    "open_alert",
    "withdraw_code",
]

#: Logger name kept from before the split out of :mod:`alerts.service`.
log = logging.getLogger("alerts.service")

_ACTIVE_KINDS = ("initial", "reminder", "escalation")


def _queue(
    session: Session,
    alert_id: int,
    kind: str,
    audience: str,
    targets: Iterable[tuple[str, str | None]],
    now: datetime,
    note: str | None = None,
) -> None:
    for channel, target in targets:
        session.add(
            AlertNotification(
                alert_id=alert_id,
                kind=kind,
                audience=audience,
                channel=channel,
                target=target,
                note=note,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


def _cancel_pending(session: Session, alert_id: int) -> None:
    session.execute(
        update(AlertNotification)
        .where(
            AlertNotification.alert_id == alert_id,
            AlertNotification.status == "pending",
            AlertNotification.kind.in_(_ACTIVE_KINDS),
        )
        .values(status="cancelled")
    )


def open_alert(
    session: Session,
    alert: Alert,
    policy: AlertPolicy,
    *,
    now: datetime,
    source: str = "analysis",
) -> AlertState:
    """Start the timers of a new alert and queue its first notifications (same txn).

    Parameters
    ----------
    session : Session
        The transaction that stored ``alert`` (flushed, so it has an id).
    alert : Alert
        The new alert.
    policy : AlertPolicy
        Acknowledgement timeout (a clinic's own timeout wins).
    now : datetime
        Current time (UTC).
    source : {"analysis", "review", "adopted"}
        Who raised it.
    """
    result = session.scalar(select(Result).where(Result.record_id == alert.record_id))
    cfg = session.get(ClinicNotifySettings, alert.clinic_id)
    timeout_min = (cfg.ack_timeout_min if cfg else None) or policy.ack_timeout_min
    created = as_utc(alert.created_at) or now
    state = AlertState(
        alert_id=alert.id,
        source=source,
        analysed_at=as_utc(result.created_at) if result else created,
        due_at=created + timedelta(minutes=timeout_min),
        escalations=0,
        withdrawn_codes=[],
    )
    session.add(state)
    _queue(session, alert.id, "initial", "clinic", clinic_targets(session, alert.clinic_id), now)
    return state


def ensure_alerted(
    session: Session,
    policy: AlertPolicy,
    *,
    record_id: str,
    clinic_id: str,
    codes: Iterable[str],
    now: datetime,
) -> Alert | None:
    """Create an alert for the critical ``codes`` of a record not alerted yet.

    Used when a reviewer confirms (or upgrades to) a critical finding: no critical
    value may be missed because the automatic alert never came or was withdrawn.

    Returns
    -------
    Alert or None
        The new alert, or None when every code is already covered by an alert.
    """
    covered: set[str] = set()
    rows = session.execute(
        select(Alert, AlertState)
        .outerjoin(AlertState, AlertState.alert_id == Alert.id)
        .where(Alert.record_id == record_id)
    ).all()
    for alert, state in rows:
        withdrawn = set(state.withdrawn_codes or []) if state else set()
        covered |= set(alert.codes) - withdrawn
    missing = [c for c in dict.fromkeys(codes) if c not in covered]
    if not missing:
        return None
    alert = Alert(
        message_id=f"review-{new_id()}",
        record_id=record_id,
        clinic_id=clinic_id,
        codes=missing,
        status="new",
        created_at=now,
    )
    session.add(alert)
    session.flush()
    open_alert(session, alert, policy, now=now, source="review")
    log.warning(
        "reviewer confirmed critical %s on record %s: alert %d", missing, record_id, alert.id
    )
    return alert


def withdraw_code(
    session: Session, policy: AlertPolicy, *, record_id: str, code: str, note: str, now: datetime
) -> list[int]:
    """A reviewer overrode critical ``code`` of a record: correct the alerts that carry it.

    Stops escalation when no critical code is left; queues a ``correction`` to the
    clinic (and on-call if it was escalated) when the alert had been sent.

    Returns
    -------
    list of int
        Ids of the alerts changed.
    """
    changed: list[int] = []
    rows = session.execute(
        select(Alert, AlertState)
        .join(AlertState, AlertState.alert_id == Alert.id)
        .where(Alert.record_id == record_id)
    ).all()
    for alert, state in rows:
        withdrawn = list(state.withdrawn_codes or [])
        if code not in alert.codes or code in withdrawn:
            continue
        state.withdrawn_codes = [*withdrawn, code]
        changed.append(alert.id)
        if set(alert.codes) <= set(state.withdrawn_codes):
            alert.status = "withdrawn"
            state.due_at = None
            _cancel_pending(session, alert.id)
        was_sent = session.scalar(
            select(AlertNotification.id).where(
                AlertNotification.alert_id == alert.id,
                AlertNotification.audience == "clinic",
                AlertNotification.status == "sent",
            )
        )
        if was_sent is not None:
            targets = clinic_targets(session, alert.clinic_id)
            _queue(session, alert.id, "correction", "clinic", targets, now, note)
            if state.escalations:
                _queue(
                    session, alert.id, "correction", "oncall", policy.oncall_targets(), now, note
                )
    return changed


def acknowledge(
    session: Session,
    *,
    clinic_id: str,
    alert_id: int,
    received_by: str,
    read_back: str,
    now: datetime,
) -> bool:
    """Record the clinic's acknowledgement with the clinician's read-back.

    Returns
    -------
    bool
        True if recorded now, False if the alert was already acknowledged (unchanged).

    Raises
    ------
    NotFoundError
        No such alert for this clinic (another clinic's alert is "not found" too).
    ReadBackError
        The read-back does not repeat every active critical code.
    """
    alert = session.get(Alert, alert_id)
    if alert is None or alert.clinic_id != clinic_id:
        raise NotFoundError(f"alert {alert_id} not found")
    state = session.get(AlertState, alert_id)
    if state is None:
        raise NotFoundError(f"alert {alert_id} is not tracked yet; retry in a few seconds")
    if state.acked_at is not None:
        return False
    withdrawn = set(state.withdrawn_codes or [])
    active = [c for c in alert.codes if c not in withdrawn] or list(alert.codes)
    check_read_back(read_back, active)
    state.acked_at = now
    state.acked_by = received_by.strip()
    state.read_back = read_back.strip()
    state.due_at = None
    if alert.status != "withdrawn":
        alert.status = "acked"
    _cancel_pending(session, alert_id)
    return True


def alert_view(session: Session, alert: Alert, state: AlertState | None) -> dict[str, Any]:
    """The alert with its timeline (what the API and the report show)."""
    sent = session.execute(
        select(AlertNotification.kind, AlertNotification.audience, AlertNotification.sent_at)
        .where(AlertNotification.alert_id == alert.id, AlertNotification.status == "sent")
        .order_by(AlertNotification.sent_at)
    ).all()
    notified = [as_utc(at) for kind, aud, at in sent if aud == "clinic" and kind == "initial"]
    record = session.get(Record, alert.record_id)
    withdrawn = list(state.withdrawn_codes or []) if state else []
    return {
        "id": alert.id,
        "record_id": alert.record_id,
        "clinic_id": alert.clinic_id,
        "clinic_ref": record.clinic_ref if record else None,
        "patient_id": record.patient_id if record else None,
        "codes": list(alert.codes),
        "withdrawn_codes": withdrawn,
        "status": alert.status,
        "source": state.source if state else None,
        "created_at": as_utc(alert.created_at),
        "analysed_at": as_utc(state.analysed_at) if state else None,
        "notified_at": notified[0] if notified else None,
        "ack_due_at": as_utc(state.due_at) if state else None,
        "escalations": state.escalations if state else 0,
        "acked_at": as_utc(state.acked_at) if state else None,
        "acked_by": state.acked_by if state else None,
        "read_back": state.read_back if state else None,
    }
