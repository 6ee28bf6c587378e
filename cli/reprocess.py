"""``ecg reprocess``: re-run the analysis of stored records after an algorithm change.

Examples::

    ecg reprocess --outdated --dry-run                 # what an upgrade would re-run
    ecg reprocess --outdated --clinic "Clinic 7" --since 2026-01-01 --wait
    ecg reprocess --record-id 3f2a... --record-id 9b1c...

The records are queued through the outbox (one transaction per batch); a running
``ecg serve`` (embedded) or ``ecg relay`` + ``ecg worker`` (RabbitMQ) does the work.
See :mod:`ingest.reanalysis` for what happens to the previous result and to alerts.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecg_core import ANALYSIS_VERSION
from ingest.migrations import upgrade_head
from ingest.reprocess import Criteria, Selected, progress_of, requeue, select_records
from models.db import Record, ResultHistory, make_engine, make_sessionmaker
from models.errors import EcgError, InputError
from models.settings import Settings

__all__ = ["reprocess"]

_LISTED = 50  # rows shown by --dry-run before "... and N more"


def _sessions(settings: Settings) -> sessionmaker[Session]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    upgrade_head(url)
    return make_sessionmaker(make_engine(url, pool=False))


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from exc


def _summary(console: Console, chosen: list[Selected], title: str) -> None:
    table = Table(title=title)
    table.add_column("clinic")
    table.add_column("status")
    table.add_column("analysis version")
    table.add_column("records", justify="right")
    table.add_column("signed report", justify="right")
    groups: Counter[tuple[str, str, str]] = Counter()
    signed: Counter[tuple[str, str, str]] = Counter()
    for s in chosen:
        key = (s.clinic, s.status, s.analysis_version or "(none)")
        groups[key] += 1
        signed[key] += int(s.signed)
    for key, n in sorted(groups.items()):
        table.add_row(*key, str(n), str(signed[key]))
    console.print(table)


def _listing(console: Console, chosen: list[Selected]) -> None:
    table = Table(title=f"records to re-analyse (first {min(len(chosen), _LISTED)})")
    table.add_column("record", no_wrap=True, min_width=32)
    for col in ("clinic", "uploaded", "status", "version", "signed"):
        table.add_column(col, overflow="fold")
    for s in chosen[:_LISTED]:
        table.add_row(
            s.record_id,
            s.clinic,
            s.created_at.isoformat(timespec="seconds"),
            s.status,
            s.analysis_version or "",
            "yes" if s.signed else "",
        )
    console.print(table)
    if len(chosen) > _LISTED:
        console.print(f"... and {len(chosen) - _LISTED} more")


def _bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _wait(
    console: Console,
    sessions: sessionmaker[Session],
    message_ids: list[str],
    record_ids: list[str],
    timeout_s: float,
) -> None:
    deadline = time.monotonic() + timeout_s
    with _bar(console) as progress:
        task = progress.add_task("re-analysed", total=len(message_ids))
        while True:
            with sessions() as session:
                done = progress_of(session, message_ids)
            progress.update(task, completed=done)
            if done >= len(message_ids) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    with sessions() as session:
        statuses = Counter(
            dict(
                session.execute(
                    select(Record.status, func.count(Record.id))
                    .where(Record.id.in_(record_ids))
                    .group_by(Record.status)
                ).all()
            )
        )
        kinds = Counter(
            dict(
                session.execute(
                    select(ResultHistory.kind, func.count(ResultHistory.id))
                    .where(ResultHistory.message_id.in_(message_ids))
                    .group_by(ResultHistory.kind)
                ).all()
            )
        )
    console.print(
        f"re-analysed {done}/{len(message_ids)}; statuses now "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        + f"; previous results kept as history {kinds.get('superseded', 0)}, new results held "
        f"beside a signed report {kinds.get('held', 0)}"
    )
    if done < len(message_ids):
        console.print(
            f"[yellow]timed out after {timeout_s:g} s: {len(message_ids) - done} still queued "
            "(is a worker running?)[/yellow]"
        )


def reprocess(
    clinic: Annotated[str | None, typer.Option(help="Clinic id or exact name.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Uploaded on or after (YYYY-MM-DD, UTC).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Uploaded on or before (YYYY-MM-DD).")] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(help="done, needs_review, failed (repeatable; default all three)."),
    ] = None,
    outdated: Annotated[
        bool,
        typer.Option("--outdated", help=f"Analysed by a version older than {ANALYSIS_VERSION}."),
    ] = False,
    older_than: Annotated[
        str | None, typer.Option(help="Analysed by a version older than this one.")
    ] = None,
    record_id: Annotated[
        list[str] | None, typer.Option("--record-id", help="Only this record (repeatable).")
    ] = None,
    all_records: Annotated[
        bool, typer.Option("--all", help="Select every record (no other criterion needed).")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many records.", min=1)] = None,
    batch_size: Annotated[int, typer.Option(help="Records per transaction.", min=1)] = 200,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List, queue nothing.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the re-analysis to the end.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="--wait gives up after this many s.")] = 3600.0,
) -> None:
    """Re-analyse stored records (clinic, dates, status, outdated version, ids)."""
    console = Console(stderr=False)
    try:
        criteria = Criteria(
            clinic=clinic,
            since=_date(since, "--since"),
            until=_date(until, "--until"),
            statuses=tuple(status or ("done", "needs_review", "failed")),
            older_than=older_than or (ANALYSIS_VERSION if outdated else None),
            record_ids=tuple(record_id or ()),
            limit=limit,
        )
        named = clinic or since or until or status or outdated or older_than or record_id
        if not (named or all_records):
            raise InputError(
                "name the records to re-analyse (--clinic, --since/--until, --status, "
                "--outdated, --older-than, --record-id) or pass --all"
            )
        settings = Settings()
        sessions = _sessions(settings)
        with sessions() as session:
            chosen = select_records(session, criteria)
    except EcgError as exc:
        typer.echo(f"ecg reprocess: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not chosen:
        console.print("no record matches; nothing to do")
        return
    n_signed = sum(s.signed for s in chosen)
    if dry_run:
        _listing(console, chosen)
        _summary(console, chosen, f"dry run: {len(chosen)} records would be re-analysed")
        if n_signed:
            console.print(
                f"{n_signed} have a signed report: their new result would be held beside it, "
                "not replace it"
            )
        return
    tag = f"reprocess-{uuid.uuid4().hex[:12]}"
    with _bar(console) as progress:
        task = progress.add_task("queued", total=len(chosen))
        report = requeue(
            sessions,
            [s.record_id for s in chosen],
            batch_size=batch_size,
            batch_tag=tag,
            on_batch=lambda queued, skipped: progress.advance(task, queued + skipped),
        )
    _summary(console, chosen, f"{tag}: {report.queued} queued, {report.skipped} skipped")
    if report.skipped:
        console.print(f"{report.skipped} were no longer in a final state (already queued)")
    if n_signed:
        console.print(f"{n_signed} have a signed report: the new result is held, not applied")
    if wait and report.message_ids:
        _wait(
            console,
            sessions,
            report.message_ids,
            [s.record_id for s in chosen],
            timeout,
        )
