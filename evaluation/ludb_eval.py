"""LUDB evaluation: wave delineation error (LUDB-paper style) and diagnosis-level Se/Sp.

Delineation: every lead's reference annotation (``.i`` ... ``.v6``: ``(`` onset, peak
``p``/``N``/``t``, ``)`` offset) is compared with our per-beat fiducials inside the
annotated span of that lead; a reference wave and a detected wave match when their peaks
lie within 150 ms (one-to-one, nearest first). Reported per fiducial: mean and SD of
detected - reference (ms) over matched waves, and wave detection Se and +P (Kalyakulina
et al., IEEE Access 2020; LUDB 1.0.1 paper).

Diagnoses: ``ecg_core.analysis.analyze_record`` on each record, findings compared with the
ludb.csv labels (the cells contain line breaks; read with the csv module).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecg_core.delineation import DelineationParams, delineate_record, p_waves_from_delineation
from models.record import EcgRecord, make_record

__all__ = [
    "FIDUCIALS",
    "DiagnosisRow",
    "WaveStats",
    "delineation_table",
    "diagnosis_table",
    "evaluate_delineation",
    "evaluate_diagnoses",
    "evaluate_ludb",
    "is_ludb",
    "ludb_labels",
    "ludb_record_ids",
    "read_ludb_record",
]

LUDB_LEADS = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
WAVE_SYMBOL = {"P": "p", "QRS": "N", "T": "t"}
FIDUCIALS = ("P_on", "P_off", "QRS_on", "QRS_off", "T_on", "T_peak", "T_off")
MATCH_MS = 150.0

# wave -> (onset, peak, offset) arrays of detected sample indices, -1 = none
Detected = dict[str, tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]]


@dataclass
class WaveStats:
    """Accumulated errors (ms) per fiducial and detection counts per wave."""

    errors: dict[str, list[float]] = field(default_factory=lambda: {f: [] for f in FIDUCIALS})
    tp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WAVE_SYMBOL, 0))
    fn: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WAVE_SYMBOL, 0))
    fp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WAVE_SYMBOL, 0))
    seconds: list[float] = field(default_factory=list)


def ludb_record_ids(ludb_dir: Path) -> list[str]:
    """Record ids present in ``ludb_dir/data``, numerically sorted."""
    return sorted((p.stem for p in (ludb_dir / "data").glob("*.hea")), key=int)


def read_ludb_record(ludb_dir: Path, rec_id: str) -> EcgRecord:
    """Read one LUDB record (12 leads, 500 Hz) into an :class:`EcgRecord`."""
    import wfdb

    rec = wfdb.rdrecord(str(ludb_dir / "data" / rec_id))
    age: float | None = None
    sex: str | None = None
    for line in rec.comments or []:
        if line.startswith("<age>:"):
            try:
                age = float(line.split(":", 1)[1])
            except ValueError:
                age = None
        if line.startswith("<sex>:"):
            sex = line.split(":", 1)[1].strip()[:1].upper() or None
    return make_record(
        rec.p_signal,
        fs_hz=float(rec.fs),
        leads=list(rec.sig_name),
        record_id=f"ludb{rec_id}",
        source_format="wfdb",
        units=list(rec.units),
        layout="samples_leads",
        patient_age_years=age,
        patient_sex=sex if sex in ("M", "F") else None,  # type: ignore[arg-type]
    )


def _reference(ludb_dir: Path, rec_id: str, lead: str) -> dict[str, NDArray[np.intp]]:
    import wfdb

    ann = wfdb.rdann(str(ludb_dir / "data" / rec_id), lead)
    out: dict[str, list[tuple[int, int, int]]] = {w: [] for w in WAVE_SYMBOL}
    sym = list(ann.symbol)
    smp = [int(s) for s in ann.sample]
    for i, s in enumerate(sym):
        for wave, ps in WAVE_SYMBOL.items():
            if s == ps and 0 < i < len(sym) - 1 and sym[i - 1] == "(" and sym[i + 1] == ")":
                out[wave].append((smp[i - 1], smp[i], smp[i + 1]))
    return {w: np.array(v, dtype=np.intp).reshape(-1, 3) for w, v in out.items()}


def _match(
    ref_peak: NDArray[np.intp], det_peak: NDArray[np.intp], tol: int
) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int, int]] = []
    for i, r in enumerate(ref_peak):
        for j, d in enumerate(det_peak):
            if abs(int(d) - int(r)) <= tol:
                pairs.append((abs(int(d) - int(r)), i, j))
    pairs.sort()
    used_r: set[int] = set()
    used_d: set[int] = set()
    out: list[tuple[int, int]] = []
    for _, i, j in pairs:
        if i not in used_r and j not in used_d:
            used_r.add(i)
            used_d.add(j)
            out.append((i, j))
    return out


def _score_lead(
    ref: dict[str, NDArray[np.intp]], det: Detected, fs_hz: float, stats: WaveStats
) -> None:
    all_ref = np.concatenate([r.ravel() for r in ref.values()])
    if all_ref.size == 0:
        return
    lo, hi = int(all_ref.min()), int(all_ref.max())
    tol = int(MATCH_MS * fs_hz / 1000.0)
    ms = 1000.0 / fs_hz
    for wave, names in (
        ("P", ("P_on", None, "P_off")),
        ("QRS", ("QRS_on", None, "QRS_off")),
        ("T", ("T_on", "T_peak", "T_off")),
    ):
        r = ref[wave]
        on, pk, off = det[wave]
        keep = (pk >= lo) & (pk <= hi) & (pk >= 0)
        on, pk, off = on[keep], pk[keep], off[keep]
        pairs = _match(r[:, 1], pk, tol)
        stats.tp[wave] += len(pairs)
        stats.fn[wave] += r.shape[0] - len(pairs)
        stats.fp[wave] += pk.size - len(pairs)
        for i, j in pairs:
            for k, (name, arr) in enumerate(zip(names, (on, pk, off), strict=True)):
                if name is not None and arr[j] >= 0:
                    stats.errors[name].append(float(arr[j] - r[i, k]) * ms)


def _ours(
    record: EcgRecord, params: DelineationParams | None, r_idx: NDArray[np.intp] | None
) -> tuple[Detected, NDArray[np.intp]]:
    d = delineate_record(record.signal_mv, fs_hz=record.fs_hz, r_idx=r_idx, params=params)
    pw = p_waves_from_delineation(d)
    t_on = np.full(d.r_idx.size, -1, dtype=np.intp)  # T onset not delineated (ST-T continuum)
    det = {
        "P": (pw.onset_idx, pw.peak_idx, pw.offset_idx),
        "QRS": (d.qrs_on_idx, d.r_idx, d.qrs_off_idx),
        "T": (t_on, d.t_peak_idx, d.t_off_idx),
    }
    return det, d.t_off_lead_idx


def _neurokit(record: EcgRecord, lead_row: int) -> Detected:
    import warnings

    import neurokit2 as nk

    x = record.signal_mv[lead_row]
    fs = int(record.fs_hz)
    with warnings.catch_warnings():  # neurokit2 warns on short / odd leads; scored as missed
        warnings.simplefilter("ignore")
        clean = nk.ecg_clean(x, sampling_rate=fs)
        _, info = nk.ecg_peaks(clean, sampling_rate=fs)
        r = np.asarray(info["ECG_R_Peaks"], dtype=np.intp)
        _, waves = nk.ecg_delineate(clean, r, sampling_rate=fs, method="dwt")

    def arr(key: str) -> NDArray[np.intp]:
        v = np.asarray(waves.get(key, []), dtype=np.float64)
        return np.where(np.isfinite(v), v, -1).astype(np.intp)

    return {
        "P": (arr("ECG_P_Onsets"), arr("ECG_P_Peaks"), arr("ECG_P_Offsets")),
        "QRS": (arr("ECG_R_Onsets"), r, arr("ECG_R_Offsets")),
        "T": (arr("ECG_T_Onsets"), arr("ECG_T_Peaks"), arr("ECG_T_Offsets")),
    }


def evaluate_delineation(
    ludb_dir: Path,
    *,
    method: str = "ours",
    record_ids: Sequence[str] | None = None,
    params: DelineationParams | None = None,
    beat_source: Callable[[EcgRecord], NDArray[np.intp] | None] | None = None,
) -> WaveStats:
    """Score a delineator against every lead's LUDB annotation.

    Parameters
    ----------
    ludb_dir : Path
        LUDB folder (with ``data/``).
    method : {"ours", "neurokit2"}
        ``ours``: global fiducials of :func:`delineate_record` scored in all 12 leads;
        ``neurokit2``: ``nk.ecg_delineate`` (DWT) run and scored lead by lead.
    record_ids : sequence of str, optional
        Records to use (default: all).
    params : DelineationParams, optional
        Technical constants for ``ours``.
    beat_source : callable, optional
        ``record -> r_idx`` from a QRS detector; None lets the delineator locate beats.

    Returns
    -------
    WaveStats
        Errors and counts, plus seconds per record.
    """
    stats = WaveStats()
    for rec_id in record_ids or ludb_record_ids(ludb_dir):
        record = read_ludb_record(ludb_dir, rec_id)
        if method == "ours":
            t0 = time.perf_counter()
            det, t_off_lead = _ours(record, params, beat_source(record) if beat_source else None)
            stats.seconds.append(time.perf_counter() - t0)
            for row, lead in enumerate(LUDB_LEADS):
                on, pk, _ = det["T"]
                lead_det = {**det, "T": (on, pk, t_off_lead[row])}
                _score_lead(_reference(ludb_dir, rec_id, lead), lead_det, record.fs_hz, stats)
        else:
            for row, lead in enumerate(LUDB_LEADS):
                t0 = time.perf_counter()
                try:
                    det = _neurokit(record, row)
                except Exception:
                    empty = np.zeros(0, dtype=np.intp)
                    det = {w: (empty, empty, empty) for w in WAVE_SYMBOL}
                stats.seconds.append(time.perf_counter() - t0)
                _score_lead(_reference(ludb_dir, rec_id, lead), det, record.fs_hz, stats)
    return stats


def delineation_table(stats: WaveStats, title: str) -> list[str]:
    """Text table: per fiducial mean +- SD (ms), n; per wave Se and +P (%)."""
    lines = [title, f"{'fiducial':<9} {'mean ms':>8} {'SD ms':>7} {'n':>7}"]
    for name in FIDUCIALS:
        e = np.asarray(stats.errors[name])
        if e.size:
            lines.append(f"{name:<9} {e.mean():>8.1f} {e.std():>7.1f} {e.size:>7d}")
    lines.append(f"{'wave':<9} {'Se %':>8} {'+P %':>7}")
    for wave in WAVE_SYMBOL:
        tp, fn, fp = stats.tp[wave], stats.fn[wave], stats.fp[wave]
        se = 100.0 * tp / max(1, tp + fn)
        pp = 100.0 * tp / max(1, tp + fp)
        lines.append(f"{wave:<9} {se:>8.2f} {pp:>7.2f}")
    if stats.seconds:
        s = np.asarray(stats.seconds) * 1000.0
        lines.append(f"time per call: median {np.median(s):.1f} ms, max {s.max():.1f} ms")
    return lines


# ---------------------------------------------------------------- diagnoses


def ludb_labels(ludb_dir: Path) -> dict[str, dict[str, str]]:
    """ludb.csv rows by record id (cells keep their line breaks)."""
    with (ludb_dir / "ludb.csv").open(newline="", encoding="utf-8") as fh:
        return {row["ID"].strip(): row for row in csv.DictReader(fh)}


def _lines(row: dict[str, str], column: str) -> list[str]:
    return [x.strip().lower() for x in row.get(column, "").splitlines() if x.strip()]


def _has(row: dict[str, str], column: str, prefix: str) -> bool:
    """True when a line of the cell starts with ``prefix`` (so "stemi" is not "nstemi")."""
    return any(line.startswith(prefix) for line in _lines(row, column))


Truth = Callable[[dict[str, str]], bool]

#: Diagnosis -> (truth from ludb.csv, finding codes that count as a positive call,
#: population for specificity: None = all other records).
LUDB_DIAGNOSES: dict[str, tuple[Truth, frozenset[str], Truth | None]] = {
    "STEMI": (
        lambda r: _has(r, "Ischemia", "stemi"),
        frozenset({"ACUTE_MI", "SGARBOSSA", "POSTERIOR_MI", "DE_WINTER"}),
        lambda r: not _lines(r, "Ischemia"),
    ),
    # The same records, counting any acute MI / ischaemia finding as a call: what
    # reaches the reviewer as a critical ischaemia finding, STEMI criteria met or not.
    "STEMI, any MI/isch code": (
        lambda r: _has(r, "Ischemia", "stemi"),
        frozenset(
            {
                "ACUTE_MI",
                "SGARBOSSA",
                "POSTERIOR_MI",
                "DE_WINTER",
                "ACUTE_ISCHEMIA",
                "DIFFUSE_ST_DEPRESSION",
                "T_INVERSION",
            }
        ),
        lambda r: not _lines(r, "Ischemia"),
    ),
    "AF": (lambda r: _has(r, "Rhythms", "atrial fibrillation"), frozenset({"AF"}), None),
    "AV block I": (
        lambda r: _has(r, "Conduction abnormalities", "i degree av block"),
        frozenset({"AV_BLOCK_1"}),
        None,
    ),
    "AV block III": (
        lambda r: _has(r, "Conduction abnormalities", "iii degree"),
        frozenset({"AV_BLOCK_3"}),
        None,
    ),
    "LBBB": (
        lambda r: _has(r, "Conduction abnormalities", "complete left bundle"),
        frozenset({"LBBB"}),
        None,
    ),
    "RBBB": (
        lambda r: _has(r, "Conduction abnormalities", "complete right bundle"),
        frozenset({"RBBB"}),
        None,
    ),
}


@dataclass(frozen=True)
class DiagnosisRow:
    """Confusion counts for one diagnosis."""

    name: str
    tp: int
    fn: int
    tn: int
    fp: int
    missed: tuple[str, ...]
    false_pos: tuple[str, ...]

    @property
    def se(self) -> float:
        """Sensitivity, %."""
        return 100.0 * self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def sp(self) -> float:
        """Specificity, %."""
        return 100.0 * self.tn / (self.tn + self.fp) if self.tn + self.fp else float("nan")


def score_diagnoses(
    calls: dict[str, set[str]],
    truth_rows: dict[str, dict[str, str]],
    diagnoses: Mapping[str, tuple[Truth, frozenset[str], Truth | None]],
) -> list[DiagnosisRow]:
    """Se/Sp per diagnosis from finding codes per record and truth rows."""
    out: list[DiagnosisRow] = []
    for name, (truth, codes, negatives) in diagnoses.items():
        tp = fn = tn = fp = 0
        missed: list[str] = []
        false_pos: list[str] = []
        for rec_id, row in truth_rows.items():
            if rec_id not in calls:
                continue
            called = bool(calls[rec_id] & codes)
            if truth(row):
                tp, fn = tp + called, fn + (not called)
                if not called:
                    missed.append(rec_id)
            elif negatives is None or negatives(row):
                fp, tn = fp + called, tn + (not called)
                if called:
                    false_pos.append(rec_id)
        out.append(DiagnosisRow(name, tp, fn, tn, fp, tuple(missed), tuple(false_pos)))
    return out


def evaluate_diagnoses(
    ludb_dir: Path, *, record_ids: Iterable[str] | None = None, profile: str = "cn-2017-national"
) -> list[DiagnosisRow]:
    """Run the full analysis on LUDB records and score findings against ludb.csv."""
    from ecg_core.analysis import analyze_record
    from models.profile import load_profile

    prof = load_profile(profile)
    labels = ludb_labels(ludb_dir)
    calls: dict[str, set[str]] = {}
    for rec_id in record_ids or ludb_record_ids(ludb_dir):
        result = analyze_record(read_ludb_record(ludb_dir, rec_id), profile=prof)
        calls[rec_id] = {f.code for f in result.findings}
    return score_diagnoses(calls, labels, LUDB_DIAGNOSES)


def diagnosis_table(rows: Sequence[DiagnosisRow], title: str) -> list[str]:
    """Text table of Se/Sp per diagnosis, with the record ids missed / falsely called."""
    w = max([13, *(len(r.name) for r in rows)])
    lines = [
        title,
        f"{'diagnosis':<{w}} {'TP':>3} {'FN':>3} {'TN':>4} {'FP':>3} {'Se %':>6} {'Sp %':>6}",
    ]
    for r in rows:
        lines.append(
            f"{r.name:<{w}} {r.tp:>3} {r.fn:>3} {r.tn:>4} {r.fp:>3} {r.se:>6.1f} {r.sp:>6.1f}"
            + (f"  missed {','.join(r.missed)}" if r.missed else "")
            + (f"  false+ {','.join(r.false_pos)}" if r.false_pos else "")
        )
    return lines


@dataclass(frozen=True)
class TextTablesReport:
    """Report of the 12-lead evaluators: titled text tables (rendered by ``ecg eval``)."""

    name: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    data: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> list[Any]:
        """One rich table per section, each line of the text table as a row."""
        from rich.table import Table

        out = []
        for title, lines in self.sections:
            table = Table(title=title, show_header=False, box=None)
            table.add_column(no_wrap=True)
            for line in lines:
                table.add_row(line)
            out.append(table)
        return out

    def to_json(self) -> dict[str, Any]:
        """Sections as lists of lines, plus the figures in ``data``."""
        return {
            "evaluator": self.name,
            "sections": {t: list(lines) for t, lines in self.sections},
            **self.data,
        }


def _stats_json(stats: WaveStats) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FIDUCIALS:
        e = np.asarray(stats.errors[name])
        if e.size:
            out[name] = {"mean_ms": float(e.mean()), "sd_ms": float(e.std()), "n": int(e.size)}
    for wave in WAVE_SYMBOL:
        tp, fn, fp = stats.tp[wave], stats.fn[wave], stats.fp[wave]
        out[f"{wave}_detection"] = {"tp": tp, "fn": fn, "fp": fp}
    return out


def is_ludb(path: Path) -> bool:
    """True for a LUDB folder (ludb.csv and data/)."""
    return (path / "ludb.csv").is_file() and (path / "data").is_dir()


def evaluate_ludb(path: Path, options: Any = None, *, neurokit: bool = True) -> TextTablesReport:
    """``ecg eval`` entry: delineation (ours and neurokit2) and diagnosis tables on LUDB.

    Parameters
    ----------
    path : Path
        LUDB folder.
    options : EvalOptions, optional
        Shared ``ecg eval`` options (unused: LUDB is small and runs serially).
    neurokit : bool
        Also score neurokit2's DWT delineator (about 1 min).

    Returns
    -------
    TextTablesReport
        Tables and figures.
    """
    del options
    ours = evaluate_delineation(path)
    sections = [("LUDB delineation: ours (median beat, 12 leads)", ours)]
    if neurokit:
        sections.append(
            (
                "LUDB delineation: neurokit2 ecg_delineate (DWT)",
                evaluate_delineation(path, method="neurokit2"),
            )
        )
    diag = evaluate_diagnoses(path)
    return TextTablesReport(
        name="ludb",
        sections=(
            *((t, tuple(delineation_table(st, t)[1:])) for t, st in sections),
            ("LUDB diagnoses vs ludb.csv", tuple(diagnosis_table(diag, "")[1:])),
        ),
        data={
            "delineation": {t: _stats_json(st) for t, st in sections},
            "diagnoses": {r.name: {"tp": r.tp, "fn": r.fn, "tn": r.tn, "fp": r.fp} for r in diag},
        },
    )
