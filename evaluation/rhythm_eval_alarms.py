"""Rhythm evaluation on CinC 2015 false alarms (``rhythm-alarms``).

No critical finding may be raised on a false-alarm record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wfdb
from rich.table import Table

from evaluation.qrs_eval import EvalOptions
from evaluation.rhythm_eval_base import (
    _analyse,
    _pmap,
)

__all__ = ["AlarmReport", "evaluate_alarms", "is_alarms"]


def is_alarms(folder: Path) -> bool:
    """Folder holds CinC 2015 alarm records (e.g. a103l)."""
    return folder.name.startswith("cinc2015") or (folder / "a103l.hea").exists()


def _alarm(path: str) -> dict[str, Any]:
    result = _analyse(path)
    header = wfdb.rdheader(path)
    comments = [c.strip() for c in header.comments]
    crit = [f for f in result.findings if f.severity == "critical"]
    return {
        "record": Path(path).name,
        "alarm": comments[0] if comments else "?",
        "truth": comments[1] if len(comments) > 1 else "?",
        "critical": [f"{f.code}@{f.onset_s}" for f in crit],
        "episodes": sorted({e.type for e in result.episodes}),
    }


@dataclass
class AlarmReport:
    """CinC 2015 false-alarm check: a false alarm must not be called critical."""

    database: str
    rows: list[dict[str, Any]]

    def passed(self) -> bool:
        """True when no false-alarm record raised a critical finding."""
        return all(not r["critical"] for r in self.rows if "false" in str(r["truth"]).lower())

    def tables(self) -> list[Table]:
        """One row per record."""
        t = Table(
            title=f"False-alarm check, {self.database}: {'PASS' if self.passed() else 'FAIL'}"
        )
        for col in ("record", "alarm", "truth", "critical findings", "episode types"):
            t.add_column(col)
        for r in self.rows:
            t.add_row(
                r["record"],
                r["alarm"],
                r["truth"],
                ", ".join(r["critical"]) or "none",
                " ".join(r["episodes"]),
            )
        return [t]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "evaluator": "rhythm-alarms",
            "database": self.database,
            "passed": self.passed(),
            "records": self.rows,
        }


def evaluate_alarms(folder: Path, options: EvalOptions) -> AlarmReport:
    """Analyse each alarm record; false alarms must yield no critical finding."""
    stems = sorted(str(p.with_suffix("")) for p in folder.glob("*.hea"))
    return AlarmReport(folder.name, _pmap(_alarm, stems, options))
