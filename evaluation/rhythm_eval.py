"""Rhythm and critical-value evaluation (issue 5): VF/VFL, AF, pauses, CinC 2017, false alarms.

Shell around the pure core: reads records (``ingest.readers``), runs the full analyser
(:func:`ecg_core.analysis.analyze_record`: QRS detection -> rhythm -> rules) and scores
the episodes against reference rhythm annotations with EC57 episode statistics
(:mod:`evaluation.episodes`). For AF and pauses the rhythm stage is also run on the
reference beats (``ref beats`` rows) to separate detector errors from rhythm errors.

Evaluators (registered in ``cli/eval_cmd.py``):

- ``rhythm-vf``     vfdb: VF/VFL episode and duration Se/+P; VF+VFL+VT ("ventricular
  tachyarrhythmia") as a second line; asystole episodes found.
- ``rhythm-af``     MIT-BIH / CPSC 2021 style folders (.atr with ``(AFIB``): AF episode and
  duration Se/+P (paced MIT-BIH records apart), reference pauses >= 3 s found.
- ``rhythm-cinc2017`` record-level AF F1 against ``REFERENCE.csv``.
- ``rhythm-alarms`` CinC 2015 false alarms: no critical finding may be raised.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import wfdb
from rich.table import Table

from ecg_core.analysis import analyze_record
from ecg_core.rhythm import analyze_rhythm, params_from_profile
from ecg_core.types import BeatSeries
from evaluation.episodes import EpisodeCounts, average, episode_counts, gross, join_reference
from evaluation.qrs_eval import PACED_MITDB, EvalOptions
from ingest.readers import read_record
from models.profile import load_profile
from models.result import AnalysisResult

__all__ = [
    "AAMI",
    "beats_from_annotation",
    "evaluate_af",
    "evaluate_alarms",
    "evaluate_cinc2017",
    "evaluate_vf",
    "is_alarms",
    "is_cinc2017",
    "is_rhythm_db",
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
_VF_REF = ("VF", "VFL", "VFIB")
_AF_REF = ("AFIB", "AFL")
#: Reference pauses at least this long must be found (issue 5 target), s.
PAUSE_TARGET_S = 3.0


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


# ---------------------------------------------------------------- vfdb: VF / VFL


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


# ---------------------------------------------------------------- AF (mitdb, cpsc2021)


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


# ---------------------------------------------------------------- CinC 2017 record-level AF

#: A record is called AF when AF episodes cover at least this share of it.
AF_RECORD_MIN_FRACTION = 0.3


def is_cinc2017(folder: Path) -> bool:
    """Folder holds CinC 2017 records with REFERENCE.csv."""
    return (folder / "REFERENCE.csv").exists() and any(folder.glob("A0*.hea"))


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

    def _confusion(self) -> dict[str, int]:
        c = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        for name, af, _ in self.calls:
            ref_af = self.reference.get(name) == "A"
            c["tp" if af and ref_af else "fp" if af else "fn" if ref_af else "tn"] += 1
        return c

    def f1(self) -> float:
        """F1 of the AF class."""
        c = self._confusion()
        return 2 * c["tp"] / max(1, 2 * c["tp"] + c["fp"] + c["fn"])

    def tables(self) -> list[Table]:
        """Confusion counts, Se/+P/F1 of the AF class, AF calls by reference class."""
        c = self._confusion()
        t = Table(title=f"Record-level AF, {self.database} (AF class F1, target >= 0.85)")
        for col in ("records", "TP", "FP", "FN", "TN", "Se %", "+P %", "F1 (AF)"):
            t.add_column(col, justify="right")
        se = c["tp"] / max(1, c["tp"] + c["fn"])
        pp = c["tp"] / max(1, c["tp"] + c["fp"])
        t.add_row(
            str(len(self.calls)),
            *(str(c[k]) for k in ("tp", "fp", "fn", "tn")),
            f"{100 * se:.1f}",
            f"{100 * pp:.1f}",
            f"{self.f1():.3f}",
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


# ---------------------------------------------------------------- CinC 2015 false alarms


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
