"""Rhythm evaluation on CinC 2017 (``rhythm-cinc2017``): record-level AF F1.

Scored against ``REFERENCE.csv``; normal records with a critical finding are counted
as false alarms.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from evaluation.qrs_eval import EvalOptions
from evaluation.rhythm_eval_base import (
    _analyse,
    _of,
    _pmap,
)

__all__ = ["AF_RECORD_MIN_FRACTION", "Cinc2017Report", "evaluate_cinc2017", "is_cinc2017"]

#: A record is called AF when AF episodes cover at least this share of it.
AF_RECORD_MIN_FRACTION = 0.3


def is_cinc2017(folder: Path) -> bool:
    """Folder holds CinC 2017 records with REFERENCE.csv."""
    return (folder / "REFERENCE.csv").exists() and any(folder.glob("A0*.hea"))


def _record_number(name: str) -> int:
    """Number of a CinC 2017 record name (``A00123`` -> 123; -1 if none)."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits else -1


def _af_call(path: str) -> tuple[str, bool, tuple[str, ...]]:
    """(record, AF called, codes of the critical findings raised)."""
    result = _analyse(path)
    af_s = sum(b - a for a, b in _of(result, ("AFIB", "AFL")))
    return (
        Path(path).name,
        af_s >= AF_RECORD_MIN_FRACTION * result.duration_s,
        tuple(sorted({f.code for f in result.findings if f.severity == "critical"})),
    )


@dataclass
class Cinc2017Report:
    """Record-level AF classification on CinC 2017."""

    database: str
    calls: list[tuple[str, bool, tuple[str, ...]]]
    reference: dict[str, str]

    def normal_critical(self) -> dict[str, int]:
        """Records labelled Normal with a critical finding: per code, and ``records`` in all.

        A normal record must raise no critical value (a centre that cries wolf gets
        ignored), so this count is a false-alarm measure on 887+ single-lead normals.
        """
        normal = [x for x in self.calls if self.reference.get(x[0]) == "N"]
        out: dict[str, int] = {"records": sum(bool(x[2]) for x in normal)}
        for _, _, codes in normal:
            for code in codes:
                out[code] = out.get(code, 0) + 1
        return out

    def _confusion(self, parity: int | None = None) -> dict[str, int]:
        c = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        for name, af, _ in self.calls:
            if parity is not None and _record_number(name) % 2 != parity:
                continue
            ref_af = self.reference.get(name) == "A"
            c["tp" if af and ref_af else "fp" if af else "fn" if ref_af else "tn"] += 1
        return c

    def f1(self, parity: int | None = None) -> float:
        """F1 of the AF class; ``parity`` 0 / 1: even- / odd-numbered records only.

        The two halves let a threshold set on one half be checked on the other.
        """
        c = self._confusion(parity)
        return 2 * c["tp"] / max(1, 2 * c["tp"] + c["fp"] + c["fn"])

    def tables(self) -> list[Table]:
        """Confusion counts, Se/+P/F1 of the AF class, AF calls by reference class."""
        c = self._confusion()
        t = Table(title=f"Record-level AF, {self.database} (AF class F1, target >= 0.85)")
        for col in ("records", "TP", "FP", "FN", "TN", "Se %", "+P %", "F1 (AF)", "F1 even/odd"):
            t.add_column(col, justify="right")
        se = c["tp"] / max(1, c["tp"] + c["fn"])
        pp = c["tp"] / max(1, c["tp"] + c["fp"])
        t.add_row(
            str(len(self.calls)),
            *(str(c[k]) for k in ("tp", "fp", "fn", "tn")),
            f"{100 * se:.1f}",
            f"{100 * pp:.1f}",
            f"{self.f1():.3f}",
            f"{self.f1(0):.3f} / {self.f1(1):.3f}",
        )
        by = Table(title="AF calls by reference class (N normal, A AF, O other, ~ noisy)")
        for col in ("class", "records", "called AF", "critical"):
            by.add_column(col, justify="right")
        for k in ("N", "A", "O", "~"):
            sel = [x for x in self.calls if self.reference.get(x[0]) == k]
            by.add_row(
                k, str(len(sel)), str(sum(x[1] for x in sel)), str(sum(bool(x[2]) for x in sel))
            )
        nc = self.normal_critical()
        fa = Table(title="Normal records with a critical finding (false alarms; target 0)")
        fa.add_column("code")
        fa.add_column("records", justify="right")
        for code, n in sorted(nc.items(), key=lambda kv: (kv[0] != "records", -kv[1])):
            fa.add_row("any" if code == "records" else code, str(n))
        return [t, by, fa]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "evaluator": "rhythm-cinc2017",
            "database": self.database,
            "confusion": self._confusion(),
            "f1_af": self.f1(),
            "f1_af_even_odd": [self.f1(0), self.f1(1)],
            "af_record_min_fraction": AF_RECORD_MIN_FRACTION,
            "normal_with_critical": self.normal_critical(),
            "critical_by_record": {n: list(c) for n, _, c in self.calls if c},
        }


def evaluate_cinc2017(folder: Path, options: EvalOptions) -> Cinc2017Report:
    """Classify every CinC 2017 record as AF / not AF and score against REFERENCE.csv."""
    with (folder / "REFERENCE.csv").open(newline="") as fh:
        reference = {row[0]: row[1] for row in csv.reader(fh) if len(row) >= 2}
    stems = sorted(str(p.with_suffix("")) for p in folder.glob("A*.hea") if p.stem in reference)
    return Cinc2017Report(folder.name, _pmap(_af_call, stems, options), reference)
