"""CinC 2021 MI / ischaemia scoring: the row without ST-T-labelled records."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation import labels_eval


def test_st_t_labelled_records_leave_the_specificity_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given four CinC-style headers: an MI, an "ST changes", a "T wave inversion" and a
    # sinus-rhythm-only record, and an analyser that flags all but the MI
    dx = {"R1": "164865005", "R2": "55930002", "R3": "59931005", "R4": "426783006"}
    for rec, code in dx.items():
        (tmp_path / f"{rec}.hea").write_text(f"{rec} 12 500 5000\n# Dx: {code}\n")
    calls = {"R1": set(), "R2": {"ACUTE_ISCHEMIA"}, "R3": {"ACUTE_ISCHEMIA"}, "R4": {"ACUTE_MI"}}
    monkeypatch.setattr(labels_eval, "_analyse", lambda path: calls[path.stem])
    rows = {r.name: r for r in labels_eval._cinc2021(tmp_path)}
    # Then the plain row counts every unflagged-truth record as a negative
    plain = rows["MI / ischaemia"]
    assert (plain.tp, plain.fn, plain.tn, plain.fp) == (0, 1, 0, 3)
    # and the extra row leaves out the ST-T-labelled ones: only R4 is a false call
    clean = rows["MI/isch, Sp w/o ST-T labels"]
    assert (clean.tp, clean.fn, clean.tn, clean.fp) == (0, 1, 0, 1)
    assert clean.false_pos == ("R4",)


def test_labels_evaluator_on_a_ludb_folder_gives_the_diagnosis_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a LUDB-shaped folder (ludb.csv + data/) and a stubbed diagnosis scorer
    from evaluation.ludb_eval import DiagnosisRow

    (tmp_path / "data").mkdir()
    (tmp_path / "ludb.csv").write_text("ID\n1\n")
    row = DiagnosisRow("STEMI", 2, 3, 78, 0, ("21", "55", "69"), ())
    monkeypatch.setattr(labels_eval, "evaluate_diagnoses", lambda path: [row])
    report = labels_eval.evaluate_labels(tmp_path)
    # Then it reports the LUDB table, not empty CinC rows
    (title, lines), *_ = report.sections
    assert title == "LUDB diagnoses vs ludb.csv"
    assert any(line.startswith("STEMI") and "missed 21,55,69" in line for line in lines)
    assert report.data["STEMI"] == {"tp": 2, "fn": 3, "tn": 78, "fp": 0}
