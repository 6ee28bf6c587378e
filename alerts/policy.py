"""Alert timing policy and notification targets (clinic channels, centre on-call)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models.db_review import ClinicNotifySettings
from models.settings import Settings

__all__ = ["AlertPolicy", "Clock", "clinic_targets"]

Clock = Callable[[], datetime]


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
