"""Rhythm evaluation on AF databases (``rhythm-af``): AF episodes and pauses.

MIT-BIH / CPSC 2021 style folders (.atr with ``(AFIB``): AF episode and duration Se/+P
(paced MIT-BIH records apart), reference pauses >= 3 s found. The rhythm stage is also
run on the reference beats to separate detector errors from rhythm errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import wfdb
from rich.table import Table

from ecg_core.analysis import analyze_record
from ecg_core.rhythm import analyze_rhythm, params_from_profile
from evaluation.episodes import EpisodeCounts, episode_counts
from evaluation.qrs_eval import PACED_MITDB, EvalOptions
from evaluation.rhythm_eval_base import (
    _counts_json,
    _episode_table,
    _of,
    _pmap,
    beats_from_annotation,
    read_rhythm_intervals,
    reference_pauses,
)
from ingest.readers import read_record
from models.profile import load_profile

__all__ = ["PAUSE_TARGET_S", "AfReport", "evaluate_af", "is_rhythm_db"]

_AF_REF = ("AFIB", "AFL")
#: Reference pauses at least this long must be found (issue 5 target), s.
PAUSE_TARGET_S = 3.0


def is_rhythm_db(folder: Path) -> bool:
    """Folder holds WFDB records whose .atr files carry AF rhythm labels."""
    for atr in sorted(folder.glob("*.atr"))[:60]:
        try:
            ann = wfdb.rdann(str(atr.with_suffix("")), "atr")
        except Exception:
            continue
        if any(str(a).strip("\x00").strip() in ("(AFIB", "(AFL") for a in ann.aux_note):
            return True
    return False


@dataclass(frozen=True)
class _AfRecord:
    name: str
    det: EpisodeCounts
    ref_beats: EpisodeCounts
    pauses_ref: int
    pauses_found: int
    pauses_found_ref_beats: int


def _score_af(path: str) -> _AfRecord:
    record = read_record(Path(path))
    profile = load_profile()
    result = analyze_record(record, profile=profile)
    ann = wfdb.rdann(path, "atr")
    ref = [(a, b) for lab, a, b in read_rhythm_intervals(ann, result.duration_s) if lab in _AF_REF]
    beats = beats_from_annotation(ann, record.fs_hz)
    usable = record.signal_mv[record.usable_mask]
    eps_ref, _ = analyze_rhythm(
        np.nan_to_num(usable),
        beats,
        duration_s=record.duration_s,
        leads=tuple(record.leads),
        params=params_from_profile(profile),
    )
    pauses = reference_pauses(ann, beats, PAUSE_TARGET_S)
    found = episode_counts(pauses, _of(result, ("PAUSE", "ASYS")))
    found_ref = episode_counts(
        pauses, [(e.onset_s, e.offset_s) for e in eps_ref if e.type in ("PAUSE", "ASYS")]
    )
    return _AfRecord(
        name=Path(path).name,
        det=episode_counts(ref, _of(result, ("AFIB", "AFL"))),
        ref_beats=episode_counts(
            ref, [(e.onset_s, e.offset_s) for e in eps_ref if e.type in ("AFIB", "AFL")]
        ),
        pauses_ref=len(pauses),
        pauses_found=found.ref_hit,
        pauses_found_ref_beats=found_ref.ref_hit,
    )


@dataclass
class AfReport:
    """AF episode statistics and pause check on one database."""

    database: str
    records: list[_AfRecord]
    paced: list[_AfRecord] = field(default_factory=list)

    def tables(self) -> list[Table]:
        """Rich tables: AF with detector beats, AF with reference beats, pauses."""
        out = []
        for title, rs in (("", self.records), (" (paced records)", self.paced)):
            if not rs:
                continue
            out.append(
                _episode_table(
                    f"AF episodes, {self.database}{title}: full analyser (detected beats)",
                    [(r.name, r.det) for r in rs],
                    "reference (AFIB/(AFL vs detected AFIB; target duration Se and +P >= 95 %",
                )
            )
            out.append(
                _episode_table(
                    f"AF episodes, {self.database}{title}: rhythm stage on reference beats",
                    [(r.name, r.ref_beats) for r in rs],
                )
            )
        p = Table(title=f"Reference pauses >= {PAUSE_TARGET_S:g} s, {self.database}")
        for col in ("records with pauses", "ref pauses", "found (detector)", "found (ref beats)"):
            p.add_column(col, justify="right")
        rs = self.records + self.paced
        p.add_row(
            " ".join(r.name for r in rs if r.pauses_ref) or "-",
            str(sum(r.pauses_ref for r in rs)),
            str(sum(r.pauses_found for r in rs)),
            str(sum(r.pauses_found_ref_beats for r in rs)),
        )
        out.append(p)
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "evaluator": "rhythm-af",
            "database": self.database,
            "af_detector": _counts_json([(r.name, r.det) for r in self.records]),
            "af_reference_beats": _counts_json([(r.name, r.ref_beats) for r in self.records]),
            "af_detector_paced": _counts_json([(r.name, r.det) for r in self.paced]),
            "pauses": {
                r.name: [r.pauses_ref, r.pauses_found, r.pauses_found_ref_beats]
                for r in self.records + self.paced
            },
        }


def evaluate_af(folder: Path, options: EvalOptions) -> AfReport:
    """Run the analyser on every record with a .atr file; score AF episodes and pauses."""
    stems = sorted(str(p.with_suffix("")) for p in folder.glob("*.atr"))
    rs = _pmap(_score_af, stems, options)
    paced = [r for r in rs if folder.name == "mitdb" and r.name in PACED_MITDB]
    return AfReport(folder.name, [r for r in rs if r not in paced], paced)
