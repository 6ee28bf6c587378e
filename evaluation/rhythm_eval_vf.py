"""Rhythm evaluation on vfdb (``rhythm-vf``): VF/VFL episode and duration Se/+P.

VF+VFL+VT ("ventricular tachyarrhythmia") as a second line; asystole episodes found.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import wfdb
from rich.table import Table

from evaluation.episodes import EpisodeCounts, episode_counts, join_reference
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
    critical_codes: tuple[str, ...]


def _score_vf(path: str) -> _VfRecord:
    result = _analyse(path)
    ann = wfdb.rdann(path, "atr")
    ref = read_rhythm_intervals(ann, result.duration_s)
    vf_strict = [(a, b) for lab, a, b in ref if lab in _VF_REF]
    vf_ref = join_reference(ref, _VF_REF)
    det = _of(result, ("VF", "VFL"))
    strict = episode_counts(vf_strict, det)
    vta_ref = join_reference(ref, (*_VF_REF, "VT"))
    asys = [(a, b) for lab, a, b in ref if lab == "ASYS"]
    found_any = _of(result, ("ASYS", "PAUSE", "VF"))
    asys_found = episode_counts(asys, found_any).ref_hit
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
        asys_found=asys_found,
        critical_codes=tuple(sorted({f.code for f in result.findings if f.severity == "critical"})),
    )


@dataclass
class VfReport:
    """VF/VFL episode statistics on vfdb."""

    database: str
    records: list[_VfRecord]

    def tables(self) -> list[Table]:
        """Rich tables: VF/VFL and VF/VFL/VT episodes, asystole."""
        vf = _episode_table(
            f"VF/VFL episodes, {self.database} (EC57 episode statistics, full analyser)",
            [(r.name, r.vf) for r in self.records],
            "ref (VF (VFL (VFIB episodes (adjacent or separated only by (NOISE: joined; "
            "durations without the noise) vs detected VF; target ep Se >= 98 %, ep +P >= 90 %",
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
        asys = Table(title=f"Asystole episodes, {self.database}")
        for col in ("record", "ref (ASYS", "found", "critical codes"):
            asys.add_column(col)
        for r in self.records:
            asys.add_row(r.name, str(r.asys_ref), str(r.asys_found), " ".join(r.critical_codes))
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
        }


def evaluate_vf(folder: Path, options: EvalOptions) -> VfReport:
    """Run the analyser on every vfdb record and score VF/VFL episodes."""
    stems = sorted(str(p.with_suffix("")) for p in folder.glob("*.atr"))
    return VfReport(folder.name, _pmap(_score_vf, stems, options))
