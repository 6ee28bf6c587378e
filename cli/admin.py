"""``ecg clinic add NAME`` / ``ecg clinic list``: clinics and their API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from ingest.api.security import create_clinic
from ingest.migrations import upgrade_head
from models.db import Clinic, make_engine, make_sessionmaker
from models.settings import Settings

__all__ = ["clinic_app"]

clinic_app = typer.Typer(help="Manage clinics and their API keys.", no_args_is_help=True)


def _sessions(settings: Settings):  # type: ignore[no-untyped-def]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    upgrade_head(url)
    return make_sessionmaker(make_engine(url, pool=False))


@clinic_app.command("add")
def add(name: Annotated[str, typer.Argument(help="Clinic name")]) -> None:
    """Create a clinic and print its new API key once (only its SHA-256 is stored)."""
    settings = Settings()
    with _sessions(settings)() as session, session.begin():
        clinic, key = create_clinic(session, name)
        clinic_id = clinic.id
    typer.echo(f"clinic {name!r} id {clinic_id}")
    typer.echo(f"API key (shown once, store it safely): {key}")


@clinic_app.command("list")
def list_clinics() -> None:
    """List clinics (never their keys)."""
    settings = Settings()
    table = Table("id", "name", "created")
    with _sessions(settings)() as session:
        for clinic in session.scalars(select(Clinic).order_by(Clinic.created_at)):
            table.add_row(clinic.id, clinic.name, clinic.created_at.isoformat(timespec="seconds"))
    Console().print(table)
