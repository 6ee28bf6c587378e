"""Timing of the full resting analysis (``analyze_record``) on 10 s 12-lead LUDB records.

Prints, per record and overall, the median wall-clock and CPU (``time.process_time``)
time of ``ecg_core.analysis.analyze_record`` and of the 12-lead stage alone, plus the
load average, so that a figure measured on a busy machine can be recognised as such.
Benchmarks print figures; they assert nothing.

Run: ``.venv/bin/python -m evaluation.bench_resting [--runs 20] [--ludb DIR] [ids ...]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

__all__ = ["main", "time_call"]

_DEFAULT_IDS = ("1", "7", "33", "55", "101", "151")


def time_call(fn: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` calls of ``fn`` (one warm-up call first)."""
    fn()
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*", default=list(_DEFAULT_IDS))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--ludb", type=Path, default=Path("../shared/ecg-data/ludb"))
    args = ap.parse_args(argv)

    from ecg_core.analysis import analyze_record
    from ecg_core.qrs import detect_beats
    from ecg_core.twelve_lead import analyze_twelve_lead
    from evaluation.ludb_eval import read_ludb_record
    from models.profile import load_profile

    prof = load_profile()
    print(f"load average before: {os.getloadavg()[0]:.2f} (cpus: {os.cpu_count()})")
    cols = ("full wall ms", "full cpu ms", "12-lead wall", "12-lead cpu")
    print(f"{'record':<8} " + " ".join(f"{c:>12}" for c in cols))
    all_w: list[float] = []
    all_c: list[float] = []
    for rec_id in args.ids:
        rec = read_ludb_record(args.ludb, rec_id)
        beats = detect_beats(rec.signal_mv, fs_hz=rec.fs_hz)
        w, c = time_call(partial(analyze_record, rec, profile=prof), args.runs)
        tw, tc = time_call(
            partial(
                analyze_twelve_lead,
                rec.signal_mv,
                rec.leads,
                fs_hz=rec.fs_hz,
                r_idx=beats.r_idx,
                labels=beats.label,
            ),
            args.runs,
        )
        all_w += w
        all_c += c
        print(
            f"ludb{rec_id:<4} {1e3 * statistics.median(w):>12.1f} "
            f"{1e3 * statistics.median(c):>12.1f} {1e3 * statistics.median(tw):>12.1f} "
            f"{1e3 * statistics.median(tc):>12.1f}"
        )
    print(
        f"overall median full analysis: wall {1e3 * statistics.median(all_w):.1f} ms, "
        f"cpu {1e3 * statistics.median(all_c):.1f} ms ({len(all_w)} runs); "
        f"load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
