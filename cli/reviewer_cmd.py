"""``ecg reviewer add|list|disable``: cardiologist accounts of the review page."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from cli.alerts_cmd import open_sessions
from cli.app import app
from models.db_review import Reviewer
from models.errors import InputError
from models.settings import Settings
from review.auth import create_reviewer

__all__ = ["reviewer_app"]

reviewer_app = typer.Typer(help="Reviewer (cardiologist) accounts.", no_args_is_help=True)
app.add_typer(reviewer_app, name="reviewer")


@reviewer_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Login name")],
    admin: Annotated[bool, typer.Option("--admin", help="May read the audit trail")] = False,
) -> None:
    """Create a reviewer and print the login token once (only its SHA-256 is stored)."""
    try:
        with open_sessions(Settings())() as session, session.begin():
            _reviewer, token = create_reviewer(session, name, admin=admin)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"reviewer {name!r}{' (admin)' if admin else ''} created")
    typer.echo(f"login token (shown once, store it safely): {token}")


@reviewer_app.command("list")
def list_reviewers() -> None:
    """List reviewers (never their tokens)."""
    table = Table("id", "name", "admin", "active", "created")
    with open_sessions(Settings())() as session:
        for r in session.scalars(select(Reviewer).order_by(Reviewer.id)):
            table.add_row(
                str(r.id),
                r.name,
                str(r.is_admin),
                str(r.active),
                r.created_at.isoformat(timespec="seconds"),
            )
    Console().print(table)


@reviewer_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="Login name")]) -> None:
    """Disable a reviewer (their sessions and token stop working at once)."""
    with open_sessions(Settings())() as session, session.begin():
        reviewer = session.scalar(select(Reviewer).where(Reviewer.name == name))
        if reviewer is None:
            typer.echo(f"error: no reviewer {name!r}", err=True)
            raise typer.Exit(2)
        reviewer.active = False
    typer.echo(f"reviewer {name!r} disabled")
