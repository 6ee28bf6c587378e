"""``ecg alerts report|sweep|configure``: timeliness report, one sweep, clinic channels."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import CHANNEL_NAMES
from alerts.report import TimelinessReport, timeliness
from alerts.service import AlertService
from cli.app import app
from ingest.migrations import upgrade_head
from models.db import Clinic, make_engine, make_sessionmaker, utcnow
from models.db_review import ClinicNotifySettings
from models.settings import Settings

__all__ = ["alerts_app", "open_sessions", "parse_since"]

alerts_app = typer.Typer(
    help="Critical-value alerts: report, sweep, clinic channels.", no_args_is_help=True
)
app.add_typer(alerts_app, name="alerts")


def open_sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, migrated to head."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    upgrade_head(url)
    return make_sessionmaker(make_engine(url, pool=False))


def parse_since(text: str | None, *, now: datetime) -> datetime | None:
    """``7d``, ``12h``, ``30m`` before ``now``, or an ISO date/time (UTC if naive).

    Raises
    ------
    typer.BadParameter
        Neither form.
    """
    if not text:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([dhm])", text.strip())
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
        return now - timedelta(**{unit: float(match.group(1))})
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"--since {text!r}: use 7d, 12h, 30m or an ISO date") from exc
    return value if value.tzinfo else value.replace(tzinfo=now.tzinfo)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _print(report: TimelinessReport) -> None:
    console = Console(width=max(Console().width, 150))
    table = Table(title="Critical-value alerts (times UTC)")
    for col in (
        "alert",
        "record",
        "codes",
        "status",
        "analysed",
        "notified",
        "acked",
        "min to notify",
        "min to ack",
        "esc.",
    ):
        table.add_column(
            col, justify="right" if col.startswith(("min", "esc", "alert")) else "left"
        )
    for a in report.alerts:
        table.add_row(
            str(a.alert_id),
            a.record_id[:8],
            ",".join(a.codes),
            a.status,
            _fmt(a.analysed_at),
            _fmt(a.notified_at),
            _fmt(a.acked_at),
            f"[{'green' if a.notify_in_target else 'red'}]{_fmt(a.min_to_notify)}[/]",
            f"[{'green' if a.ack_in_target else 'red'}]{_fmt(a.min_to_ack)}[/]",
            str(a.escalations),
        )
    console.print(table)
    console.print(
        f"{report.n} alerts; notified within {report.notify_target_min:g} min: "
        f"{_share(report.share_notified_in_target)}; acknowledged within "
        f"{report.ack_target_min:g} min of notification: {_share(report.share_acked_in_target)}"
    )
    if report.unacknowledged:
        console.print(
            f"[bold red]{len(report.unacknowledged)} unacknowledged:[/] "
            + ", ".join(
                f"{a.alert_id} ({','.join(a.codes)}, {a.escalations} esc.)"
                for a in report.unacknowledged
            )
        )


@alerts_app.command("report")
def report(
    since: Annotated[str | None, typer.Option(help="Window: 7d, 12h, 30m or an ISO date")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
    notify_target_min: Annotated[
        float | None, typer.Option(help="Default ECG_ALERT_NOTIFY_TARGET_MIN")
    ] = None,
    ack_target_min: Annotated[
        float | None, typer.Option(help="Default ECG_ALERT_ACK_TIMEOUT_MIN")
    ] = None,
) -> None:
    """Per alert: analysed, notified, acknowledged, minutes, share within target, open alerts."""
    settings = Settings()
    sessions = open_sessions(settings)
    with sessions() as session:
        rep = timeliness(
            session,
            since=parse_since(since, now=utcnow()),
            notify_target_min=notify_target_min or settings.alert_notify_target_min,
            ack_target_min=ack_target_min or settings.alert_ack_timeout_min,
        )
    if as_json:
        typer.echo(json.dumps(rep.to_json(), indent=2))
    else:
        _print(rep)


@alerts_app.command("sweep")
def sweep() -> None:
    """Run one escalation/delivery pass now (the service does this every ECG_ALERT_SWEEP_S)."""
    settings = Settings()
    stats = AlertService.from_settings(open_sessions(settings), settings).sweep()
    typer.echo(
        f"adopted {stats.adopted}, escalated {stats.escalated}, sent {stats.sent}, "
        f"failed {stats.failed}"
    )


@alerts_app.command("configure")
def configure(
    clinic_id: Annotated[str, typer.Argument(help="Clinic id (ecg clinic list)")],
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="webhook, email, log (repeatable)")
    ] = None,
    webhook: Annotated[str | None, typer.Option(help="Clinic webhook URL (https)")] = None,
    email: Annotated[str | None, typer.Option(help="Clinic e-mail address")] = None,
    ack_timeout_min: Annotated[
        float | None, typer.Option(help="Clinic's own escalation timeout")
    ] = None,
    new_secret: Annotated[
        bool, typer.Option("--new-secret", help="Generate a webhook signing secret (printed once)")
    ] = False,
) -> None:
    """Set how a clinic is notified of critical values."""
    chosen = channel or []
    bad = [c for c in chosen if c not in CHANNEL_NAMES]
    if bad:
        raise typer.BadParameter(f"unknown channel(s) {bad}; choose from {list(CHANNEL_NAMES)}")
    if "webhook" in chosen and not webhook:
        raise typer.BadParameter("--channel webhook needs --webhook URL")
    if "email" in chosen and not email:
        raise typer.BadParameter("--channel email needs --email ADDRESS")
    settings = Settings()
    secret = secrets.token_urlsafe(32) if new_secret else None
    with open_sessions(settings)() as session, session.begin():
        if session.get(Clinic, clinic_id) is None:
            raise typer.BadParameter(f"no clinic with id {clinic_id!r} (see `ecg clinic list`)")
        cfg = session.get(ClinicNotifySettings, clinic_id) or ClinicNotifySettings(
            clinic_id=clinic_id
        )
        cfg.channels = chosen or list(cfg.channels or [])
        cfg.webhook_url = webhook or cfg.webhook_url
        cfg.email = email or cfg.email
        cfg.ack_timeout_min = ack_timeout_min or cfg.ack_timeout_min
        cfg.webhook_secret = secret or cfg.webhook_secret
        session.add(cfg)
        channels = list(cfg.channels)
    typer.echo(f"clinic {clinic_id}: channels {channels or ['log (default)']}")
    if secret:
        typer.echo(f"webhook signing secret (shown once; verify X-ECG-Signature with it): {secret}")
