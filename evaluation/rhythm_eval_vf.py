"""Rhythm evaluation on vfdb (``rhythm-vf``): VF/VFL episode and duration Se/+P.

VF+VFL+VT ("ventricular tachyarrhythmia") as a second line; asystole episodes found.
As in EC57 and WFDB ``epicmp``, episodes are scored after the 5-minute learning period
(``--include-learning`` scores the whole record); every false VF episode is listed in the
JSON with the reference rhythm under it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import wfdb
from rich.table import Table

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
    false_vf: tuple[tuple[float, float, str], ...]


def _under(ref: list[tuple[str, float, float]], a: float, b: float) -> str:
    """Reference rhythms under ``(a, b)`` with their overlap, e.g. ``VT:12 N:2``."""
    return " ".join(f"{lab}:{min(b, y) - max(a, x):.0f}" for lab, x, y in ref if x < b and a < y)


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
    false_vf = tuple(
        (round(a, 1), round(b, 1), _under(ref, a, b))
        for a, b in det
        if not any(a < y and x < b for x, y in vf_ref)
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
        vf = _episode_table(
            f"VF/VFL episodes, {self.database} (EC57 episode statistics, full analyser)",
            [(r.name, r.vf) for r in self.records],
            "ref (VF (VFL (VFIB episodes (adjacent or separated only by (NOISE: joined; "
            "durations without the noise) vs detected VF; target ep Se >= 98 %, ep +P >= 90 %; "
            f"{learn}; {n_false} false VF episodes (listed in the JSON)",
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
        }


def evaluate_vf(folder: Path, options: EvalOptions) -> VfReport:
    """Run the analyser on every vfdb record and score VF/VFL episodes."""
    stems = sorted(str(p.with_suffix("")) for p in folder.glob("*.atr"))
    start_s = 0.0 if options.include_learning else LEARNING_S
    records = _pmap(partial(_score_vf, start_s=start_s), stems, options)
    return VfReport(folder.name, records, start_s)
