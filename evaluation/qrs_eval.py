"""Database drivers for the QRS / beat-class evaluation (EC57 on WFDB, CPSC 2019, vfdb).

This is a shell around the pure core: it reads WFDB / .mat files, runs
:func:`ecg_core.qrs.detect_beats`, writes the ``.qrs`` annotation files it scored and
returns reports (rich tables + JSON) built from :mod:`evaluation.ec57` counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import wfdb
from numpy.typing import NDArray
from rich.table import Table
from wfdb import processing as wfdb_processing

from ecg_core.qrs import detect_beats
from evaluation.ec57 import (
    LEARNING_S,
    Ec57Counts,
    aami_class,
    average,
    compare,
    gross,
    match_beats,
    vf_mask_spans,
)

__all__ = [
    "PACED_MITDB",
    "Ec57Report",
    "EvalOptions",
    "PseudoRefReport",
    "evaluate_cpsc2019",
    "evaluate_ec57",
    "evaluate_vfdb",
    "has_beat_annotations",
    "is_cpsc2019",
    "is_vfdb",
]

#: Paced MIT-BIH records, reported apart (EC57 practice).
PACED_MITDB = frozenset({"102", "104", "107", "217"})
_VF_RHYTHMS = ("(VF", "(VFL", "(VFIB", "(NOISE", "(ASYS")

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class EvalOptions:
    """Options shared by every evaluator.

    Attributes
    ----------
    include_learning : bool
        Score the first 5 minutes too (EC57 excludes them).
    annotations_out : Path or None
        Folder for the ``.qrs`` files (default: ``<folder>/../qrs-out/<db>``).
    workers : int
        Worker processes.
    progress : callable or None
        ``progress(done, total, name)`` callback (the CLI draws a rich bar with it).
    """

    include_learning: bool = False
    annotations_out: Path | None = None
    workers: int = 2
    progress: Callable[[int, int, str], None] | None = field(default=None, compare=False)


def _pmap(fn: Callable[[T], R], items: Sequence[T], options: EvalOptions) -> list[R]:
    """Map ``fn`` over ``items`` in a process pool, reporting progress, keeping order."""
    out: list[R] = []
    total = len(items)
    if options.workers <= 1 or total <= 1:
        it: Iterator[R] = map(fn, items)
        for i, r in enumerate(it):
            out.append(r)
            if options.progress:
                options.progress(i + 1, total, str(items[i]))
        return out
    with ProcessPoolExecutor(options.workers, mp_context=get_context("fork")) as pool:
        for i, r in enumerate(pool.map(fn, items)):
            out.append(r)
            if options.progress:
                options.progress(i + 1, total, str(items[i]))
    return out


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


# ------------------------------------------------------------------ EC57 on WFDB .atr


def has_beat_annotations(folder: Path) -> bool:
    """True when the folder holds WFDB records whose .atr files contain beat labels."""
    atrs = sorted(folder.glob("*.atr"))
    if not atrs:
        return False
    ann = wfdb.rdann(str(atrs[0].with_suffix("")), "atr")
    return bool((aami_class(ann.symbol) != "").any())


@dataclass(frozen=True)
class _Job:
    stem: str
    out_dir: str
    include_learning: bool

    def __str__(self) -> str:
        return Path(self.stem).name


def _score_wfdb(job: _Job) -> Ec57Counts:
    rec = wfdb.rdrecord(job.stem)
    ann = wfdb.rdann(job.stem, "atr")
    fs = float(rec.fs)
    ecg = np.asarray(rec.p_signal, dtype=np.float64).T
    beats = detect_beats(ecg, fs_hz=fs)
    name = Path(job.stem).name
    if beats.r_idx.size:
        wfdb.wrann(
            name,
            "qrs",
            beats.r_idx.astype(np.int64),
            symbol=beats.label.tolist(),
            write_dir=job.out_dir,
            fs=fs,
        )
    cls = aami_class(ann.symbol)
    is_beat = cls != ""
    return compare(
        name,
        np.asarray(ann.sample)[is_beat],
        cls[is_beat],
        beats.r_idx,
        beats.label,
        fs_hz=fs,
        start_idx=0 if job.include_learning else int(LEARNING_S * fs),
        excluded=vf_mask_spans(np.asarray(ann.sample), list(ann.symbol)),
    )


@dataclass
class Ec57Report:
    """EC57 beat-by-beat report of one database (non-paced and paced records apart)."""

    database: str
    records: list[Ec57Counts]
    paced: list[Ec57Counts]
    include_learning: bool
    annotations_dir: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""

        def block(rs: list[Ec57Counts]) -> dict[str, Any]:
            return {
                "records": [r.as_dict() for r in rs],
                "gross": gross(rs).as_dict() if rs else None,
                "average": average(rs) if rs else None,
            }

        return {
            "evaluator": "qrs-ec57",
            "database": self.database,
            "learning_period_excluded_s": 0.0 if self.include_learning else LEARNING_S,
            "annotations_dir": self.annotations_dir,
            "non_paced": block(self.records),
            "paced": block(self.paced),
        }

    def tables(self) -> list[Table]:
        """Rich tables: one per record group, with gross and average rows."""
        out = []
        for title, rs in (("non-paced", self.records), ("paced", self.paced)):
            if not rs:
                continue
            t = Table(title=f"EC57 beat-by-beat, {self.database} ({title} records)")
            for col in (
                "record",
                "TP",
                "FN",
                "FP",
                "QRS Se",
                "QRS +P",
                "VEB Se",
                "VEB +P",
                "VEB FPR",
                "SVEB Se",
                "SVEB +P",
            ):
                t.add_column(col, justify="right")
            keys = ("qrs_se", "qrs_pp", "veb_se", "veb_pp", "veb_fpr", "sveb_se", "sveb_pp")
            for r in rs:
                s = r.stats()
                t.add_row(r.record, str(r.tp), str(r.fn), str(r.fp), *(_fmt(s[k]) for k in keys))
            g = gross(rs)
            gs = g.stats()
            t.add_row(
                "gross", str(g.tp), str(g.fn), str(g.fp), *(_fmt(gs[k]) for k in keys), style="bold"
            )
            a = average(rs)
            t.add_row("average", "", "", "", *(_fmt(a[k]) for k in keys), style="bold")
            out.append(t)
        return out


def _out_dir(folder: Path, options: EvalOptions) -> Path:
    out = options.annotations_out or folder.parent / "qrs-out" / folder.name
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only data folder: fall back to the working directory
        out = Path.cwd() / "qrs-out" / folder.name
        out.mkdir(parents=True, exist_ok=True)
    return out


def evaluate_ec57(folder: Path, options: EvalOptions) -> Ec57Report:
    """Run the analyser over every WFDB record with a .atr file and score it (EC57)."""
    out = _out_dir(folder, options)
    stems = sorted(p.with_suffix("") for p in folder.glob("*.atr"))
    jobs = [_Job(str(s), str(out), options.include_learning) for s in stems]
    counts = _pmap(_score_wfdb, jobs, options)
    paced = [c for c in counts if folder.name == "mitdb" and c.record in PACED_MITDB]
    rest = [c for c in counts if c not in paced]
    return Ec57Report(folder.name, rest, paced, options.include_learning, str(out))


# ------------------------------------------------------------------ CPSC 2019 (R-peak refs)


def is_cpsc2019(folder: Path) -> bool:
    """True for the CPSC 2019 layout: data/data_*.mat and ref/R_*.mat."""
    return (folder / "data").is_dir() and any((folder / "ref").glob("R_*.mat"))


def _score_cpsc(path: str) -> Ec57Counts:
    from scipy.io import loadmat

    p = Path(path)
    fs = 500.0
    ecg = np.asarray(loadmat(p)["ecg"], dtype=np.float64).ravel()
    ref_file = p.parent.parent / "ref" / p.name.replace("data_", "R_")
    ref = np.sort(np.asarray(loadmat(ref_file)["R_peak"]).ravel().astype(np.int64))
    beats = detect_beats(ecg[np.newaxis], fs_hz=fs)
    # CPSC 2019 scoring ignores the first and last 0.5 s (edge beats)
    keep_r = (ref >= 0.5 * fs) & (ref <= ecg.size - 0.5 * fs)
    keep_t = (beats.r_idx >= 0.5 * fs) & (beats.r_idx <= ecg.size - 0.5 * fs)
    return compare(
        p.stem,
        ref[keep_r],
        np.full(int(keep_r.sum()), "N"),
        beats.r_idx[keep_t],
        np.full(int(keep_t.sum()), "N"),
        fs_hz=fs,
    )


def evaluate_cpsc2019(folder: Path, options: EvalOptions) -> Ec57Report:
    """Score QRS detection on CPSC 2019 (10 s, 500 Hz, reference R peaks, 150 ms window)."""
    files = [str(p) for p in sorted((folder / "data").glob("data_*.mat"))]
    counts = _pmap(_score_cpsc, files, options)
    return Ec57Report(folder.name, counts, [], True, "")


# ------------------------------------------------------------------ vfdb (no beat labels)


def is_vfdb(folder: Path) -> bool:
    """True for a WFDB folder whose .atr files hold rhythm labels only (vfdb layout)."""
    return any(folder.glob("*.atr")) and not has_beat_annotations(folder)


def _vf_mask(ann: Any, n: int) -> NDArray[np.bool_]:
    mask = np.zeros(n, dtype=bool)
    state = False
    start = 0
    for s, note in zip(ann.sample, ann.aux_note, strict=True):
        note = note.rstrip("\x00")
        if not note:
            continue
        if state:
            mask[start:s] = True
        state = note.startswith(_VF_RHYTHMS)
        start = int(s)
    if state:
        mask[start:] = True
    return mask


def _score_vfdb(stem: str) -> dict[str, Any]:
    rec = wfdb.rdrecord(stem)
    ann = wfdb.rdann(stem, "atr")
    fs = float(rec.fs)
    ecg = np.nan_to_num(np.asarray(rec.p_signal, dtype=np.float64).T)
    beats = detect_beats(ecg, fs_hz=fs)
    vf = _vf_mask(ann, ecg.shape[1])
    ref = np.asarray(wfdb_processing.xqrs_detect(ecg[0], fs=fs, verbose=False), dtype=np.int64)
    ours = beats.r_idx[~vf[beats.r_idx]]
    ref = ref[~vf[ref]] if ref.size else ref
    rp, _ = match_beats(ref, ours, round(0.15 * fs))
    unan = np.zeros(ecg.shape[1], dtype=bool)
    for s in beats.unanalysable:
        unan[s.start_idx : s.end_idx] = True
    in_vf = beats.r_idx[vf[beats.r_idx]]
    return {
        "record": Path(stem).name,
        "non_vf_min": float((~vf).sum() / fs / 60),
        "vf_min": float(vf.sum() / fs / 60),
        "agree": int(rp.size),
        "ours": int(ours.size),
        "xqrs": int(ref.size),
        "beats_in_vf": int(in_vf.size),
        "beats_in_vf_not_q": int((beats.label[vf[beats.r_idx]] != "Q").sum()),
        "vf_unanalysable_pct": float(100 * (unan & vf).sum() / max(1, vf.sum())),
    }


@dataclass
class PseudoRefReport:
    """vfdb report: agreement with xqrs outside VF/VFL/noise, behaviour inside VF."""

    database: str
    rows: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {"evaluator": "qrs-vfdb", "database": self.database, "records": self.rows}

    def tables(self) -> list[Table]:
        """One rich table, one row per record."""
        t = Table(
            title=f"{self.database}: agreement with wfdb xqrs outside VF/VFL/noise "
            "(pseudo-reference; vfdb has no beat labels)"
        )
        for col in (
            "record",
            "non-VF min",
            "VF min",
            "agree/xqrs %",
            "agree/ours %",
            "beats in VF",
            "of which not Q",
            "VF unanalysable %",
        ):
            t.add_column(col, justify="right")
        for r in self.rows:
            t.add_row(
                r["record"],
                f"{r['non_vf_min']:.1f}",
                f"{r['vf_min']:.1f}",
                _fmt(100 * r["agree"] / r["xqrs"] if r["xqrs"] else None),
                _fmt(100 * r["agree"] / r["ours"] if r["ours"] else None),
                str(r["beats_in_vf"]),
                str(r["beats_in_vf_not_q"]),
                f"{r['vf_unanalysable_pct']:.1f}",
            )
        return [t]


def evaluate_vfdb(folder: Path, options: EvalOptions) -> PseudoRefReport:
    """Compare with xqrs on non-VF segments and report beats called inside VF."""
    stems = [str(p.with_suffix("")) for p in sorted(folder.glob("*.atr"))]
    return PseudoRefReport(folder.name, _pmap(_score_vfdb, stems, options))


def default_workers() -> int:
    """Two workers, or fewer on a one-core machine."""
    return max(1, min(2, os.cpu_count() or 1))
