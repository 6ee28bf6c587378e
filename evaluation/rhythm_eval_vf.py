"""Rhythm evaluation on vfdb (``rhythm-vf``): VF/VFL episode and duration Se/+P.

VF+VFL+VT ("ventricular tachyarrhythmia") as a second line; asystole episodes found.
As in EC57 and WFDB ``epicmp``, episodes are scored after the 5-minute learning period
(``--include-learning`` scores the whole record); every false VF episode is listed in the
JSON with the reference rhythm under it and its wave-to-wave rate and cycle CV (from the
VF detector's own trace), and the false episodes are counted by the reference rhythm they
mostly overlap. A detection that is regular (cycle CV below ``VfParams.vt_max_cycle_cv``)
and at least as fast as flutter (``VfParams.vfl_min_rate_hz``) is counted apart, for false
and true detections alike: on vfdb such sine waves are labelled VT in some records and
VFL/VF in others (reference ambiguity, docs/rhythm.md), and the scoring is not changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import wfdb
from numpy.typing import NDArray
from rich.table import Table

from ecg_core.rhythm.vf import VfParams, episode_organisation, vf_trace
from evaluation.ec57 import LEARNING_S
from evaluation.episodes import EpisodeCounts, clip_intervals, episode_counts, join_reference
from evaluation.qrs_eval import EvalOptions
from evaluation.rhythm_eval_base import (
    _analyse,
    _counts_json,
    _episode_table,
    _of,
    _pmap,
    read_rhythm_intervals,
)
from ingest.readers import read_record

__all__ = ["VfReport", "evaluate_vf", "is_vfdb"]

_VF_REF = ("VF", "VFL", "VFIB")


def is_vfdb(folder: Path) -> bool:
    """Folder looks like the MIT-BIH Malignant Ventricular Ectopy Database."""
    return folder.name == "vfdb" or (folder / "418.hea").exists()


@dataclass(frozen=True)
class _VfRecord:
    name: str
    vf: EpisodeCounts
    vf_strict: EpisodeCounts
    vta: EpisodeCounts
    asys_ref: int
    asys_found: int
    asys_ref_3s: int
    asys_found_3s: int
    critical_codes: tuple[str, ...]
    false_vf: tuple[tuple[float, float, str, float, float], ...]
    false_vf_class: tuple[str, ...]
    regular_fast_false: int
    regular_fast_true: int


def _under(ref: list[tuple[str, float, float]], a: float, b: float) -> str:
    """Reference rhythms under ``(a, b)`` with their overlap, e.g. ``VT:12 N:2``."""
    return " ".join(f"{lab}:{min(b, y) - max(a, x):.0f}" for lab, x, y in ref if x < b and a < y)


def _main_rhythm(ref: list[tuple[str, float, float]], a: float, b: float) -> str:
    """Reference rhythm with the largest overlap with ``(a, b)`` (``-`` when none)."""
    best, label = 0.0, "-"
    for lab, x, y in ref:
        ov = min(b, y) - max(a, x)
        if ov > best:
            best, label = ov, lab
    return label


def _detector_organisation(
    path: str, det: list[tuple[float, float]]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wave-to-wave rate (/min) and cycle CV of detected VF episodes, from a fresh trace.

    The same usable-lead signal as the analyser (NaN gaps zeroed), default parameters
    (the profile does not set VF detector parameters).
    """
    record = read_record(Path(path))
    sig = record.signal_mv[record.usable_mask]
    sig = np.where(np.isnan(sig), 0.0, sig)
    trace = vf_trace(sig, fs_hz=record.fs_hz)
    on = np.asarray([a for a, _ in det], dtype=np.float64)
    off = np.asarray([b for _, b in det], dtype=np.float64)
    rate, cv, _ = episode_organisation(trace, on, off)
    return rate, cv


def _regular_fast(rate_bpm: float, cv: float, p: VfParams) -> bool:
    """Regular (cycle CV below the VT limit) and at least as fast as flutter."""
    return bool(cv < p.vt_max_cycle_cv and rate_bpm >= 60.0 * p.vfl_min_rate_hz)


def _score_vf(path: str, *, start_s: float = LEARNING_S, asys_min_s: float = 3.0) -> _VfRecord:
    result = _analyse(path)
    ann = wfdb.rdann(path, "atr")
    ref = read_rhythm_intervals(ann, result.duration_s)
    vf_strict = clip_intervals([(a, b) for lab, a, b in ref if lab in _VF_REF], start_s)
    vf_ref = clip_intervals(join_reference(ref, _VF_REF), start_s)
    det = clip_intervals(_of(result, ("VF", "VFL")), start_s)
    strict = episode_counts(vf_strict, det)
    vta_ref = clip_intervals(join_reference(ref, (*_VF_REF, "VT")), start_s)
    asys = [(a, b) for lab, a, b in ref if lab == "ASYS"]
    asys_3s = [(a, b) for a, b in asys if b - a >= asys_min_s]
    found_any = _of(result, ("ASYS", "PAUSE", "VF"))
    rate, cv = _detector_organisation(path, det)
    p = VfParams()
    is_false = [not any(a < y and x < b for x, y in vf_ref) for a, b in det]
    fast = [_regular_fast(float(r), float(c), p) for r, c in zip(rate, cv, strict=True)]
    false_vf = tuple(
        (round(a, 1), round(b, 1), _under(ref, a, b), round(float(r), 0), round(float(c), 3))
        for (a, b), r, c, f in zip(det, rate, cv, is_false, strict=True)
        if f
    )
    return _VfRecord(
        name=Path(path).name,
        vf=replace(  # episodes joined; durations without the bridged noise
            episode_counts(vf_ref, det),
            ref_s=strict.ref_s,
            overlap_s=strict.overlap_s,
        ),
        vf_strict=strict,
        vta=episode_counts(vta_ref, _of(result, ("VF", "VFL", "VT"))),
        asys_ref=len(asys),
        asys_found=episode_counts(asys, found_any).ref_hit,
        asys_ref_3s=len(asys_3s),
        asys_found_3s=episode_counts(asys_3s, found_any).ref_hit,
        critical_codes=tuple(sorted({f.code for f in result.findings if f.severity == "critical"})),
        false_vf=false_vf,
        false_vf_class=tuple(
            _main_rhythm(ref, a, b) for (a, b), f in zip(det, is_false, strict=True) if f
        ),
        regular_fast_false=sum(q and f for q, f in zip(fast, is_false, strict=True)),
        regular_fast_true=sum(q and not f for q, f in zip(fast, is_false, strict=True)),
    )


