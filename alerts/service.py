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
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Channels, NotifyError
from alerts.lifecycle import (
    _ACTIVE_KINDS,
    _queue,
    acknowledge,
    alert_view,
    ensure_alerted,
    open_alert,
    withdraw_code,
)
from alerts.message import build_message
from alerts.policy import AlertPolicy, Clock, clinic_targets
from models.db import Alert, Clinic, Record, Result, utcnow
from models.db_review import AlertNotification, AlertState, ClinicNotifySettings
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

#: How long a sender owns a notification row before another sweep may retry it, s.
_LEASE_S = 120.0


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
