"""Alert service: durable notifications, escalation timers in the DB, acknowledgement.

Every alert row gets an :class:`~models.db_review.AlertState` (timers) and one
``initial`` notification row per clinic channel, in the transaction that created the
alert. :meth:`AlertService.sweep` (run by :class:`AlertLoop` every
``ECG_ALERT_SWEEP_S`` and woken at once when an alert is stored) then

1. adopts alerts that have no state yet (written by an older consumer),
2. escalates critical alerts not acknowledged by ``due_at``: a ``reminder`` to the
   clinic and an ``escalation`` to the centre's on-call, repeated every
   ``ECG_ALERT_REPEAT_MIN`` until acknowledged,
3. delivers pending notifications, retrying failures every ``ECG_ALERT_RETRY_S``; after
   ``ECG_ALERT_MAX_ATTEMPTS`` a clinic notification is marked failed and on-call is
   told at once.

All state is in the database, so a restart loses nothing, and several processes may
sweep at once (each row is leased by a conditional UPDATE before it is sent).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Channels, NotifyError
from alerts.message import build_message
from alerts.readback import check_read_back
from models.db import Alert, Clinic, Record, Result, new_id, utcnow
from models.db_review import AlertNotification, AlertState, ClinicNotifySettings, as_utc
from models.errors import NotFoundError
from models.settings import Settings

__all__ = [
    "AlertLoop",
    "AlertPolicy",
    "AlertService",
    "Clock",
    "acknowledge",
    "alert_view",
    "clinic_targets",
    "ensure_alerted",
    "open_alert",
    "withdraw_code",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: How long a sender owns a notification row before another sweep may retry it, s.
_LEASE_S = 120.0
_ACTIVE_KINDS = ("initial", "reminder", "escalation")


@dataclass(frozen=True)
class AlertPolicy:
    """Timing and on-call targets (from :class:`~models.settings.Settings`)."""

    ack_timeout_min: float = 10.0
    repeat_min: float = 10.0
    retry_s: float = 30.0
    max_attempts: int = 5
    notify_target_min: float = 5.0
    oncall_webhook_url: str | None = None
    oncall_email: str | None = None
    public_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertPolicy:
        """The policy configured by ``ECG_ALERT_*``, ``ECG_ONCALL_*``, ``ECG_PUBLIC_URL``."""
        return cls(
            ack_timeout_min=settings.alert_ack_timeout_min,
            repeat_min=settings.alert_repeat_min,
            retry_s=settings.alert_retry_s,
            max_attempts=settings.alert_max_attempts,
            notify_target_min=settings.alert_notify_target_min,
            oncall_webhook_url=settings.oncall_webhook_url,
            oncall_email=settings.oncall_email,
            public_url=settings.public_url,
        )

    def oncall_targets(self) -> list[tuple[str, str | None]]:
        """(channel, target) pairs of the centre's on-call; the log when none is set."""
        targets: list[tuple[str, str | None]] = []
        if self.oncall_webhook_url:
            targets.append(("webhook", self.oncall_webhook_url))
        if self.oncall_email:
            targets.append(("email", self.oncall_email))
        return targets or [("log", "on-call")]


def clinic_targets(session: Session, clinic_id: str) -> list[tuple[str, str | None]]:
    """(channel, target) pairs configured for a clinic; the log channel when none."""
    cfg = session.get(ClinicNotifySettings, clinic_id)
    if cfg is None or not cfg.channels:
        return [("log", f"clinic {clinic_id}")]
    targets: list[tuple[str, str | None]] = []
    for channel in cfg.channels:
        if channel == "webhook":
            targets.append(("webhook", cfg.webhook_url))
        elif channel == "email":
            targets.append(("email", cfg.email))
        else:
            targets.append(("log", f"clinic {clinic_id}"))
    return targets


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


@dataclass
class SweepStats:
    """What one sweep did."""

    adopted: int = 0
    escalated: int = 0
    sent: int = 0
    failed: int = 0


