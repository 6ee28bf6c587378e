"""Timing of the full resting analysis (``analyze_record``) on 10 s 12-lead LUDB records.

Prints, per record and overall, the median wall-clock and CPU (``time.process_time``)
time of ``ecg_core.analysis.analyze_record``, of the 12-lead stage alone, and the CPU of
what the worker's ``analyse_job`` does with a record once its files are on disk: read
with the format readers (``ingest.readers.read_record``), ``analyze_record`` and the JSON
dump of the result ("job cpu"). Also the load average, so that a figure measured on a
busy machine can be recognised as such. Benchmarks print figures; they assert nothing.

Run: ``.venv/bin/python -m evaluation.bench_resting [--runs 20] [--ludb DIR] [--all] [ids ...]``
(``--all``: every record of ``DIR/data``).
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
    ap.add_argument("--all", action="store_true", help="every record in LUDB's data folder")
    args = ap.parse_args(argv)
    ids: list[str] = list(args.ids)
    if args.all:
        found = (p.stem for p in (args.ludb / "data").glob("*.hea"))
        ids = sorted(found, key=lambda s: (len(s), s))

    from ecg_core.analysis import analyze_record
    from ecg_core.qrs import detect_beats
    from ecg_core.twelve_lead import analyze_twelve_lead
    from evaluation.ludb_eval import read_ludb_record
    from ingest.readers import read_record
    from models.profile import load_profile

    prof = load_profile()
    print(f"load average before: {os.getloadavg()[0]:.2f} (cpus: {os.cpu_count()})")
    cols = ("full wall ms", "full cpu ms", "12-lead wall", "12-lead cpu", "job cpu ms")
    print(f"{'record':<8} " + " ".join(f"{c:>12}" for c in cols))
    all_w: list[float] = []
    all_c: list[float] = []
    all_job: list[float] = []
    rec_medians: list[float] = []
    job_medians: list[float] = []

    def job(header: Path) -> None:  # worker analyse_job, files already materialised
        analyze_record(read_record(header), profile=prof).model_dump(mode="json")

    for rec_id in ids:
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
        _, jc = time_call(partial(job, args.ludb / "data" / f"{rec_id}.hea"), args.runs)
        all_w += w
        all_c += c
        all_job += jc
        rec_medians.append(statistics.median(c))
        job_medians.append(statistics.median(jc))
        print(
            f"ludb{rec_id:<4} {1e3 * statistics.median(w):>12.1f} "
            f"{1e3 * statistics.median(c):>12.1f} {1e3 * statistics.median(tw):>12.1f} "
            f"{1e3 * statistics.median(tc):>12.1f} {1e3 * statistics.median(jc):>12.1f}"
        )
    print(
        f"overall median full analysis: wall {1e3 * statistics.median(all_w):.1f} ms, "
        f"cpu {1e3 * statistics.median(all_c):.1f} ms ({len(all_w)} runs); "
        f"job (read + analyse + JSON) cpu {1e3 * statistics.median(all_job):.1f} ms; "
        f"median over {len(ids)} records of the per-record medians: analysis cpu "
        f"{1e3 * statistics.median(rec_medians):.1f} ms, job cpu "
        f"{1e3 * statistics.median(job_medians):.1f} ms; "
        f"load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