@dataclass
class VfReport:
    """VF/VFL episode statistics on vfdb."""

    database: str
    records: list[_VfRecord]
    learning_excluded_s: float = LEARNING_S

    def tables(self) -> list[Table]:
        """Rich tables: VF/VFL and VF/VFL/VT episodes, asystole."""
        learn = (
            f"scored after the first {self.learning_excluded_s:.0f} s (EC57 learning period)"
            if self.learning_excluded_s > 0
            else "whole records scored (learning period included)"
        )
        n_false = sum(len(r.false_vf) for r in self.records)
        n_true = sum(r.vf.det_hit for r in self.records)
        by_class = ", ".join(f"{n} over {lab}" for lab, n in self._false_by_class().most_common())
        fast_false = sum(r.regular_fast_false for r in self.records)
        fast_true = sum(r.regular_fast_true for r in self.records)
        vp = VfParams()
        vf = _episode_table(
            f"VF/VFL episodes, {self.database} (EC57 episode statistics, full analyser)",
            [(r.name, r.vf) for r in self.records],
            "ref (VF (VFL (VFIB episodes (adjacent or separated only by (NOISE: joined; "
            "durations without the noise) vs detected VF; target ep Se >= 98 %, ep +P >= 90 %; "
            f"{learn}; {n_false} false VF episodes (listed in the JSON; {by_class}); "
            f"regular (cycle CV < {vp.vt_max_cycle_cv:g}) and >= "
            f"{60 * vp.vfl_min_rate_hz:.0f} /min: {fast_false} of the false and "
            f"{fast_true} of the {n_true} true detections",
        )
        strict = _episode_table(
            f"VF/VFL episodes, {self.database}, every reference interval its own episode",
            [(r.name, r.vf_strict) for r in self.records],
            "strict count: an interval split by a (NOISE annotation counts twice",
        )
        vta = _episode_table(
            f"Ventricular tachyarrhythmia (VF/VFL/VT), {self.database}",
            [(r.name, r.vta) for r in self.records],
            "reference VF/VFL/VFIB/VT vs detected VF or VT episodes",
        )
        asys = Table(
            title=f"Asystole episodes, {self.database}",
            caption="found: overlapped by a detected ASYS, PAUSE or VF episode; >= 3 s: the "
            "reference episodes at least as long as the asystole threshold (whole record)",
        )
        for col in ("record", "ref (ASYS", "found", "ref >= 3 s", "found", "critical codes"):
            asys.add_column(col)
        for r in self.records:
            asys.add_row(
                r.name,
                str(r.asys_ref),
                str(r.asys_found),
                str(r.asys_ref_3s),
                str(r.asys_found_3s),
                " ".join(r.critical_codes),
            )
        return [vf, strict, vta, asys]

    def _false_by_class(self) -> Counter[str]:
        return Counter(c for r in self.records for c in r.false_vf_class)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "evaluator": "rhythm-vf",
            "database": self.database,
            "vf_vfl": _counts_json([(r.name, r.vf) for r in self.records]),
            "vf_vfl_strict": _counts_json([(r.name, r.vf_strict) for r in self.records]),
            "vf_vfl_vt": _counts_json([(r.name, r.vta) for r in self.records]),
            "asystole": {r.name: [r.asys_ref, r.asys_found] for r in self.records},
            "asystole_3s": {r.name: [r.asys_ref_3s, r.asys_found_3s] for r in self.records},
            "learning_period_excluded_s": self.learning_excluded_s,
            "false_vf_episodes": {
                r.name: [list(e) for e in r.false_vf] for r in self.records if r.false_vf
            },
            "false_vf_episode_fields": ["onset_s", "offset_s", "reference", "rate_bpm", "cycle_cv"],
            "false_vf_by_reference": dict(self._false_by_class()),
            "regular_fast_detections": {
                "false": sum(r.regular_fast_false for r in self.records),
                "true": sum(r.regular_fast_true for r in self.records),
            },
        }


def evaluate_vf(folder: Path, options: EvalOptions) -> VfReport:
    """Run the analyser on every vfdb record and score VF/VFL episodes."""
    stems = sorted(str(p.with_suffix("")) for p in folder.glob("*.atr"))
    start_s = 0.0 if options.include_learning else LEARNING_S
    records = _pmap(partial(_score_vf, start_s=start_s), stems, options)
    return VfReport(folder.name, records, start_s)
