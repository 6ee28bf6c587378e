"""``ecg analyze PATH...``: read ECG files, run the analysis, print tables or JSON.

Exit codes: 0 every record analysed; 2 usage or input errors (bad file, unknown format,
missing sampling rate, bad profile); 1 any other failure. Every error is ONE line on
stderr, ``error: <file>: <problem>``; one bad file never stops a batch.
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.output import render_table, result_to_json, write_annotations
from ecg_core.analysis import analyze_record
from ecg_core.comparison import StoredEcg, stored_ecg
from ecg_core.rules.comparison_rules import compare_with_prior
from ingest.readers import iter_record_paths, read_record
from models.errors import EcgError, InputError
from models.profile import DEFAULT_PROFILE, RuleProfile, load_profile
from models.record import EcgRecord, Unit
from models.result import AnalysisResult

__all__ = ["EXIT_FAILURE", "EXIT_INPUT_ERROR", "analyze"]

EXIT_FAILURE = 1
EXIT_INPUT_ERROR = 2


class OutputFormat(StrEnum):
    """How results are printed."""

    table = "table"
    json = "json"
    jsonl = "jsonl"


class RecordingChoice(StrEnum):
    """Recording type (default: inferred from duration)."""

    resting = "resting"
    holter = "holter"


class UnitChoice(StrEnum):
    """Physical unit of CSV samples."""

    uV = "uV"  # noqa: N815 -- the unit's spelling
    mV = "mV"  # noqa: N815
    V = "V"


@dataclass
class _Batch:
    """Running tally of a batch; decides the exit code."""

    err: Console
    input_errors: int = 0
    other_errors: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)

    def error(self, where: Path | str, exc: BaseException, *, input_error: bool) -> None:
        self.err.print(_error_line(where, exc), markup=False, highlight=False, soft_wrap=True)
        if input_error:
            self.input_errors += 1
        else:
            self.other_errors += 1

    def warn(self, where: Path, message: str) -> None:
        line = f"warning: {where}: {_one_line(message)}"
        self.err.print(line, markup=False, highlight=False, soft_wrap=True)

    @property
    def exit_code(self) -> int:
        if self.other_errors:
            return EXIT_FAILURE
        return EXIT_INPUT_ERROR if self.input_errors else 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error_line(where: Path | str, exc: BaseException) -> str:
    """``error: <file>: <problem>`` without repeating the file when the message names it."""
    message = _one_line(str(exc)) or type(exc).__name__
    if not isinstance(exc, EcgError):
        message = f"internal error ({type(exc).__name__}: {message})"
    prefix = f"{where}: "
    return f"error: {message}" if message.startswith(prefix) else f"error: {prefix}{message}"


def _analyse_one(
    path: Path,
    *,
    profile: RuleProfile,
    recording: RecordingChoice | None,
    fs_hz: float | None,
    units: Unit | None,
    batch: _Batch,
    prior: StoredEcg | None = None,
) -> tuple[EcgRecord, AnalysisResult]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = read_record(path, fs_hz=fs_hz, units=units)
        result = analyze_record(
            record, profile=profile, recording=recording.value if recording else None
        )
        result = compare_with_prior(result, prior, profile)
    for w in caught:
        batch.warn(path, f"{w.category.__name__}: {w.message}")
    for lead in record.unusable_leads:
        batch.warn(path, f"lead {lead.lead} excluded from analysis ({lead.reason})")
    return record, result


def _emit(
    record: EcgRecord,
    result: AnalysisResult,
    *,
    output_format: OutputFormat,
    out: Console,
    annotations_out: Path | None,
    plot_dir: Path | None,
    batch: _Batch,
) -> None:
    if output_format is OutputFormat.table:
        render_table(result, out)
    elif output_format is OutputFormat.jsonl:
        sys.stdout.write(json.dumps(result_to_json(result)) + "\n")
        sys.stdout.flush()
    else:
        batch.results.append(result_to_json(result))
    if annotations_out is not None:
        write_annotations(result, annotations_out)
    if plot_dir is not None:
        from cli.plot import plot_result  # matplotlib only when asked for

        plot_result(record, result, plot_dir)


def _load_prior(path: Path, batch: _Batch) -> StoredEcg | None:
    """The ``--prior`` result; unreadable = no prior (a warning, never a failure)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        batch.warn(path, f"--prior not read ({exc}); analysing without a prior ECG")
        return None
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    prior = stored_ecg(data) if isinstance(data, dict) else None
    if prior is None:
        batch.warn(path, "--prior is not one analysed resting 12-lead result; no prior ECG")
    return prior


