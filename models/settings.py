"""Settings from the environment (prefix ``ECG_``), built once per entrypoint and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Service settings.

    With no ``ECG_AMQP_URL`` the service runs embedded (in-process queue); with no
    ``ECG_DATABASE_URL`` it stores into SQLite under ``data_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="ECG_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="SQLite file and blobs live here.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite if unset.")
    amqp_url: SecretStr | None = Field(
        default=None, description="RabbitMQ URL; in-process if unset."
    )
    blob_url: str | None = Field(
        default=None, description="fsspec URL for blobs; data_dir/blobs if unset."
    )
    profile: str = "cn-2017-national"
    max_upload_mb: int = Field(default=1024, gt=0)
    rate_limit_per_min: int = Field(default=600, gt=0)
    worker_concurrency: int = Field(default=2, gt=0)
    max_attempts: int = Field(default=3, gt=0)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # pipeline (issue 4)
    amqp_prefix: str = Field(
        default="", description="Prefix of every queue/exchange name (tests use a unique one)."
    )
    outbox_poll_s: float = Field(
        default=0.5, gt=0, description="Outbox relay fallback poll; commits wake it at once."
    )
    shutdown_grace_s: float = Field(
        default=60.0, ge=0, description="On SIGTERM, wait this long for in-flight analyses."
    )
    validate_full_read_mb: float = Field(
        default=20.0, ge=0, description="Uploads up to this size are fully read on upload."
    )
    # alerts and review (alerts/, review/; docs/alerts_review.md)
    alert_notify_target_min: float = Field(
        default=5.0, gt=0, description="Target: clinic notified within this many minutes."
    )
    alert_ack_timeout_min: float = Field(
        default=10.0, gt=0, description="Unacknowledged critical alerts escalate after this."
    )
    alert_repeat_min: float = Field(
        default=10.0, gt=0, description="Escalation repeats this often until acknowledged."
    )
    alert_sweep_s: float = Field(default=15.0, gt=0, description="Escalation sweep interval.")
    alert_retry_s: float = Field(default=30.0, gt=0, description="Failed notification retry.")
    alert_max_attempts: int = Field(
        default=5, gt=0, description="Notification attempts before on-call is told it failed."
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    oncall_webhook_url: str | None = Field(default=None, description="Centre on-call webhook.")
    oncall_email: str | None = Field(default=None, description="Centre on-call e-mail.")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_from: str = "ecg-sentinel@localhost"
    public_url: str | None = Field(
        default=None, description="Base URL put in notifications (links to the ack API)."
    )
    review_session_h: float = Field(default=12.0, gt=0, description="Reviewer login lifetime.")

    @property
    def effective_database_url(self) -> str:
        """The database URL, SQLite under ``data_dir`` by default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ecg-sentinel.sqlite3').resolve()}"
