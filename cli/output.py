"""Rendering of :class:`~models.result.AnalysisResult`: rich tables, JSON, WFDB annotations.

:func:`result_to_annotations` is the pure result -> WFDB annotation arrays conversion
(beats as AAMI symbols ``N S V F Q``, rhythm changes as ``+`` with ``(AFIB``-style aux
notes); the evaluation harness reuses it so that PhysioNet tools (``bxb``, ``epicmp``)
score exactly what ``ecg analyze --annotations-out`` writes.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import wfdb
from numpy.typing import NDArray
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from models.result import AnalysisResult

__all__ = [
    "NON_RHYTHM_EPISODES",
    "AnnotationArrays",
    "render_table",
    "result_to_annotations",
    "result_to_json",
    "write_annotations",
]

#: Episode types that are not rhythms and get no ``+`` annotation (a pause is an RR gap).
NON_RHYTHM_EPISODES = frozenset({"PAUSE"})
#: Rhythm in force outside every episode (WFDB aux note ``(N``).
BASELINE_RHYTHM = "N"
_SEVERITY_STYLE = {"critical": "bold red", "abnormal": "yellow", "info": "dim"}


@dataclass(frozen=True)
class AnnotationArrays:
    """WFDB annotation arrays, ready for ``wfdb.wrann``.

    Attributes
    ----------
    sample : ndarray of int64, shape (n_annotations,)
        Annotation positions in samples, non-decreasing.
    symbol : list of str
        ``N S V F Q`` for beats, ``+`` for rhythm changes.
    aux_note : list of str
        ``(AFIB``-style rhythm for ``+`` annotations, empty for beats.
    """

    sample: NDArray[np.int64]
    symbol: list[str]
    aux_note: list[str]


def _rhythm_changes(result: AnalysisResult) -> list[tuple[int, str]]:
    """(sample, rhythm) at each change of the rhythm in force; latest-started episode wins."""
    fs_hz = result.fs_hz
    n_samples = round(result.duration_s * fs_hz)
    spans = sorted(
        (
            (max(0, round(ep.onset_s * fs_hz)), min(n_samples, round(ep.offset_s * fs_hz)), ep.type)
            for ep in result.episodes
            if ep.type not in NON_RHYTHM_EPISODES and ep.offset_s > ep.onset_s
        ),
        key=lambda s: (s[0], s[1]),
    )
    bounds = sorted({0, *(s for s, _, _ in spans), *(e for _, e, _ in spans)} - {n_samples})
    changes: list[tuple[int, str]] = []
    for at in bounds:
        active = [(start, kind) for start, end, kind in spans if start <= at < end]
        rhythm = max(active)[1] if active else BASELINE_RHYTHM
        if not changes or changes[-1][1] != rhythm:
            changes.append((at, rhythm))
    return changes


def result_to_annotations(result: AnalysisResult) -> AnnotationArrays:
    """Convert beats and rhythm episodes of a result into WFDB annotation arrays.

    A ``+`` annotation opens the record with the rhythm in force at sample 0 and marks
    each later change; an episode's offset returns to ``(N`` unless another episode is
    still running (then that one's rhythm is restored).

    Parameters
    ----------
    result : AnalysisResult
        Analysis of one record (beats as sample indices, episodes in seconds).

    Returns
    -------
    AnnotationArrays
        Sorted by sample; a ``+`` comes before a beat at the same sample.

    Examples
    --------
    >>> from models.result import BeatsOut, Episode
    >>> res = AnalysisResult(record_id="r", fs_hz=100.0, duration_s=10.0, leads=["II"],
    ...     beats=BeatsOut(sample=[50, 150], label=["N", "V"]),
    ...     episodes=[Episode(type="AFIB", onset_s=1.0, offset_s=4.0)], analysis_version="x")
    >>> ann = result_to_annotations(res)
    >>> ann.sample.tolist(), ann.symbol, ann.aux_note
    ([0, 50, 100, 150, 400], ['+', 'N', '+', 'V', '+'], ['(N', '', '(AFIB', '', '(N'])
    """
    rhythm = _rhythm_changes(result)
    beats = result.beats
    samples = np.array([s for s, _ in rhythm] + list(beats.sample), dtype=np.int64)
    symbols = ["+"] * len(rhythm) + [str(label) for label in beats.label]
    aux = [f"({kind}" for _, kind in rhythm] + [""] * len(beats.sample)
    # stable sort: rhythm changes were placed first, so they precede beats at the same sample
    order = np.argsort(samples, kind="stable")
    return AnnotationArrays(
        sample=samples[order],
        symbol=[symbols[i] for i in order],
        aux_note=[aux[i] for i in order],
    )


def write_annotations(result: AnalysisResult, out_dir: Path, *, extension: str = "qrs") -> Path:
    """Write ``<record_id>.<extension>`` in WFDB annotation format into ``out_dir``.

    Parameters
    ----------
    result : AnalysisResult
        Analysis of one record.
    out_dir : Path
        Output folder (created if missing).
    extension : str, default "qrs"
        Annotator name (file extension).

    Returns
    -------
    Path
        The file written.
    """
    ann = result_to_annotations(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    wfdb.wrann(
        result.record_id,
        extension,
        ann.sample,
        symbol=ann.symbol,
        aux_note=ann.aux_note,
        fs=result.fs_hz,
        write_dir=str(out_dir),
    )
    return out_dir / f"{result.record_id}.{extension}"


def result_to_json(result: AnalysisResult) -> dict[str, Any]:
    """JSON-ready dict of a result (``model_dump(mode="json")``, NaN and inf as null)."""
    data: dict[str, Any] = json.loads(result.model_dump_json())
    return data


def _fmt(value: float | None, unit: str, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}"


def _beats_line(result: AnalysisResult) -> str:
    labels = result.beats.label
    if not labels:
        return "none detected"
    counts: Counter[str] = Counter(labels)
    detail = " ".join(f"{k}:{counts[k]}" for k in "NSVFQ" if counts[k])
    return f"{len(labels)} ({detail})"


def _prior_line(comparison: dict[str, Any]) -> str:
    """One line on the comparison with the patient's previous ECG."""
    prior = comparison.get("prior_record_id")
    if not prior:
        return "none to compare"
    days = comparison.get("days_since_prior")
    when = "date unknown" if days is None else f"{float(days):.0f} days before"
    new = comparison.get("new_st_elevation_leads") or []
    q = comparison.get("old_infarct_q") or {}
    bits = [f"record {prior} ({when})"]
    bits.append("new ST elevation " + ",".join(new) if new else "no new ST elevation")
    if q:
        bits.append("old Q pattern " + "; ".join(f"{t} {','.join(ls)}" for t, ls in q.items()))
    if comparison.get("new_lbbb"):
        bits.append("new LBBB")
    return "; ".join(bits)


def _findings_table(result: AnalysisResult) -> Table:
    table = Table(title="Findings", title_justify="left", expand=False, show_lines=False)
    for column in ("severity", "code", "time (s)", "leads", "value", "threshold", "rule"):
        table.add_column(column, no_wrap=column in ("severity", "code"))
    for f in result.findings:
        style = _SEVERITY_STYLE.get(f.severity, "")
        span = (
            "-"
            if f.onset_s is None
            else f"{f.onset_s:.1f}-{f.offset_s:.1f}"
            if f.offset_s is not None
            else f"{f.onset_s:.1f}"
        )
        table.add_row(
            Text(f.severity, style=style),
            Text(f.code, style=style),
            span,
            ",".join(f.leads) or "-",
            "-" if f.value is None else str(f.value),
            "-" if f.threshold is None else str(f.threshold),
            f.rule,
        )
    return table


def render_table(result: AnalysisResult, console: Console) -> None:
    """Print one record's result as rich tables (summary, then findings when present)."""
    m = result.measurements
    title = Text(f"{result.record_id}", style="bold")
    if result.critical:
        title.append("  CRITICAL", style="bold red")
    elif result.unanalysable:
        title.append("  UNANALYSABLE", style="bold magenta")
    summary = Table(title=title, title_justify="left", show_header=False, expand=False)
    summary.add_column("field", style="cyan", no_wrap=True)
    summary.add_column("value")
    st = {k: v for k, v in m.st_mv.items() if v is not None}
    rows = [
        ("fs", f"{result.fs_hz:g} Hz"),
        ("duration", f"{result.duration_s:.1f} s ({result.recording_type})"),
        ("leads", " ".join(result.leads)),
        ("beats", _beats_line(result)),
        ("HR", _fmt(m.hr_bpm, "bpm")),
        (
            "PR / QRS / QT / QTc",
            " / ".join(_fmt(v, "ms") for v in (m.pr_ms, m.qrs_ms, m.qt_ms, m.qtc_ms)),
        ),
        ("ST (mV)", " ".join(f"{k}:{v:+.2f}" for k, v in st.items()) or "-"),
        (
            "episodes",
            "; ".join(f"{e.type} {e.onset_s:.1f}-{e.offset_s:.1f} s" for e in result.episodes)
            or "none",
        ),
        ("profile", f"{result.profile or '-'} (analysis {result.analysis_version})"),
    ]
    if result.comparison is not None:
        rows.insert(-1, ("prior ECG", _prior_line(result.comparison)))
    for field, value in rows:
        summary.add_row(field, value)
    parts: list[Table | Text] = [summary]
    if result.findings:
        parts.append(_findings_table(result))
    notes = [f for f in result.findings if f.message and f.severity in ("critical", "abnormal")]
    for f in notes:
        line = Text(f"{f.code}: ", style=_SEVERITY_STYLE.get(f.severity, ""))
        line.append(f.message)
        parts.append(line)
    console.print(Group(*parts))
    console.print()
