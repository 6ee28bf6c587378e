"""Full analysis of a 24 h, 3-lead, 250 Hz Holter-length record: wall, CPU, peak RSS.

Recipe (docs/rhythm.md): MIT-BIH 119 resampled to 250 Hz, a third lead = mean of the two,
tiled to 24 h, analysed by ``analyze_record`` with the default profile. Prints measured
figures; it is a benchmark, not a test (nothing fails on a slow machine).

Usage: ``python bench/holter_full_bench.py [--record PATH] [--hours 24]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np
import wfdb
from scipy.signal import resample_poly

from ecg_core.analysis import analyze_record
from models.profile import load_profile
from models.record import make_record

DEFAULT = Path(os.environ.get("ECG_SHARED_DATA", "../shared/ecg-data")) / "mitdb" / "119"


def build(record: Path, hours: float) -> np.ndarray:
    """24 h x 3 leads x 250 Hz, mV, tiled from ``record``."""
    sig = wfdb.rdrecord(str(record)).p_signal.T
    x = resample_poly(sig, 25, 36, axis=-1)  # 360 -> 250 Hz
    x = np.vstack([x, x.mean(axis=0, keepdims=True)])
    n = int(hours * 3600 * 250)
    reps = -(-n // x.shape[-1])
    return np.tile(x, (1, reps))[:, :n]


def main() -> None:
    """Build the record, analyse it once, print the figures as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", type=Path, default=DEFAULT)
    ap.add_argument("--hours", type=float, default=24.0)
    args = ap.parse_args()
    x = build(args.record, args.hours)
    rec = make_record(
        x, fs_hz=250.0, leads=("MLII", "V1", "MEAN"), record_id="holter24", source_format="wfdb"
    )
    profile = load_profile()
    w0, c0 = time.perf_counter(), time.process_time()
    res = analyze_record(rec, profile=profile)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    summary = res.summary or {}
    print(
        json.dumps(
            {
                "hours": args.hours,
                "beats": len(res.beats.sample),
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "load_avg_1min": round(os.getloadavg()[0], 2),
                "qt_windows": len(summary.get("qt", {}).get("trend", [])),
                "median_qtc_ms": summary.get("qt", {}).get("median_qtc_ms"),
                "critical": sorted({f.code for f in res.findings if f.severity == "critical"}),
            }
        )
    )


if __name__ == "__main__":
    main()
