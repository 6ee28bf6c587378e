"""Shared helpers of the rhythm evaluations: reference annotations, process pool, tables.

Used by :mod:`evaluation.rhythm_eval` and its per-database modules
(``rhythm_eval_vf``, ``rhythm_eval_af``, ``rhythm_eval_cinc2017``, ``rhythm_eval_alarms``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import wfdb
from rich.table import Table

from ecg_core.analysis import analyze_record
from ecg_core.types import BeatSeries
from evaluation.episodes import EpisodeCounts, average, gross
from evaluation.qrs_eval import EvalOptions
from ingest.readers import read_record
from models.profile import load_profile
from models.result import AnalysisResult

__all__ = [
    "AAMI",
    "Interval",
    "_analyse",
    "_counts_json",
    "_episode_table",
    "_fmt",
    "_of",
    "_pmap",
    "beats_from_annotation",
    "read_rhythm_intervals",
    "reference_pauses",
]

T = TypeVar("T")
R = TypeVar("R")
Interval = tuple[float, float]

#: MIT-BIH beat symbol -> AAMI class (ANSI/AAMI EC57).
AAMI: dict[str, str] = {
    **dict.fromkeys("NLRej", "N"),
    **dict.fromkeys("AaJS", "S"),
    **dict.fromkeys("VE", "V"),
    "F": "F",
    **dict.fromkeys("/fQ", "Q"),
}


# ---------------------------------------------------------------- shared helpers


def beats_from_annotation(ann: wfdb.Annotation, fs_hz: float) -> BeatSeries:
    """Build a :class:`BeatSeries` from reference beat annotations (AAMI mapping)."""
    sym = np.asarray(ann.symbol, dtype=str)
    keep = np.isin(sym, list(AAMI))
    r_idx = np.asarray(ann.sample)[keep].astype(np.intp)
    order = np.argsort(r_idx, kind="stable")
    r_idx = r_idx[order]
    labels = np.array([AAMI[s] for s in sym[keep][order]], dtype="<U1")
    uniq = np.concatenate(([True], np.diff(r_idx) > 0)) if r_idx.size else np.zeros(0, bool)
    n = int(uniq.sum())
    return BeatSeries(
        r_idx=r_idx[uniq],
        label=labels[uniq],
        quality_ok=np.ones(n, dtype=bool),
        qrs_ms=np.full(n, np.nan),
        fs_hz=fs_hz,
    )


def read_rhythm_intervals(
    ann: wfdb.Annotation, duration_s: float
) -> list[tuple[str, float, float]]:
    """Rhythm intervals ``(label, onset_s, offset_s)`` from an annotation's ``aux_note``.

    Labels lose the ``(`` and the trailing NUL of the shared files (``AFIB``, ``VFL``...).
    """
    fs = float(ann.fs or 0.0)
    if fs <= 0:
        raise ValueError(f"{ann.record_name}: annotation has no sampling rate")
    marks = [
        (float(s) / fs, str(a).strip("\x00").strip())
        for s, a in zip(ann.sample, ann.aux_note, strict=True)
        if str(a).strip("\x00").strip().startswith("(")
    ]
    return [
        (lab.lstrip("(").rstrip(")"), t0, marks[i + 1][0] if i + 1 < len(marks) else duration_s)
        for i, (t0, lab) in enumerate(marks)
    ]


def reference_pauses(ann: wfdb.Annotation, beats: BeatSeries, min_s: float) -> list[Interval]:
    """RR intervals >= ``min_s`` between reference beats that are true pauses.

    An RR that holds a flutter wave (``!``), a noise (``~``) or artefact (``|``) mark, or a
    VF/VFL/noise rhythm label, is not a pause (the beats are only not annotated there).
    """
    t = beats.r_idx / beats.fs_hz
    sym = np.asarray(ann.symbol, dtype=str)
    aux = np.array([str(a).strip("\x00").strip() for a in ann.aux_note])
    blocking = np.isin(sym, ["!", "~", "|"]) | np.isin(aux, ["(VF", "(VFL", "(VFIB", "(NOISE"])
    t_block = np.asarray(ann.sample)[blocking] / beats.fs_hz
    out = []
    for i in np.flatnonzero(np.diff(t) >= min_s):  # few long RRs
        inside = (t_block > t[i]) & (t_block < t[i + 1])
        if not inside.any():
            out.append((float(t[i]), float(t[i + 1])))
    return out


def _pmap(fn: Callable[[T], R], items: Sequence[T], options: EvalOptions) -> list[R]:
    """Map ``fn`` over ``items`` in a process pool, reporting progress, keeping order."""
    out: list[R] = []
    total = len(items)
    if options.workers <= 1 or total <= 1:
        results: Any = map(fn, items)
    else:
        pool = ProcessPoolExecutor(options.workers, mp_context=get_context("fork"))
        results = pool.map(fn, items, chunksize=max(1, total // (options.workers * 20)))
    for i, r in enumerate(results):
        out.append(r)
        if options.progress:
            options.progress(i + 1, total, Path(str(items[i])).name)
    if options.workers > 1 and total > 1:
        pool.shutdown()
    return out


def _fmt(v: float | None) -> str:
    return "-" if v is None or not np.isfinite(v) else f"{100 * v:.1f}"


def _of(result: AnalysisResult, kinds: tuple[str, ...]) -> list[Interval]:
    return [(e.onset_s, e.offset_s) for e in result.episodes if e.type in kinds]


def _analyse(path: str) -> AnalysisResult:
    record = read_record(Path(path))
    return analyze_record(record, profile=load_profile())


def _episode_table(title: str, rows: list[tuple[str, EpisodeCounts]], note: str = "") -> Table:
    t = Table(title=title, caption=note or None)
    for col in (
        "record",
        "ref ep",
        "det ep",
        "ep Se %",
        "ep +P %",
        "ref s",
        "det s",
        "dur Se %",
        "dur +P %",
    ):
        t.add_column(col, justify="right")
    for name, c in rows:
        t.add_row(
            name,
            str(c.n_ref),
            str(c.n_det),
            _fmt(c.episode_se),
            _fmt(c.episode_ppv),
            f"{c.ref_s:.0f}",
            f"{c.det_s:.0f}",
            _fmt(c.duration_se),
            _fmt(c.duration_ppv),
        )
    counts = [c for _, c in rows]
    if counts:
        g = gross(counts)
        t.add_row(
            "gross",
            str(g.n_ref),
            str(g.n_det),
            _fmt(g.episode_se),
            _fmt(g.episode_ppv),
            f"{g.ref_s:.0f}",
            f"{g.det_s:.0f}",
            _fmt(g.duration_se),
            _fmt(g.duration_ppv),
            style="bold",
        )
        a = average(counts)
        t.add_row(
            "average",
            "",
            "",
            _fmt(a["episode_se"]),
            _fmt(a["episode_ppv"]),
            "",
            "",
            _fmt(a["duration_se"]),
            _fmt(a["duration_ppv"]),
            style="bold",
        )
    return t


def _counts_json(rows: list[tuple[str, EpisodeCounts]]) -> dict[str, Any]:
    counts = [c for _, c in rows]
    g = gross(counts) if counts else None
    return {
        "records": {n: c.__dict__ for n, c in rows},
        "gross": None
        if g is None
        else {
            **g.__dict__,
            "episode_se": g.episode_se,
            "episode_ppv": g.episode_ppv,
            "duration_se": g.duration_se,
            "duration_ppv": g.duration_ppv,
        },
        "average": average(counts) if counts else None,
    }