def _expand(paths: list[Path], batch: _Batch) -> list[Path]:
    items: list[Path] = []
    for p in paths:
        try:
            items.extend(iter_record_paths(p))
        except InputError as exc:
            batch.error(p, exc, input_error=True)
    return items


def analyze(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="ECG files (WFDB .hea or base name, EDF/BDF, CSV, HL7 aECG XML, CPSC .mat) "
            "or directories of records.",
            show_default=False,
        ),
    ],
    profile: Annotated[
        str, typer.Option("--profile", help="Rule profile name or .toml path.")
    ] = DEFAULT_PROFILE,
    recording: Annotated[
        RecordingChoice | None,
        typer.Option("--recording", help="Recording type; default: inferred from duration."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table, json (object/array) or jsonl.")
    ] = OutputFormat.table,
    annotations_out: Annotated[
        Path | None,
        typer.Option(
            "--annotations-out", help="Write WFDB <record>.qrs annotations (beats, rhythm)."
        ),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a PNG per record into this folder.")
    ] = None,
    fs_hz: Annotated[
        float | None, typer.Option("--fs-hz", help="Sampling rate in Hz (CSV without time).")
    ] = None,
    units: Annotated[
        UnitChoice | None, typer.Option("--units", help="Sample unit (CSV without units).")
    ] = None,
    prior: Annotated[
        Path | None,
        typer.Option(
            "--prior",
            help="The same patient's previous result (ecg analyze --format json of one "
            "resting ECG) to compare with (re-infarction, not first-found acute MI).",
        ),
    ] = None,
) -> None:
    """Analyse ECG records and report measurements, episodes and critical findings."""
    err = Console(stderr=True, highlight=False)
    batch = _Batch(err=err)
    try:
        code = _run(
            paths,
            batch=batch,
            profile_name=profile,
            recording=recording,
            output_format=output_format,
            annotations_out=annotations_out,
            plot_dir=plot,
            fs_hz=fs_hz,
            units=units.value if units else None,
            prior_path=prior,
        )
    except Exception as exc:  # last resort: one line, never a traceback
        batch.error("ecg analyze", exc, input_error=False)
        code = EXIT_FAILURE
    if code:
        raise typer.Exit(code)


def _run(
    paths: list[Path],
    *,
    batch: _Batch,
    profile_name: str,
    recording: RecordingChoice | None,
    output_format: OutputFormat,
    annotations_out: Path | None,
    plot_dir: Path | None,
    fs_hz: float | None,
    units: Unit | None,
    prior_path: Path | None = None,
) -> int:
    try:
        rule_profile = load_profile(profile_name)
    except EcgError as exc:
        batch.error(f"--profile {profile_name}", exc, input_error=True)
        return EXIT_INPUT_ERROR
    prior = _load_prior(prior_path, batch) if prior_path is not None else None
    items = _expand(paths, batch)
    out = Console(highlight=False, soft_wrap=False)
    show_progress = len(items) > 1 and batch.err.is_terminal  # no bar in logs or pipes
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=batch.err,
        transient=True,
        disable=not show_progress,
    )
    with progress:
        task = progress.add_task("analysing", total=len(items))
        for path in items:
            progress.update(task, description=path.name)
            try:
                record, result = _analyse_one(
                    path,
                    profile=rule_profile,
                    recording=recording,
                    fs_hz=fs_hz,
                    units=units,
                    batch=batch,
                    prior=prior,
                )
                _emit(
                    record,
                    result,
                    output_format=output_format,
                    out=out,
                    annotations_out=annotations_out,
                    plot_dir=plot_dir,
                    batch=batch,
                )
            except InputError as exc:
                batch.error(path, exc, input_error=True)
            except Exception as exc:  # one bad record must not stop the batch
                batch.error(path, exc, input_error=False)
            progress.advance(task)
    if output_format is OutputFormat.json and (batch.results or len(items) > 1):
        payload: Any = batch.results[0] if len(items) == 1 else batch.results
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    return batch.exit_code
