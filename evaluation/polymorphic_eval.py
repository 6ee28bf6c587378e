"""How often ``POLYMORPHIC_VT`` fires, run by run, against reference rhythm labels.

No database here labels VT *subtypes* (mitdb / vfdb say ``(VT``, ``(VFL``, ``(VF``;
CinC 2017 says N / A / O / ~), so this measures flags, not sensitivity: every flagged run
is listed with the reference rhythm labels it overlaps, for a human to judge (``--plot``
draws each one). Flags on CinC 2017 records labelled Normal are false by construction.

Usage::

    python -m evaluation.polymorphic_eval ../shared/ecg-data/mitdb [--records 203,223]
    python -m evaluation.polymorphic_eval ../shared/ecg-data/cinc2017 --normal-only
    python -m evaluation.polymorphic_eval ../shared/ecg-data/vfdb --plot /tmp
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb

from ecg_core.analysis import infer_recording_type
from ecg_core.qrs import detect_beats
from ecg_core.rhythm import analyze_rhythm, params_from_profile
from ecg_core.rhythm.polymorphic import PolymorphicRuns, polymorphic_from_rhythm
from ecg_core.rules.context import RuleContext
from ecg_core.rules.polymorphic_rules import EVALUATORS
from ingest.readers import read_record
from models.profile import load_profile
from models.result import Finding

__all__ = ["RecordFlags", "flag_record", "main"]


@dataclass
class RecordFlags:
    """Runs measured and POLYMORPHIC_VT findings of one record."""

    record: str
    runs_measured: int
    runs_skipped: int
    findings: list[Finding]
    reference: list[str]
    morph: PolymorphicRuns | None


def _reference_labels(path: Path, on_s: float, off_s: float) -> str:
    """Reference rhythm labels (``aux_note``) overlapping ``[on_s, off_s]``."""
    if not path.with_suffix(".atr").exists():
        return ""
    ann = wfdb.rdann(str(path), "atr")
    marks = [
        (s / ann.fs, str(a).strip("\x00"))
        for s, a in zip(ann.sample, ann.aux_note, strict=True)
        if str(a).startswith("(")
    ]
    out = set()
    for k, (t, lab) in enumerate(marks):
        end = marks[k + 1][0] if k + 1 < len(marks) else np.inf
        if t < off_s and on_s < end:
            out.add(lab)
    return ",".join(sorted(out))


def flag_record(path: Path, profile_name: str = "cn-2017-national") -> RecordFlags:
    """Rhythm stage + run morphology + the POLYMORPHIC_VT rule on one record."""
    rec = read_record(path)
    profile = load_profile(profile_name)
    mask = rec.usable_mask
    x = np.nan_to_num(rec.signal_mv[mask])
    leads = tuple(n for n, ok in zip(rec.leads, mask, strict=True) if ok)
    beats = detect_beats(x, fs_hz=rec.fs_hz)
    _, rhythm = analyze_rhythm(
        x, beats, duration_s=rec.duration_s, leads=leads, params=params_from_profile(profile)
    )
    morph = polymorphic_from_rhythm(x, beats, rhythm)
    recording = infer_recording_type(rec.duration_s)
    ctx = RuleContext(
        fs_hz=rec.fs_hz,
        duration_s=rec.duration_s,
        recording=recording,
        leads=leads,
        beats=beats,
        features={"rhythm": rhythm, "polymorphic_vt": morph},
    )
    found: list[Finding] = []
    for rule in profile.rules_for(recording):
        if rule.code == "POLYMORPHIC_VT":
            found.extend(EVALUATORS[rule.code](ctx, rule, profile.name))
    base = path.with_suffix("")
    ref = [_reference_labels(base, f.onset_s or 0.0, f.offset_s or 0.0) for f in found]
    return RecordFlags(
        base.name, int(morph.runs.n_beats.size), len(morph.skipped), found, ref, morph
    )


def _plot(path: Path, f: Finding, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rec = read_record(path)
    on, off = (f.onset_s or 0.0) - 2.0, (f.offset_s or 0.0) + 2.0
    a, b = max(0, int(on * rec.fs_hz)), min(rec.signal_mv.shape[1], int(off * rec.fs_hz))
    t = np.arange(a, b) / rec.fs_hz
    fig, ax = plt.subplots(rec.signal_mv.shape[0], 1, figsize=(16, 2.5 * rec.signal_mv.shape[0]))
    for i, axis in enumerate(np.ravel([ax])):
        axis.plot(t, rec.signal_mv[i, a:b], lw=0.7)
        axis.set_ylabel(rec.leads[i])
        axis.axvspan(f.onset_s or 0.0, f.offset_s or 0.0, color="orange", alpha=0.15)
    fig.suptitle(f"{path.stem} {f.message}")
    out = out_dir / f"pvt_{path.stem}_{int(f.onset_s or 0)}.png"
    fig.tight_layout()
    fig.savefig(out, dpi=70)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: list flagged runs per record and the totals."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--records", default="", help="comma-separated record names")
    ap.add_argument("--normal-only", action="store_true", help="CinC 2017: label N only")
    ap.add_argument("--plot", type=Path, default=None, help="draw each flagged run here")
    args = ap.parse_args(argv)
    names = [n for n in args.records.split(",") if n]
    if not names:
        names = sorted(p.stem for p in args.folder.glob("*.hea"))
    ref_csv = args.folder / "REFERENCE.csv"
    if args.normal_only and ref_csv.exists():
        with ref_csv.open() as fh:
            normal = {row[0] for row in csv.reader(fh) if len(row) > 1 and row[1] == "N"}
        names = [n for n in names if n in normal]
    c0 = time.process_time()
    n_flag = n_runs = n_fast = n_rec_flag = 0
    kinds: dict[str, int] = {}
    for name in names:
        path = args.folder / f"{name}.hea"
        r = flag_record(path)
        n_runs += r.runs_measured
        if r.morph is not None:
            n_fast += int(np.sum(r.morph.runs.rate_bpm >= 100.0))
        n_flag += len(r.findings)
        n_rec_flag += bool(r.findings)
        for f, ref in zip(r.findings, r.reference, strict=True):
            kind = str(f.evidence.get("subtype"))
            kinds[kind] = kinds.get(kind, 0) + 1
            line = f"{name} {f.onset_s:.1f}-{f.offset_s:.1f} s {kind} ref={ref or '-'}"
            if args.plot is not None:
                line += f" plot={_plot(path, f, args.plot)}"
            print(line, f.evidence)
    print(
        f"records {len(names)}, runs measured {n_runs} ({n_fast} at >= 100 /min), "
        f"flagged runs {n_flag} {kinds}, "
        f"records flagged {n_rec_flag}, CPU {time.process_time() - c0:.1f} s"
    )


if __name__ == "__main__":
    main()
