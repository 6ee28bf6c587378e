"""Rebuild ``sample_records/`` from ``../shared/ecg-data`` (excerpts of real PhysioNet records).

Run from the project root: ``python scripts/make_sample_records.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import wfdb

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "ecg-data"
OUT = Path(__file__).resolve().parents[1] / "sample_records"

# (database, record, new name, start_s, end_s)
EXCERPTS = [
    ("mitdb", "119", "mitdb119_0-300s", 0, 300),  # ventricular bigeminy, PVCs
    ("mitdb", "203", "mitdb203_0-300s", 0, 300),  # AF with VT runs, noisy
    ("vfdb", "418", "vfdb418_360-480s", 360, 480),  # ventricular flutter episode
]
COPIES = [
    ("ludb/data", "1"),  # 12-lead, sinus bradycardia
    ("ludb/data", "7"),  # 12-lead, STEMI (lateral, anterior, septal)
    ("ptbdb", "s0010_re"),  # 15-lead, myocardial infarction
]
FILES = [
    ("cinc2017", "A00001.mat"),
    ("cinc2017", "A00001.hea"),
    ("formats", "hl7-aecg-example.xml"),
]


def _unique(names: list[str]) -> list[str]:
    if len(set(names)) == len(names):
        return names
    return [f"{n}{i + 1}" for i, n in enumerate(names)]


def _excerpt(db: str, rec: str, name: str, start_s: float, end_s: float) -> None:
    path = SHARED / db / rec
    header = wfdb.rdheader(str(path))
    fs = float(header.fs)
    a, b = int(start_s * fs), int(end_s * fs)
    record = wfdb.rdrecord(str(path), sampfrom=a, sampto=b, physical=False)
    wfdb.wrsamp(
        name,
        fs=fs,
        units=record.units,
        sig_name=_unique(record.sig_name),
        d_signal=record.d_signal,
        fmt=["16"] * record.n_sig,
        adc_gain=record.adc_gain,
        baseline=record.baseline,
        comments=[*record.comments, f"excerpt {start_s}-{end_s} s of {db}/{rec}"],
        write_dir=str(OUT),
    )
    ann = wfdb.rdann(str(path), "atr", sampfrom=a, sampto=b - 1, shift_samps=True)
    aux = [s.rstrip("\x00") for s in ann.aux_note]
    wfdb.wrann(
        name,
        "atr",
        np.asarray(ann.sample, dtype=np.int64),
        symbol=ann.symbol,
        aux_note=aux,
        fs=fs,
        write_dir=str(OUT),
    )


def main() -> None:
    """Write every sample record."""
    OUT.mkdir(exist_ok=True)
    for spec in EXCERPTS:
        _excerpt(*spec)
    for folder, rec in COPIES:
        for f in (SHARED / folder).glob(f"{rec}.*"):
            dest = f"ludb{f.name}" if folder.startswith("ludb") else f.name
            shutil.copy(f, OUT / dest)
            (OUT / dest).chmod(0o644)
        if folder.startswith("ludb"):  # the header names its own record and .dat file
            hea = OUT / f"ludb{rec}.hea"
            lines = hea.read_text().splitlines()
            lines = [lines[0].replace(rec, f"ludb{rec}", 1)] + [
                ln.replace(f"{rec}.dat", f"ludb{rec}.dat", 1) for ln in lines[1:]
            ]
            hea.write_text("\n".join(lines) + "\n")
    for folder, fname in FILES:
        shutil.copy(SHARED / folder / fname, OUT / fname)
        (OUT / fname).chmod(0o644)


if __name__ == "__main__":
    main()
