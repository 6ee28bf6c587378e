"""Timeliness report of critical-value alerts: analysed -> notified -> acknowledged."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.service import alert_view
from models.db import Alert
from models.db_review import AlertState

__all__ = ["AlertTiming", "TimelinessReport", "timeliness"]


@dataclass(frozen=True)
class AlertTiming:
    """One alert's timeline; minutes are ``None`` when the step has not happened."""

    alert_id: int
    record_id: str
    clinic_id: str
    codes: list[str]
    status: str
    source: str | None
    analysed_at: datetime | None
    notified_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    escalations: int
    min_to_notify: float | None
    min_to_ack: float | None
    notify_in_target: bool
    ack_in_target: bool


@dataclass(frozen=True)
class TimelinessReport:
    """All alerts since a time, the share within target and the unacknowledged ones."""

    since: datetime | None
    notify_target_min: float
    ack_target_min: float
    alerts: list[AlertTiming]

    @property
    def n(self) -> int:
        """Number of alerts."""
        return len(self.alerts)

    @property
    def share_notified_in_target(self) -> float | None:
        """Fraction notified within ``notify_target_min`` of the analysis (None if no alert)."""
        return sum(a.notify_in_target for a in self.alerts) / self.n if self.alerts else None

    @property
    def share_acked_in_target(self) -> float | None:
        """Fraction acknowledged within ``ack_target_min`` of the notification."""
        live = [a for a in self.alerts if a.status != "withdrawn"]
        return sum(a.ack_in_target for a in live) / len(live) if live else None

    @property
    def unacknowledged(self) -> list[AlertTiming]:
        """Alerts still waiting for the clinic's acknowledgement (withdrawn ones excluded)."""
        return [a for a in self.alerts if a.acked_at is None and a.status != "withdrawn"]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dictionary (times as ISO strings)."""

        def enc(value: Any) -> Any:
            return value.isoformat() if isinstance(value, datetime) else value

        return {
            "since": enc(self.since),
            "notify_target_min": self.notify_target_min,
            "ack_target_min": self.ack_target_min,
            "n_alerts": self.n,
            "share_notified_in_target": self.share_notified_in_target,
            "share_acked_in_target": self.share_acked_in_target,
            "unacknowledged": [a.alert_id for a in self.unacknowledged],
            "alerts": [{k: enc(v) for k, v in asdict(a).items()} for a in self.alerts],
        }


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60.0


def timeliness(
    session: Session,
    *,
    since: datetime | None,
    notify_target_min: float,
    ack_target_min: float,
) -> TimelinessReport:
    """Build the report from the alert tables.

    Parameters
    ----------
    session : Session
        Read-only session.
    since : datetime or None
        Only alerts created at or after this time (UTC); all when None.
    notify_target_min : float
        Target minutes from analysis to the clinic's first notification.
    ack_target_min : float
        Target minutes from notification to acknowledgement.
    """
    stmt = select(Alert, AlertState).outerjoin(AlertState, AlertState.alert_id == Alert.id)
    if since is not None:
        stmt = stmt.where(Alert.created_at >= since)
    rows = []
    for alert, state in session.execute(stmt.order_by(Alert.id)).all():
        v = alert_view(session, alert, state)
        to_notify = _minutes(v["analysed_at"], v["notified_at"])
        to_ack = _minutes(v["notified_at"], v["acked_at"])
        rows.append(
            AlertTiming(
                alert_id=alert.id,
                record_id=alert.record_id,
                clinic_id=alert.clinic_id,
                codes=v["codes"],
                status=v["status"],
                source=v["source"],
                analysed_at=v["analysed_at"],
                notified_at=v["notified_at"],
                acked_at=v["acked_at"],
                acked_by=v["acked_by"],
                escalations=v["escalations"],
                min_to_notify=to_notify,
                min_to_ack=to_ack,
                notify_in_target=to_notify is not None and to_notify <= notify_target_min,
                ack_in_target=to_ack is not None and to_ack <= ack_target_min,
            )
        )
    return TimelinessReport(since, notify_target_min, ack_target_min, rows)
