"""``ecg bench``: time and score our QRS detector against the peers on the same records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from evaluation.bench_qrs import METHODS, run_method_subprocess

__all__ = ["bench_command"]

_DEFAULT_RECORDS = ("100", "101", "106", "119", "203", "208", "215", "230")


def bench_command(
    data: Annotated[Path, typer.Option(help="Folder with MIT-BIH records.")] = Path(
        "../shared/ecg-data/mitdb"
    ),
    quick: Annotated[bool, typer.Option("--quick", help="Two records only.")] = False,
    holter: Annotated[bool, typer.Option(help="Also time the 24 h 3-lead Holter.")] = True,
) -> None:
    """Print seconds per hour of ECG, peak RSS and QRS Se/+P/F1 per method, with ratios."""
    console = Console(width=160)
    names = [r for r in _DEFAULT_RECORDS if (data / f"{r}.hea").exists()]
    names = names[:2] if quick else names
    stems = [str(data / r) for r in names]
    if not stems:
        raise typer.BadParameter(f"no MIT-BIH records in {data}", param_hint="--data")
    results = []
    for m in METHODS:
        console.print(f"running {m} on {len(stems)} records ...")
        try:
            results.append(run_method_subprocess(m, stems))
        except subprocess.CalledProcessError as exc:
            console.print(f"[red]{m} failed[/red]: {exc.stderr.strip().splitlines()[-1:]}")
    ours = next(r for r in results if r["method"] == "ours")
    t = Table(
        title=f"QRS benchmark on mitdb {' '.join(names)} ({ours['hours']:.2f} h), "
        f"{os.cpu_count()} CPUs, one process per method; times are CPU s (process_time) "
        "unless marked wall"
    )
    for col in (
        "method",
        "leads",
        "CPU s / h ECG",
        "CPU s / lead-h",
        "lead-h time / ours",
        "wall s / h",
        "peak RSS MB",
        "Se %",
        "+P %",
        "F1 %",
    ):
        t.add_column(col, justify="right")
    for r in results:
        t.add_row(
            r["method"],
            str(r["leads"]),
            f"{r['cpu_s_per_hour']:.3f}",
            f"{r['cpu_s_per_lead_hour']:.3f}",
            f"{r['cpu_s_per_lead_hour'] / ours['cpu_s_per_lead_hour']:.2f}",
            f"{r['s_per_hour']:.3f}",
            f"{r['peak_rss_mb']:.0f}",
            f"{r['se']:.2f}",
            f"{r['pp']:.2f}",
            f"{r['f1']:.2f}",
        )
    console.print(t)
    if holter:
        sources = [str(data / r) for r in names[:4]]
        out = subprocess.run(
            [sys.executable, "-m", "evaluation.bench_qrs", "holter", *sources],
            check=True,
            capture_output=True,
            text=True,
        )
        import json

        h = json.loads(out.stdout.strip().splitlines()[-1])
        console.print(
            f"24 h Holter, 3 leads, 250 Hz ({h['samples'] / 1e6:.0f} M samples, input "
            f"{h['input_mb']:.0f} MB): wall {h['wall_s']:.2f} s, CPU {h['cpu_s']:.2f} s, "
            f"{h['beats']} beats, peak RSS {h['peak_rss_mb']:.0f} MB (with input array)"
        )
