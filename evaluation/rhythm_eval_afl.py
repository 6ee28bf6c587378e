"""Atrial flutter evaluation (``rhythm-afl``): AFL episodes and false AFL calls.

Three kinds of folder, each scored with the full analyser (``analyze_record``):

- WFDB folders with rhythm labels in the ``.atr`` files (MIT-BIH, CPSC 2021, vfdb):
  EC57 episode and duration Se/+P of ``AFL`` against the reference ``(AFL`` intervals
  (:mod:`evaluation.episodes`, whole record, no learning period, as ``rhythm-af``),
  plus, per record, how much detected AFL lies over reference AF (``(AFIB``) and over
  anything else (false AFL). Records without reference AFL count for +P only.
- LUDB (``ludb.csv``): record-level; a record is AFL-positive when its ``Rhythms``
  cell mentions flutter (35 and 103 in the public half), called when an ``AFL`` finding
  is raised.
- CinC 2017 (``REFERENCE.csv``): record-level AFL calls per reference class (the
  challenge has no flutter class: every call on a normal record is false).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wfdb
from rich.table import Table

from evaluation.episodes import EpisodeCounts, episode_counts, join_reference, overlap_s
from evaluation.qrs_eval import EvalOptions
from evaluation.rhythm_eval_base import (
    _analyse,
    _counts_json,
    _episode_table,
    _of,
    _pmap,
    read_rhythm_intervals,
)

__all__ = ["AflReport", "evaluate_afl", "is_afl_db"]


def _has_rhythm_atr(folder: Path) -> bool:
    for atr in sorted(folder.glob("*.atr"))[:60]:
        try:
            ann = wfdb.rdann(str(atr.with_suffix("")), "atr")
        except Exception:
            continue
        if any(str(a).strip("\x00").strip().startswith("(") for a in ann.aux_note):
            return True
    return False


def is_afl_db(folder: Path) -> bool:
    """WFDB rhythm-labelled folder, LUDB (ludb.csv) or CinC 2017 (REFERENCE.csv)."""
    if (folder / "ludb.csv").is_file() and (folder / "data").is_dir():
        return True
    if (folder / "REFERENCE.csv").exists() and any(folder.glob("A0*.hea")):
        return True
    return _has_rhythm_atr(folder)


@dataclass(frozen=True)
class _EpisodeRecord:
    name: str
    counts: EpisodeCounts
    over_af_s: float
    false_s: float
    false_n: int


def _score_wfdb(path: str) -> _EpisodeRecord:
    result = _analyse(path)
    ann = wfdb.rdann(path, "atr")
    labelled = read_rhythm_intervals(ann, result.duration_s)
    ref = join_reference(labelled, ("AFL",))
    af = [(a, b) for lab, a, b in labelled if lab == "AFIB"]
    det = _of(result, ("AFL",))
    false = [(a, b) for a, b in det if overlap_s(ref + af, [(a, b)]) == 0.0]
    return _EpisodeRecord(
        name=Path(path).name,
        counts=episode_counts(ref, det),
        over_af_s=overlap_s(af, det),
        false_s=sum(b - a for a, b in false),
        false_n=len(false),
    )


def _afl_found(path: str) -> tuple[str, bool, float]:
    """(record, AFL finding raised, AFL episode seconds)."""
    result = _analyse(path)
    secs = sum(b - a for a, b in _of(result, ("AFL",)))
    return Path(path).name, any(f.code == "AFL" for f in result.findings), secs


@dataclass
class AflReport:
    """AFL statistics of one database (episode-style or record-level)."""

    database: str
    kind: str
    episodes: list[_EpisodeRecord] = field(default_factory=list)
    calls: list[tuple[str, bool, float]] = field(default_factory=list)
    reference: dict[str, str] = field(default_factory=dict)

    def _by_class(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for name, called, _ in self.calls:
            row = out.setdefault(self.reference.get(name, "?"), [0, 0])
            row[0] += 1
            row[1] += int(called)
        return out

    def tables(self) -> list[Table]:
        """Rich tables: EC57 AFL episodes, or record-level calls by reference class."""
        if self.kind == "episodes":
            rows = [(r.name, r.counts) for r in self.episodes]
            t = _episode_table(
                f"AFL episodes, {self.database}: full analyser",
                rows,
                "reference (AFL vs detected AFL (EC57, whole record)",
            )
            f = Table(title=f"Detected AFL outside reference AFL, {self.database}")
            for col in ("record", "AFL over ref AF s", "false AFL episodes", "false AFL s"):
                f.add_column(col, justify="right")
            for r in self.episodes:
                if r.over_af_s > 0 or r.false_n:
                    f.add_row(r.name, f"{r.over_af_s:.0f}", str(r.false_n), f"{r.false_s:.0f}")
            f.add_row(
                "all",
                f"{sum(r.over_af_s for r in self.episodes):.0f}",
                str(sum(r.false_n for r in self.episodes)),
                f"{sum(r.false_s for r in self.episodes):.0f}",
                style="bold",
            )
            return [t, f]
        t = Table(title=f"Record-level AFL, {self.database} (AFL finding raised)")
        for col in ("reference class", "records", "AFL called", "called records"):
            t.add_column(col, justify="right")
        for k, (n, c) in sorted(self._by_class().items()):
            names = [x[0] for x in self.calls if x[1] and self.reference.get(x[0]) == k]
            t.add_row(k, str(n), str(c), " ".join(names[:12]) or "-")
        return [t]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""
        if self.kind == "episodes":
            return {
                "evaluator": "rhythm-afl",
                "database": self.database,
                "afl_episodes": _counts_json([(r.name, r.counts) for r in self.episodes]),
                "afl_over_reference_af_s": {r.name: r.over_af_s for r in self.episodes},
                "false_afl": {r.name: [r.false_n, r.false_s] for r in self.episodes if r.false_n},
            }
        return {
            "evaluator": "rhythm-afl",
            "database": self.database,
            "by_reference_class": self._by_class(),
            "called": [n for n, c, _ in self.calls if c],
        }


def _ludb_reference(folder: Path) -> dict[str, str]:
    with (folder / "ludb.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for row in rows:
        rhythm = (row.get("Rhythms") or "").replace("\n", " ").lower()
        out[row["ID"].strip()] = (
            "flutter"
            if "flutter" in rhythm
            else "fibrillation"
            if "fibrillation" in rhythm
            else "other"
        )
    return out


def evaluate_afl(folder: Path, options: EvalOptions) -> AflReport:
    """Score AFL on a WFDB rhythm-labelled folder, LUDB or CinC 2017 (see module doc)."""
    if (folder / "ludb.csv").is_file() and (folder / "data").is_dir():
        ref = _ludb_reference(folder)
        stems = sorted(
            (str(p.with_suffix("")) for p in (folder / "data").glob("*.hea") if p.stem in ref),
            key=lambda s: int(Path(s).name),
        )
        return AflReport(
            folder.name, "records", calls=_pmap(_afl_found, stems, options), reference=ref
        )
    if (folder / "REFERENCE.csv").exists() and any(folder.glob("A0*.hea")):
        with (folder / "REFERENCE.csv").open(newline="") as fh:
            ref = {row[0]: row[1] for row in csv.reader(fh) if len(row) >= 2}
        stems = sorted(str(p.with_suffix("")) for p in folder.glob("A*.hea") if p.stem in ref)
        return AflReport(
            folder.name, "records", calls=_pmap(_afl_found, stems, options), reference=ref
        )
    stems = sorted(str(p.with_suffix("")) for p in folder.glob("*.atr"))
    return AflReport(folder.name, "episodes", episodes=_pmap(_score_wfdb, stems, options))
