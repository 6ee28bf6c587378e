"""Notification channels: webhook (httpx, retried), e-mail (SMTP, standard library), log.

A channel sends one :class:`Message` to one target (URL, address) and raises
:class:`NotifyError` when it could not; durable retries and escalation on failure are
the job of :mod:`alerts.service` (the channel only retries quickly within one attempt).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal, Protocol

import httpx

from models.errors import PipelineError
from models.settings import Settings

__all__ = [
    "CHANNEL_NAMES",
    "Channel",
    "ChannelName",
    "Channels",
    "EmailChannel",
    "LogChannel",
    "Message",
    "NotifyError",
    "WebhookChannel",
    "sign_body",
]

log = logging.getLogger(__name__)

ChannelName = Literal["webhook", "email", "log"]
CHANNEL_NAMES: tuple[ChannelName, ...] = ("webhook", "email", "log")


class NotifyError(PipelineError):
    """A notification could not be delivered (the service retries and escalates)."""


@dataclass(frozen=True)
class Message:
    """One notification: e-mail subject and text, and the JSON body of a webhook."""

    subject: str
    text: str
    payload: dict[str, Any]


class Channel(Protocol):
    """Sends a message to one target or raises :class:`NotifyError`."""

    name: ChannelName

    def send(self, target: str | None, message: Message, *, secret: str | None = None) -> None:
        """Deliver ``message`` to ``target`` (URL or address)."""


def sign_body(secret: str, body: bytes) -> str:
    """HMAC-SHA256 of a webhook body, as sent in ``X-ECG-Signature: sha256=<hex>``.

    Parameters
    ----------
    secret : str
        The clinic's webhook signing secret.
    body : bytes
        The exact request body.

    Returns
    -------
    str
        ``"sha256=" + hex digest``.
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookChannel:
    """POST the JSON payload to the clinic's URL; 2xx is success.

    Retries connection errors, timeouts, 408, 429 and 5xx ``tries`` times with
    exponential back-off (``backoff_s``, doubled each time); other 4xx fail at once.
    """

    timeout_s: float = 10.0
    tries: int = 3
    backoff_s: float = 0.5
    name: ChannelName = "webhook"
    sleep: Callable[[float], None] = time.sleep

    def send(self, target: str | None, message: Message, *, secret: str | None = None) -> None:
        """POST ``message.payload`` as JSON to ``target``."""
        if not target:
            raise NotifyError("webhook channel selected but no webhook URL configured")
        body = json.dumps(message.payload, sort_keys=True, default=str).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ecg-sentinel-alerts/1",
            "X-ECG-Alert-Id": str(message.payload.get("alert_id", "")),
            "X-ECG-Notification-Kind": str(message.payload.get("kind", "")),
        }
        if secret:
            headers["X-ECG-Signature"] = sign_body(secret, body)
        problem = ""
        with httpx.Client(timeout=self.timeout_s, follow_redirects=False) as client:
            for attempt in range(1, self.tries + 1):
                try:
                    resp = client.post(target, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                else:
                    if 200 <= resp.status_code < 300:
                        return
                    problem = f"HTTP {resp.status_code}"
                    if resp.status_code < 500 and resp.status_code not in (408, 429):
                        break
                if attempt < self.tries:
                    self.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise NotifyError(f"webhook {target}: {problem} after {attempt} tries")


@dataclass
class EmailChannel:
    """Send a plain-text e-mail over SMTP (STARTTLS and login when configured)."""

    host: str | None
    port: int = 587
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    sender: str = "ecg-sentinel@localhost"
    timeout_s: float = 10.0
    name: ChannelName = "email"

    def send(self, target: str | None, message: Message, *, secret: str | None = None) -> None:
        """E-mail ``message.text`` to ``target``."""
        if not target:
            raise NotifyError("e-mail channel selected but no address configured")
        if not self.host:
            raise NotifyError("e-mail channel selected but ECG_SMTP_HOST is not set")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = target
        mail["Subject"] = message.subject
        mail.set_content(message.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user and self.password:
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(f"e-mail to {target} via {self.host}:{self.port}: {exc}") from exc


@dataclass
class LogChannel:
    """Write the notification to the service log (embedded demo, unconfigured clinics)."""

    name: ChannelName = "log"
    sent: list[tuple[str | None, Message]] = field(default_factory=list)

    def send(self, target: str | None, message: Message, *, secret: str | None = None) -> None:
        """Log the subject and text at WARNING level."""
        self.sent.append((target, message))
        log.warning("NOTIFY %s: %s\n%s", target or "console", message.subject, message.text)


@dataclass
class Channels:
    """The channel objects of one process, by name."""

    webhook: Channel
    email: Channel
    log: Channel

    @classmethod
    def from_settings(cls, settings: Settings) -> Channels:
        """Channels configured from ``ECG_WEBHOOK_TIMEOUT_S`` and ``ECG_SMTP_*``."""
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            webhook=WebhookChannel(timeout_s=settings.webhook_timeout_s),
            email=EmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                user=settings.smtp_user,
                password=password,
                starttls=settings.smtp_starttls,
                sender=settings.smtp_from,
            ),
            log=LogChannel(),
        )

    def get(self, name: str) -> Channel:
        """The channel called ``name``."""
        if name not in CHANNEL_NAMES:
            raise NotifyError(f"unknown channel {name!r}; choose from {list(CHANNEL_NAMES)}")
        channel: Channel = getattr(self, name)
        return channel
