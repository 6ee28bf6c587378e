"""STEMI evaluator: PTB header stages, populations, the Se/Sp table, s0010_re."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaluation.stemi_eval import Call, evaluate_stemi, max_contiguous_st, ptb_case

_PTB = """{rec} 15 1000 38400
# age: 60
# sex: male
# ECG date: {ecg}
# Reason for admission: {reason}
# Acute infarction (localization): {site}
# Former infarction (localization): no
# Infarction date (acute): {infarction}
# Admission date: {admission}
"""


def _ptb_header(folder: Path, rec: str, **kw: str) -> None:
    fields = {"infarction": "n/a", "admission": "n/a", "site": "n/a", **kw}
    (folder / f"{rec}.hea").write_text(_PTB.format(rec=rec, **fields))


def _call(*codes: str) -> Call:
    return Call(frozenset(codes), {"II": 0.2, "III": 0.15, "aVF": 0.05}, {"II": 0.1, "III": 0.1})


def test_ptb_stage_from_infarction_to_ecg_delay() -> None:
    # Given PTB headers with ECG 0, 5, 20 and 400 days after the infarction
    def stage(ecg: str, infarction: str = "29-Sep-90", admission: str = "n/a") -> str:
        text = _PTB.format(
            rec="r",
            ecg=ecg,
            reason="Myocardial infarction",
            site="inferior",
            infarction=infarction,
            admission=admission,
        )
        return ptb_case(text, "r").stage

    # Then the stage follows the delay, with the admission date as a labelled fallback
    assert stage("29/09/1990") == "acute"
    assert stage("04/10/1990") == "subacute"
    assert stage("19/10/1990") == "recent"
    assert stage("03/11/1991") == "old"
    assert stage("01/10/1990", infarction="n/a", admission="30-Sep-90") == "acute (admission date)"
    assert stage("n/a") == "undated"
    control = _PTB.format(
        rec="c", ecg="01/10/1990", reason="Healthy control", site="", infarction="", admission=""
    )
    case = ptb_case(control, "c")
    assert case.is_control
    assert not case.is_mi
    assert case.stage == ""


def test_max_contiguous_st_needs_both_leads_of_a_pair() -> None:
    # One lead high, its contiguous partner low: the pair's level is the lower one
    assert max_contiguous_st({"II": 0.4, "III": 0.05, "aVF": 0.12, "V1": 0.5}) == (0.12, "II-aVF")
    # aVR is not a STEMI lead, a lone lead has no pair
    level, pair = max_contiguous_st({"aVR": 0.3, "V1": 0.3})
    assert pair == ""
    assert level != level


def test_ptb_populations_and_table(tmp_path: Path) -> None:
    # Given a PTB-style folder: two acute MIs (one called), an old MI, two controls
    # (one falsely called with an ST-elevation code) and a non-MI patient
    _ptb_header(
        tmp_path, "a1", ecg="30/09/1990", reason="Myocardial infarction", infarction="29-Sep-90"
    )
    _ptb_header(
        tmp_path, "a2", ecg="29/09/1990", reason="Myocardial infarction", infarction="29-Sep-90"
    )
    _ptb_header(
        tmp_path, "o1", ecg="01/10/1992", reason="Myocardial infarction", infarction="29-Sep-90"
    )
    _ptb_header(tmp_path, "h1", ecg="01/10/1990", reason="Healthy control")
    _ptb_header(tmp_path, "h2", ecg="01/10/1990", reason="Healthy control")
    _ptb_header(tmp_path, "x1", ecg="01/10/1990", reason="Cardiomyopathy")
    calls = {
        "a1": _call("ACUTE_MI"),
        "a2": _call("T_INVERSION"),
        "o1": _call(),
        "h1": _call(),
        "h2": _call("ACUTE_MI"),
    }
    seen: list[str] = []

    def analyse(path: Path) -> Call:
        seen.append(path.stem)
        return calls[path.stem]

    report = evaluate_stemi(tmp_path, analyse=analyse)
    # Then the non-MI, non-control record is not analysed
    assert sorted(seen) == ["a1", "a2", "h1", "h2", "o1"]
    pops = report.data["populations"]
    acute = pops["PTB:MI, acute"]
    assert acute["n"] == 2
    assert acute["STE criteria"] == ["a1"]
    assert sorted(acute["any MI/isch"]) == ["a1", "a2"]
    assert pops["PTB:MI, old"]["n"] == 1
    control = pops["PTB:healthy control"]
    assert control["positive"] is False
    assert control["STE criteria"] == ["h2"]
    (_, table), (_, lines) = report.sections
    assert any("MI, acute [Se]" in t and "1/2  50.0" in t and "2/2 100.0" in t for t in table)
    assert any("healthy control [Sp]" in t and "1/2  50.0" in t for t in table)
    assert any("Cardiomyopathy" in line for line in lines)
    assert any(line.startswith("PTB a1") and "J +0.15 (II-III)" in line for line in lines)


def test_cinc_groups_and_early_repolarisation(tmp_path: Path) -> None:
    # Given CinC-style headers: ST elevation, old MI (neither positive nor negative),
    # early repolarisation and sinus rhythm
    dx = {"R1": "164931005", "R2": "164867002", "R3": "428417006,426783006", "R4": "426783006"}
    for rec, code in dx.items():
        (tmp_path / f"{rec}.hea").write_text(f"{rec} 12 500 5000\n# Dx: {code}\n")
    calls = {"R1": _call(), "R2": _call("ACUTE_MI"), "R3": _call("ACUTE_MI"), "R4": _call()}
    report = evaluate_stemi(tmp_path, analyse=lambda p: calls[p.stem])
    pops = report.data["populations"]
    assert pops["CinC2021:STE / acute MI"]["n"] == 1
    assert pops["CinC2021:STE / acute MI"]["STE criteria"] == []
    clean = pops["CinC2021:no MI/isch/ST-T code"]
    assert clean["n"] == 2
    assert clean["STE criteria"] == ["R3"]
    assert pops["CinC2021:early repolarisation"]["STE criteria"] == ["R3"]


@pytest.mark.slow
def test_ptb_s0010_re_is_flagged_acute(shared_data: Path, tmp_path: Path) -> None:
    # Given the PTB record of an acute infero-lateral MI (ECG 2 days after the infarction)
    for ext in ("hea", "dat", "xyz"):
        shutil.copy(shared_data / "ptbdb" / f"s0010_re.{ext}", tmp_path)
    report = evaluate_stemi(tmp_path)
    # Then it is an acute-stage record and it is flagged
    acute = report.data["populations"]["PTB:MI, acute"]
    assert acute["n"] == 1
    assert acute["any MI/isch"] == ["s0010_re"]
    assert any("s0010_re (acute infero-lateral MI): FLAGGED" in x for x in report.sections[1][1])


def test_injected_limb_levels_keep_einthoven_and_reach_the_pair_level() -> None:
    from evaluation.stemi_injection import TERRITORIES, injection_levels

    for territory in TERRITORIES:
        lv = injection_levels(territory)
        # Einthoven / Goldberger relations of the limb leads still hold (II = I + III)
        assert lv["II"] == pytest.approx(lv["I"] + lv["III"], abs=1e-9)
        assert lv["aVF"] == pytest.approx((lv["II"] + lv["III"]) / 2, abs=1e-9)
        # and the best contiguous pair's lower lead sits exactly at the stated level
        assert max_contiguous_st(lv)[0] == pytest.approx(1.0)


def test_injection_wave_is_zero_outside_qrs_st_t_and_one_from_j_to_t_peak() -> None:
    import numpy as np

    from evaluation.stemi_injection import injection_wave

    # Given one beat: QRS 100-150, T peak 300, T end 400
    w = injection_wave(600, np.array([[100, 150, 300, 400]]))
    assert w[:100].max() == 0.0
    assert w[400:].max() == 0.0
    assert np.all(w[150:300] == 1.0)
    assert np.all(np.diff(w[100:150]) > 0)  # rises through the QRS
    assert np.all(np.diff(w[300:400]) < 0)  # falls to the T end


@pytest.mark.slow
def test_injected_inferior_st_elevation_is_called_on_ludb_backgrounds(shared_data: Path) -> None:
    from evaluation.stemi_injection import run_injection

    # Given two LUDB records without an ischaemia label and 0.3 mV inferior ST elevation
    res = run_injection(
        shared_data / "ludb", levels_mv=(0.3,), territories=("inferior",), record_ids=("9", "17")
    )
    # Then the STEMI rule calls it, inferior, on both, and ST at J is measured within 0.05 mV
    assert res.records == ["9", "17"]
    assert res.called[("inferior", 0.3)] == ["9", "17"]
    assert max(abs(e) for e in res.errors_mv["inferior"]) < 0.05


def test_unreadable_record_counts_as_not_called_and_is_listed(tmp_path: Path) -> None:
    # Given a CinC-style folder whose one ST-elevation record has no signal file
    (tmp_path / "R1.hea").write_text(
        "R1 12 500 5000\nR1.mat 16 1000 16 0 0 0 0 I\n# Dx: 164931005\n"
    )
    report = evaluate_stemi(tmp_path)
    # Then it is a miss, named as unreadable, and the run goes on
    assert report.data["populations"]["CinC2021:STE / acute MI"]["STE criteria"] == []
    assert report.sections[1][1][0].startswith("unreadable (counted as not called): 1: R1")


def test_physionet_patient_folders_are_read(tmp_path: Path) -> None:
    # Given PhysioNet's PTB layout (patientNNN/<record>.hea)
    (tmp_path / "patient001").mkdir()
    _ptb_header(
        tmp_path / "patient001",
        "s0010_re",
        ecg="01/10/1990",
        reason="Myocardial infarction",
        infarction="29-Sep-90",
    )
    report = evaluate_stemi(tmp_path, analyse=lambda p: _call("POSTERIOR_MI"))
    # Then the record is found, staged acute and the s0010_re check is made
    acute = report.data["populations"]["PTB:MI, acute"]
    assert acute["STE criteria"] == ["patient001/s0010_re"]
    assert any("FLAGGED POSTERIOR_MI" in line for line in report.sections[1][1])
