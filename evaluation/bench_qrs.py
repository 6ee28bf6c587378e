"""QRS benchmark: our detector against neurokit2, wfdb xqrs and sleepecg on the same records.

Each method runs in a fresh subprocess (``python -m evaluation.bench_qrs METHOD REC...``) so
its peak memory is that process's ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (peak RSS,
including the interpreter and imported libraries). Times are seconds of the detection calls
only (records are read and converted before timing), per hour of ECG: CPU time of the
process (``time.process_time``, robust to other jobs on a shared machine) and wall time,
per record-hour and per lead-hour (record-hour / leads given to the method). Peers get
lead 0; ``ours`` gets every lead and runs the whole QRS stage (detection, beat classes,
not-a-QRS filter, VF check: ``detect_beats``), ``ours_lead0`` the same on lead 0 only,
``ours_detect`` the detector alone on lead 0 (``detect_qrs_only``: cleaning + detection,
no classification or artefact filters), the like-for-like counterpart of sleepecg.
Accuracy: QRS Se/+P/F1 over the whole record, 150 ms window (EC57 matching, learning period
included, VF episodes excluded).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import wfdb

from evaluation.ec57 import aami_class, compare, gross, vf_mask_spans

__all__ = ["METHODS", "run_holter", "run_method", "run_method_subprocess"]

METHODS = (
    "ours",
    "ours_lead0",
    "ours_detect",
    "neurokit2_peaks",
    "neurokit2_process",
    "xqrs",
    "sleepecg",
)


def _leads(method: str, ecg: np.ndarray) -> np.ndarray:
    """The leads a method is given: every lead for ``ours``, lead 0 for the others."""
    return ecg if method == "ours" else np.ascontiguousarray(ecg[:1])


def _detect(method: str, ecg: np.ndarray, fs: float) -> np.ndarray:
    if method in ("ours", "ours_lead0"):
        from ecg_core.qrs import detect_beats

        return detect_beats(ecg, fs_hz=fs).r_idx
    if method == "ours_detect":
        from ecg_core.qrs import detect_qrs_only

        return detect_qrs_only(ecg, fs_hz=fs)
    if method == "neurokit2_peaks":
        import neurokit2 as nk

        _, info = nk.ecg_peaks(ecg[0], sampling_rate=int(fs))
        return np.asarray(info["ECG_R_Peaks"])
    if method == "neurokit2_process":
        import neurokit2 as nk

        _, info = nk.ecg_process(ecg[0], sampling_rate=int(fs))
        return np.asarray(info["ECG_R_Peaks"])
    if method == "xqrs":
        from wfdb import processing

        return np.asarray(processing.xqrs_detect(ecg[0], fs=fs, verbose=False))
    if method == "sleepecg":
        import sleepecg

        return np.asarray(sleepecg.detect_heartbeats(ecg[0], fs))  # type: ignore[attr-defined]
    raise ValueError(f"unknown method {method!r}; known: {METHODS}")


def run_method(method: str, stems: list[str]) -> dict[str, Any]:
    """Run one method over records in this process; return time, memory and accuracy."""
    counts = []
    warm = wfdb.rdrecord(stems[0], sampfrom=0, sampto=20 * 360)  # imports and caches, untimed
    warm_ecg = np.ascontiguousarray(np.nan_to_num(np.asarray(warm.p_signal, dtype=np.float64).T))
    _detect(method, _leads(method, warm_ecg), float(warm.fs))
    secs = 0.0
    cpu = 0.0
    hours = 0.0
    lead_hours = 0.0
    for stem in stems:
        rec = wfdb.rdrecord(stem)
        ann = wfdb.rdann(stem, "atr")
        # (leads, samples), C order, for every method alike: the layout conversion of
        # ``p_signal.T`` is not part of anyone's detection time
        sig = np.nan_to_num(np.asarray(rec.p_signal, dtype=np.float64).T)
        ecg = _leads(method, np.ascontiguousarray(sig))
        fs = float(rec.fs)
        t0 = time.perf_counter()
        c0 = time.process_time()
        r = np.sort(np.asarray(_detect(method, ecg, fs), dtype=np.int64))
        cpu += time.process_time() - c0
        secs += time.perf_counter() - t0
        hours += ecg.shape[1] / fs / 3600
        lead_hours += ecg.shape[0] * ecg.shape[1] / fs / 3600
        cls = aami_class(ann.symbol)
        b = cls != ""
        counts.append(
            compare(
                Path(stem).name,
                np.asarray(ann.sample)[b],
                cls[b],
                r,
                np.full(r.size, "N"),
                fs_hz=fs,
                excluded=vf_mask_spans(np.asarray(ann.sample), list(ann.symbol)),
            )
        )
    g = gross(counts)
    se, pp = g.stats()["qrs_se"] or 0.0, g.stats()["qrs_pp"] or 0.0
    return {
        "method": method,
        "records": len(stems),
        "hours": hours,
        "leads": round(lead_hours / hours),
        "s_per_hour": secs / hours,
        "cpu_s_per_hour": cpu / hours,
        "cpu_s_per_lead_hour": cpu / lead_hours,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "se": se,
        "pp": pp,
        "f1": 2 * se * pp / (se + pp) if se + pp else 0.0,
    }


def run_method_subprocess(method: str, stems: list[str]) -> dict[str, Any]:
    """Run :func:`run_method` in a fresh interpreter (clean peak-RSS measurement)."""
    out = subprocess.run(
        [sys.executable, "-m", "evaluation.bench_qrs", method, *stems],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def build_holter(sources: list[str], *, hours: float = 24.0, fs_hz: float = 250.0) -> np.ndarray:
    """Tile real records (resampled to ``fs_hz``) into a ``(3, hours*3600*fs)`` array, mV."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    pieces = []
    for stem in sources:
        rec = wfdb.rdrecord(stem)
        x = np.nan_to_num(np.asarray(rec.p_signal, dtype=np.float64).T)[:2]
        frac = Fraction(fs_hz / rec.fs).limit_denominator(1000)
        y = resample_poly(x, frac.numerator, frac.denominator, axis=-1)
        pieces.append(np.vstack([y, y[0] - y[1]]))  # third lead: difference of the two
    n = int(hours * 3600 * fs_hz)
    one = np.concatenate(pieces, axis=1)
    reps = -(-n // one.shape[1])
    return np.tile(one, (1, reps))[:, :n]


def run_holter(sources: list[str]) -> dict[str, Any]:
    """Time the full QRS + classification stage on a 24 h, 3-lead, 250 Hz signal."""
    from ecg_core.qrs import detect_beats

    ecg = build_holter(sources)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    c0 = time.process_time()
    beats = detect_beats(ecg, fs_hz=250.0)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {
        "method": "holter_24h_3lead_250hz",
        "samples": int(ecg.size),
        "input_mb": ecg.nbytes / 2**20,
        "wall_s": wall,
        "cpu_s": cpu,
        "beats": len(beats),
        "rss_before_mb": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    res = run_holter(args) if name == "holter" else run_method(name, args)
    print(json.dumps(res))
