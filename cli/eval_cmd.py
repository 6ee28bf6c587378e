"""``ecg eval``: run the analyser over reference databases and print the scores.

Evaluators form one list; each has a ``name``, ``applies(folder) -> bool`` and
``run(folder, options) -> report``; a report renders as rich tables (``tables()``) and as
JSON (``to_json()``). Other stages add their evaluator with one line at the marker below.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evaluation import labels_eval, ludb_eval, rhythm_eval, rhythm_eval_afl, stemi_eval
from evaluation.qrs_eval import (
    EvalOptions,
    default_workers,
    evaluate_cpsc2019,
    evaluate_ec57,
    evaluate_vfdb,
    has_beat_annotations,
    is_cpsc2019,
    is_vfdb,
)
from models.errors import EcgError

__all__ = ["EVALUATORS", "Evaluator", "Report", "eval_command"]


class Report(Protocol):
    """What an evaluator returns."""

    def tables(self) -> list[Table]:
        """Rich tables to print."""
        ...

    def to_json(self) -> dict[str, Any]:
        """JSON-ready content."""
        ...


@dataclass(frozen=True)
class Evaluator:
    """One evaluation: which folders it applies to and how to run it."""

    name: str
    applies: Callable[[Path], bool]
    run: Callable[[Path, EvalOptions], Report]
    help: str = ""


EVALUATORS: list[Evaluator] = [
    Evaluator(
        "qrs-ec57",
        has_beat_annotations,
        evaluate_ec57,
        "EC57 QRS/VEB/SVEB beat-by-beat on WFDB records with .atr beat labels",
    ),
    Evaluator(
        "qrs-cpsc2019", is_cpsc2019, evaluate_cpsc2019, "QRS Se/+P on CPSC 2019 reference R peaks"
    ),
    Evaluator(
        "qrs-vfdb",
        is_vfdb,
        evaluate_vfdb,
        "vfdb: agreement with xqrs outside VF, beats called inside VF",
    ),
    # ---- other helpers: add one Evaluator(...) line each below this marker ----
    Evaluator("ludb", ludb_eval.is_ludb, ludb_eval.evaluate_ludb, "LUDB delineation, diagnoses"),
    Evaluator("labels-12lead", labels_eval.is_labelled_12lead, labels_eval.evaluate_labels, "Dx"),
    Evaluator("rhythm-vf", rhythm_eval.is_vfdb, rhythm_eval.evaluate_vf, "VF/VFL episodes (EC57)"),
    Evaluator("rhythm-af", rhythm_eval.is_rhythm_db, rhythm_eval.evaluate_af, "AF, pauses"),
    Evaluator("rhythm-cinc2017", rhythm_eval.is_cinc2017, rhythm_eval.evaluate_cinc2017, "AF F1"),
    Evaluator("rhythm-alarms", rhythm_eval.is_alarms, rhythm_eval.evaluate_alarms, "false alarms"),
    Evaluator("stemi", stemi_eval.is_stemi_source, stemi_eval.evaluate_stemi, "STEMI Se/Sp"),
    Evaluator("rhythm-afl", rhythm_eval_afl.is_afl_db, rhythm_eval_afl.evaluate_afl, "AFL"),
]


def eval_command(
    path: Annotated[Path, typer.Argument(help="Database folder (e.g. ../shared/ecg-data/mitdb).")],
    what: Annotated[
        list[str] | None,
        typer.Option("--what", help="Evaluator name(s) to run; default: all that apply."),
    ] = None,
    include_learning: Annotated[
        bool, typer.Option("--include-learning", help="Also score the first 5 minutes.")
    ] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the reports as JSON to this file.")
    ] = None,
    annotations_out: Annotated[
        Path | None,
        typer.Option("--annotations-out", help="Folder for the .qrs annotation files scored."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 0,
) -> None:
    """Evaluate the analyser on a reference database and print the tables."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    if not path.is_dir():
        raise typer.BadParameter(f"{path} is not a folder", param_hint="PATH")
    known = {e.name for e in EVALUATORS}
    unknown = set(what or ()) - known
    if unknown:
        raise typer.BadParameter(
            f"unknown evaluator(s) {sorted(unknown)}; known: {sorted(known)}", param_hint="--what"
        )
    chosen = (
        [e for e in EVALUATORS if (e.name in what) if what]
        if what
        else [e for e in EVALUATORS if e.applies(path)]
    )
    if not chosen:
        console.print(f"[red]no evaluator applies to {path}[/red]; known: {sorted(known)}")
        raise typer.Exit(2)
    reports: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        for ev in chosen:
            task = progress.add_task(f"{ev.name} {path.name}", total=None)

            def tick(
                done: int, total: int, name: str, task: Any = task, ev_name: str = ev.name
            ) -> None:
                progress.update(task, completed=done, total=total, description=f"{ev_name} {name}")

            options = EvalOptions(
                include_learning=include_learning,
                annotations_out=annotations_out,
                workers=workers or default_workers(),
                progress=tick,
            )
            try:
                report = ev.run(path, options)
            except EcgError as exc:  # e.g. a folder this evaluator cannot read
                progress.stop()
                console.print(f"[red]{ev.name}: {exc}[/red]")
                raise typer.Exit(2) from exc
            reports[ev.name] = report.to_json()
            progress.stop_task(task)
            for table in report.tables():
                console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(reports, indent=2, default=float))
        console.print(f"JSON written to {json_out}")
