"""Diagnosis-level Se/Sp of the 12-lead rules against record labels.

* CPSC 2018 ``REFERENCE.csv`` (1 normal, 2 AF, 3 I-AVB, 4 LBBB, 5 RBBB, 6 PAC, 7 PVC,
  8 STD, 9 STE; up to three labels per record).
* CinC 2021 SNOMED-CT codes in the header ``# Dx:`` line.
* PTB ``s0010_re`` (acute infero-lateral MI): must be flagged.
* LUDB (``ludb.csv``): the diagnosis table of :mod:`evaluation.ludb_eval` alone, without
  the delineation scoring (when asked for explicitly with ``--what labels-12lead``).

Records are read with ``ingest.readers.read_record`` and analysed with
``ecg_core.analysis.analyze_record``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.ludb_eval import (
    DiagnosisRow,
    TextTablesReport,
    diagnosis_table,
    evaluate_diagnoses,
    is_ludb,
    score_diagnoses,
)

__all__ = [
    "CINC2021_CODES",
    "CPSC2018_CODES",
    "MI_FLAG_CODES",
    "ST_T_CHANGE_CODES",
    "evaluate_labels",
    "is_labelled_12lead",
]

STE_CODES = frozenset({"ACUTE_MI", "SGARBOSSA", "POSTERIOR_MI", "DE_WINTER"})
STD_CODES = frozenset({"ACUTE_ISCHEMIA", "DIFFUSE_ST_DEPRESSION", "POSTERIOR_MI"})
#: Any of these marks a record as flagged for acute MI / ischaemia (T_INVERSION: the
#: 4th UDMI ischaemic T-inversion criterion, reported abnormal).
MI_FLAG_CODES = STE_CODES | STD_CODES | {"T_INVERSION"}

#: Diagnosis -> (CPSC 2018 label, finding codes counted as a positive call).
CPSC2018_CODES: dict[str, tuple[str, frozenset[str]]] = {
    "STE": ("9", STE_CODES),
    "STD": ("8", STD_CODES),
    "AF": ("2", frozenset({"AF"})),
    "I-AVB": ("3", frozenset({"AV_BLOCK_1"})),
    "LBBB": ("4", frozenset({"LBBB"})),
    "RBBB": ("5", frozenset({"RBBB"})),
}

#: Diagnosis -> (SNOMED-CT codes, finding codes). Codes from the CinC 2021 mapping table
#: (dx_mapping_scored.csv / dx_mapping_unscored.csv).
CINC2021_CODES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "MI / ischaemia": (
        frozenset(
            {
                "164865005",  # myocardial infarction
                "57054005",  # acute myocardial infarction
                "164861001",  # myocardial ischaemia
                "426434006",  # anterior ischaemia
                "425419005",  # inferior ischaemia
                "425623009",  # lateral ischaemia
                "413444003",  # acute myocardial ischaemia
                "164931005",  # ST elevation
                "429622005",  # ST depression
            }
        ),
        MI_FLAG_CODES,
    ),
    "AF": (frozenset({"164889003"}), frozenset({"AF"})),
    "I-AVB": (frozenset({"270492004"}), frozenset({"AV_BLOCK_1"})),
    "LBBB": (frozenset({"164909002", "733534002"}), frozenset({"LBBB"})),
    "RBBB": (frozenset({"59118001", "713427006"}), frozenset({"RBBB"})),
}

#: SNOMED-CT statements of ST or T changes that are not in the MI / ischaemia truth set
#: (CinC 2021 dx_mapping_scored.csv / dx_mapping_unscored.csv). A record carrying one
#: is neither a positive nor a clean negative for MI / ischaemia: the extra table row
#: scores specificity on records without any of them (as the LUDB STEMI row does with
#: records without an ischaemia label).
ST_T_CHANGE_CODES = frozenset(
    {
        "55930002",  # ST changes
        "164930006",  # ST interval abnormal
        "428750005",  # nonspecific ST-T abnormality
        "164934002",  # T wave abnormal
        "59931005",  # T wave inversion
    }
)

Truth = Callable[[dict[str, str]], bool]


def _analyse(path: Path) -> set[str]:
    from ecg_core.analysis import analyze_record
    from ingest.readers import read_record
    from models.profile import load_profile

    result = analyze_record(read_record(path), profile=load_profile())
    return {f.code for f in result.findings}


def _cpsc2018(folder: Path) -> list[DiagnosisRow]:
    with (folder / "REFERENCE.csv").open(newline="", encoding="utf-8") as fh:
        rows = {
            r["Recording"]: {"labels": " ".join(v for k, v in r.items() if "label" in k and v)}
            for r in csv.DictReader(fh)
        }
    calls = {
        rid: _analyse(folder / f"{rid}.mat") for rid in rows if (folder / f"{rid}.mat").exists()
    }

    def has(label: str) -> Truth:
        return lambda row: label in row["labels"].split()

    table = {name: (has(label), codes, None) for name, (label, codes) in CPSC2018_CODES.items()}
    return score_diagnoses(calls, rows, table)


def _dx(header: Path) -> set[str]:
    for line in header.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("#") and "Dx:" in line:
            return {c.strip() for c in line.split("Dx:", 1)[1].split(",") if c.strip()}
    return set()


def _cinc2021(folder: Path) -> list[DiagnosisRow]:
    headers = sorted(folder.glob("*.hea"))
    rows = {h.stem: {"dx": " ".join(sorted(_dx(h)))} for h in headers}
    calls = {h.stem: _analyse(h) for h in headers}

    def has(codes: frozenset[str]) -> Truth:
        return lambda row: bool(codes & set(row["dx"].split()))

    table: dict[str, tuple[Truth, frozenset[str], Truth | None]] = {
        name: (has(sn), codes, None) for name, (sn, codes) in CINC2021_CODES.items()
    }
    mi_codes, mi_findings = CINC2021_CODES["MI / ischaemia"]
    table["MI/isch, Sp w/o ST-T labels"] = (
        has(mi_codes),
        mi_findings,
        lambda row: not has(ST_T_CHANGE_CODES)(row),
    )
    return score_diagnoses(calls, rows, table)


def is_labelled_12lead(path: Path) -> bool:
    """CPSC 2018 (REFERENCE.csv + .mat), CinC 2021 (.hea with ``# Dx:``) or the PTB folder."""
    if (path / "REFERENCE.csv").is_file() and any(path.glob("A*.mat")):
        return True
    if (path / "s0010_re.hea").is_file():
        return True
    first = next(iter(sorted(path.glob("*.hea"))), None)
    return first is not None and bool(_dx(first))


def evaluate_labels(path: Path, options: Any = None) -> TextTablesReport:
    """``ecg eval`` entry: Se/Sp per diagnosis on CPSC 2018 / CinC 2021 / LUDB, PTB MI check.

    Parameters
    ----------
    path : Path
        ``cpsc2018``, ``cinc2021``, ``ludb`` or ``ptbdb`` folder.
    options : EvalOptions, optional
        Shared ``ecg eval`` options (unused).

    Returns
    -------
    TextTablesReport
        One table of diagnoses (or the PTB check).
    """
    del options
    if (path / "s0010_re.hea").is_file():
        codes = _analyse(path / "s0010_re.hea")
        flagged = sorted(codes & MI_FLAG_CODES)
        verdict = "FLAGGED " + ",".join(flagged) if flagged else "NOT FLAGGED"
        line = (
            f"s0010_re (acute infero-lateral MI): {verdict}; "
            f"all findings: {','.join(sorted(codes))}"
        )
        return TextTablesReport(
            name="ptb-mi", sections=(("PTB MI record", (line,)),), data={"flagged": flagged}
        )
    if is_ludb(path):
        rows, title = evaluate_diagnoses(path), "LUDB diagnoses vs ludb.csv"
    elif (path / "REFERENCE.csv").is_file():
        rows, title = _cpsc2018(path), "CPSC 2018 diagnoses vs REFERENCE.csv"
    else:
        rows, title = _cinc2021(path), "CinC 2021 diagnoses vs SNOMED Dx codes"
    return TextTablesReport(
        name="labels",
        sections=((title, tuple(diagnosis_table(rows, "")[1:])),),
        data={r.name: {"tp": r.tp, "fn": r.fn, "tn": r.tn, "fp": r.fp} for r in rows},
    )
