"""How often the ``HYPOKALEMIA`` rules fire on resting 12-lead databases, against U-wave labels.

Labels looked for: CinC 2021 SNOMED codes 164937009 (U wave abnormal) and 251242005
(tall U wave) in the header ``#Dx`` line; LUDB ``ludb.csv`` text mentioning U waves,
hypokalaemia or electrolytes. CPSC 2018 has no such class (its records count as
negatives). Records without a label are negatives, so the flag count on them is a
false-positive count (the labels are incomplete: a flagged record may still show
real U waves -- look at it).

Usage::

    python -m evaluation.hypokalemia_eval ../shared/ecg-data/ludb/data
    python -m evaluation.hypokalemia_eval ../shared/ecg-data/cinc2021
"""

from __future__ import annotations

import argparse
import csv
import re
import time
from pathlib import Path

from ecg_core.analysis import analyze_record
from ingest.readers import read_record
from models.profile import load_profile
from models.result import Finding

__all__ = ["U_WAVE_SNOMED", "main", "record_flags", "u_wave_labels"]

#: CinC 2021 SNOMED-CT codes of U-wave diagnoses (dx_mapping_unscored.csv).
U_WAVE_SNOMED = frozenset({"164937009", "251242005"})
_LUDB_TEXT = re.compile(r"u[- ]wave|hypokal|electrolyt|potassium", re.IGNORECASE)


def u_wave_labels(folder: Path) -> dict[str, bool]:
    """Record name -> has a U-wave / hypokalaemia label (only records with any label info)."""
    out: dict[str, bool] = {}
    for hea in folder.glob("*.hea"):
        text = hea.read_text(errors="replace")
        m = re.search(r"#\s*Dx:\s*(.*)", text)
        if m:
            codes = {c.strip() for c in m.group(1).split(",")}
            out[hea.stem] = bool(codes & U_WAVE_SNOMED)
    ludb = folder.parent / "ludb.csv"
    if ludb.exists():
        with ludb.open(newline="") as fh:
            for row in csv.DictReader(fh):
                out[str(row["ID"]).strip()] = bool(_LUDB_TEXT.search(" ".join(row.values())))
    return out


def record_flags(path: Path, profile_name: str = "cn-2017-national") -> list[Finding]:
    """The HYPOKALEMIA findings of the full analysis (what ships) of one resting record."""
    result = analyze_record(
        read_record(path), profile=load_profile(profile_name), recording="resting"
    )
    return [f for f in result.findings if f.code == "HYPOKALEMIA"]


def main(argv: list[str] | None = None) -> None:
    """Command line: flagged records with their label, and the counts by severity."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    args = ap.parse_args(argv)
    labels = u_wave_labels(args.folder)
    paths = sorted(args.folder.glob("*.hea")) or sorted(args.folder.glob("*.mat"))
    c0 = time.process_time()
    counts = {"records": 0, "labelled_u": 0, "critical": 0, "abnormal": 0}
    tp = {"critical": 0, "abnormal": 0}
    for path in paths:
        try:
            found = record_flags(path)
        except Exception as exc:
            print(f"{path.stem}: not analysed ({exc})")
            continue
        counts["records"] += 1
        pos = labels.get(path.stem, False)
        counts["labelled_u"] += pos
        for sev in ("critical", "abnormal"):
            hit = any(f.severity == sev for f in found)
            counts[sev] += hit
            tp[sev] += hit and pos
        for f in found:
            print(f"{path.stem} label={'U' if pos else '-'} {f.severity} {f.message}")
    print(counts, "flagged with a U label:", tp, f"CPU {time.process_time() - c0:.1f} s")


if __name__ == "__main__":
    main()