@dataclass
class AlertService:
    """Escalation sweep and notification delivery over the database.

    Parameters
    ----------
    sessions : sessionmaker
        Database sessions.
    policy : AlertPolicy
        Timeouts and on-call targets.
    channels : Channels
        Channel objects (webhook, email, log).
    clock : callable
        Current UTC time (tests inject a fake clock).
    """

    sessions: sessionmaker[Session]
    policy: AlertPolicy
    channels: Channels
    clock: Clock = utcnow

    @classmethod
    def from_settings(cls, sessions: sessionmaker[Session], settings: Settings) -> AlertService:
        """A service configured from settings."""
        return cls(sessions, AlertPolicy.from_settings(settings), Channels.from_settings(settings))

    def sweep(self) -> SweepStats:
        """Adopt, escalate, deliver (one pass)."""
        stats = SweepStats()
        stats.adopted = self.adopt_untracked()
        stats.escalated = self.escalate_due()
        stats.sent, stats.failed = self.dispatch()
        return stats

    def adopt_untracked(self) -> int:
        """Start timers for alerts that have none (robust to older consumers)."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            orphans = session.scalars(
                select(Alert)
                .outerjoin(AlertState, AlertState.alert_id == Alert.id)
                .where(AlertState.alert_id.is_(None))
                .limit(500)
            ).all()
            for alert in orphans:
                open_alert(session, alert, self.policy, now=now, source="adopted")
        return len(orphans)

    def escalate_due(self) -> int:
        """Escalate every unacknowledged alert past its ``due_at``."""
        now = self.clock()
        done = 0
        with self.sessions() as session, session.begin():
            due = session.execute(
                select(AlertState.alert_id, AlertState.escalations).where(
                    AlertState.acked_at.is_(None),
                    AlertState.due_at.is_not(None),
                    AlertState.due_at <= now,
                )
            ).all()
            for alert_id, escalations in due:
                taken = session.execute(
                    update(AlertState)
                    .where(
                        AlertState.alert_id == alert_id,
                        AlertState.escalations == escalations,
                        AlertState.acked_at.is_(None),
                    )
                    .values(
                        escalations=escalations + 1,
                        due_at=now + timedelta(minutes=self.policy.repeat_min),
                    )
                )
                if _rowcount(taken) != 1:
                    continue  # another sweeper escalated it
                alert = session.get(Alert, alert_id)
                assert alert is not None
                alert.status = "escalated"
                late = f"not acknowledged; escalation {escalations + 1}"
                _queue(
                    session,
                    alert_id,
                    "reminder",
                    "clinic",
                    clinic_targets(session, alert.clinic_id),
                    now,
                    late,
                )
                _queue(
                    session,
                    alert_id,
                    "escalation",
                    "oncall",
                    self.policy.oncall_targets(),
                    now,
                    late,
                )
                log.error("alert %d (record %s) %s", alert_id, alert.record_id, late)
                done += 1
        return done

    def dispatch(self, limit: int = 200) -> tuple[int, int]:
        """Send due notifications; returns (sent, failed for good).

        A second round sends what the first one queued (an on-call delivery-failure
        notice goes out in the same pass).
        """
        sent = failed = 0
        seen: set[int] = set()
        for _round in range(3):
            now = self.clock()
            with self.sessions() as session:
                due = session.execute(
                    select(AlertNotification.id, AlertNotification.attempts)
                    .where(
                        AlertNotification.status == "pending",
                        AlertNotification.next_attempt_at <= now,
                    )
                    .order_by(AlertNotification.id)
                    .limit(limit)
                ).all()
            fresh = [(i, a) for i, a in due if i not in seen]
            if not fresh:
                break
            for notif_id, attempts in fresh:
                seen.add(notif_id)
                outcome = self._deliver(notif_id, attempts)
                sent += outcome == "sent"
                failed += outcome == "failed"
        return sent, failed

    def _deliver(self, notif_id: int, attempts: int) -> str:
        now = self.clock()
        with self.sessions() as session, session.begin():
            taken = session.execute(
                update(AlertNotification)
                .where(
                    AlertNotification.id == notif_id,
                    AlertNotification.status == "pending",
                    AlertNotification.attempts == attempts,
                )
                .values(attempts=attempts + 1, next_attempt_at=now + timedelta(seconds=_LEASE_S))
            )
            if _rowcount(taken) != 1:
                return "skipped"
            notif = session.get(AlertNotification, notif_id)
            assert notif is not None
            alert = session.get(Alert, notif.alert_id)
            state = session.get(AlertState, notif.alert_id)
            assert alert is not None
            assert state is not None
            if notif.kind in _ACTIVE_KINDS and (
                state.acked_at is not None or alert.status == "withdrawn"
            ):
                notif.status = "cancelled"
                return "cancelled"
            record = session.get(Record, alert.record_id)
            clinic = session.get(Clinic, alert.clinic_id)
            assert record is not None
            assert clinic is not None
            result = session.scalar(select(Result).where(Result.record_id == record.id))
            findings = list((result.result_json if result else {}).get("findings", []))
            cfg = session.get(ClinicNotifySettings, alert.clinic_id)
            secret = cfg.webhook_secret if cfg and notif.audience == "clinic" else None
            message = build_message(
                kind=notif.kind,
                audience=notif.audience,
                alert=alert,
                state=state,
                record=record,
                clinic=clinic,
                findings=findings,
                public_url=self.policy.public_url,
                note=notif.note,
            )
            channel_name, target = notif.channel, notif.target
        error: str | None = None
        try:
            self.channels.get(channel_name).send(target, message, secret=secret)
        except NotifyError as exc:
            error = str(exc)
        done_at = self.clock()
        with self.sessions() as session, session.begin():
            notif = session.get(AlertNotification, notif_id)
            assert notif is not None
            if error is None:
                notif.status = "sent"
                notif.sent_at = done_at
                notif.last_error = None
                alert = session.get(Alert, notif.alert_id)
                if alert is not None and alert.status == "new" and notif.audience == "clinic":
                    alert.status = "notified"
                return "sent"
            notif.last_error = error
            log.error(
                "notification %d (%s %s) failed: %s", notif_id, notif.kind, channel_name, error
            )
            if notif.attempts < self.policy.max_attempts:
                notif.next_attempt_at = done_at + timedelta(seconds=self.policy.retry_s)
                return "retry"
            notif.status = "failed"
            if notif.audience == "clinic":
                note = f"{notif.kind} notification via {channel_name} to {target} failed: {error}"
                _queue(
                    session,
                    notif.alert_id,
                    "failure",
                    "oncall",
                    self.policy.oncall_targets(),
                    done_at,
                    note,
                )
            return "failed"


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class AlertLoop:
    """Runs :meth:`AlertService.sweep` every ``interval_s``; :meth:`kick` runs it now."""

    service: AlertService
    interval_s: float = 15.0
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    passes: int = 0

    def kick(self) -> None:
        """Wake the loop (a new alert or a change needs notifying now)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current pass and return from :meth:`run`."""
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        """Sweep until stopped; errors are logged and the next pass retries."""
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.service.sweep()
            except Exception:  # a database outage must not kill the timer thread
                log.exception("alert sweep failed; retrying in %.0f s", self.interval_s)
            self.passes += 1
            self._wake.wait(self.interval_s)
