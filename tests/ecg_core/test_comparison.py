"""Comparison with the previous ECG on synthetic stored measures (ecg_core.comparison).

Every ECG here is a hand-written stored result (the JSON contract), so each test sets
exactly the measures it is about: ST at J per lead, Q waves, QRS width and findings.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecg_core.comparison import QCriteria, StoredEcg, compare, days_between, stored_ecg

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
#: The national profile's reinfarction rule (4th UDMI Q-wave criteria of prior MI).
Q = QCriteria(v2_v3_q_ms=20.0, q_min_ms=30.0, q_min_mv=0.1, qs_r_max_mv=0.025, qrs_max_ms=120.0)


def _result(
    *,
    st: dict[str, float] | None = None,
    q_ms: dict[str, float] | None = None,
    q_mv: dict[str, float] | None = None,
    r_mv: dict[str, float] | None = None,
    qrs_ms: float = 90.0,
    findings: list[dict[str, Any]] | None = None,
    with_q: bool = True,
) -> dict[str, Any]:
    st_j = {x: 0.0 for x in LEADS} | (st or {})
    extra: dict[str, Any] = {
        "st_j_mv": st_j,
        "r_mv": {x: 1.0 for x in LEADS} | (r_mv or {}),
        "t_mv": {x: 0.3 for x in LEADS},
    }
    if with_q:
        extra["q_ms"] = {x: 0.0 for x in LEADS} | (q_ms or {})
        extra["q_mv"] = {x: 0.0 for x in LEADS} | (q_mv or {})
    return {
        "record_id": "r",
        "recording_type": "resting",
        "measurements": {"qrs_ms": qrs_ms, "st_mv": st_j, "extra": extra},
        "findings": findings or [],
    }


def _stemi(leads: list[str], st: dict[str, float]) -> dict[str, Any]:
    return {
        "code": "ACUTE_MI",
        "severity": "critical",
        "rule": "stemi",
        "leads": leads,
        "evidence": {"st_point": "J", "st_mv": {x: st[x] for x in leads}},
    }


def _ecg(raw: dict[str, Any], rid: str, when: str | None = None) -> StoredEcg:
    ecg = stored_ecg(raw, record_id=rid, recorded_at=when)
    assert ecg is not None
    return ecg


#: Old anterior infarct: QS complexes in V1-V3 (no R wave, 50 ms Q).
OLD_ANTERIOR = {
    "q_ms": {"V1": 50.0, "V2": 50.0, "V3": 45.0},
    "q_mv": {"V1": 0.8, "V2": 1.0, "V3": 0.9},
    "r_mv": {"V1": 0.0, "V2": 0.0, "V3": 0.01},
}
ANTERIOR_STE = {"V2": 0.35, "V3": 0.40, "V4": 0.25}


def test_new_st_elevation_over_old_anterior_q_waves_is_re_elevation() -> None:
    # Given an old anterior infarct (QS V1-V3) with a flat ST, then anterior ST elevation
    prior = _ecg(_result(**OLD_ANTERIOR), "old", "2026-01-01T00:00:00+00:00")
    current = _ecg(
        _result(
            st=ANTERIOR_STE, **OLD_ANTERIOR, findings=[_stemi(["V2", "V3", "V4"], ANTERIOR_STE)]
        ),
        "new",
        "2026-01-11T12:00:00+00:00",
    )
    # When compared
    c = compare(current, prior, q=Q, new_st_rise_mv=0.1)
    # Then the rise is new, over the old Q territory, read from the stored Q measures
    assert c.old_infarct_q == {"anterior": ("V2", "V3")}  # QS in V1 alone is normal
    assert c.q_source == "measures"
    assert c.new_st_leads == ("V2", "V3", "V4")
    assert [r.territory for r in c.re_elevation] == ["anterior"]
    assert c.re_elevation[0].leads == ("V2", "V3", "V4")
    assert c.re_elevation[0].prior_st_mv == {"V2": 0.0, "V3": 0.0, "V4": 0.0}
    assert c.days_since_prior == pytest.approx(10.5)
    assert c.st_rise_mv["V3"] == pytest.approx(0.40)
    assert not c.prior_acute_mi


def test_persistent_st_elevation_of_an_old_infarct_is_not_new() -> None:
    # Given the same ST elevation already on the previous ECG (aneurysm pattern)
    prior = _ecg(_result(st=ANTERIOR_STE, **OLD_ANTERIOR), "old")
    current = _ecg(
        _result(
            st=ANTERIOR_STE, **OLD_ANTERIOR, findings=[_stemi(["V2", "V3", "V4"], ANTERIOR_STE)]
        ),
        "new",
    )
    c = compare(current, prior, q=Q, new_st_rise_mv=0.1)
    # Then nothing is new: no re-elevation, the leads are listed as persistent
    assert c.new_st_leads == ()
    assert c.persistent_st_leads == ("V2", "V3", "V4")
    assert c.re_elevation == ()


def test_one_lead_rising_is_not_enough() -> None:
    # Given only V3 rising by >= 0.1 mV (V2, V4 rose by 0.05): not 2 contiguous leads
    before = {"V2": 0.30, "V3": 0.10, "V4": 0.20}
    prior = _ecg(_result(st=before, **OLD_ANTERIOR), "old")
    current = _ecg(
        _result(
            st=ANTERIOR_STE, **OLD_ANTERIOR, findings=[_stemi(["V2", "V3", "V4"], ANTERIOR_STE)]
        ),
        "new",
    )
    c = compare(current, prior, q=Q, new_st_rise_mv=0.1)
    assert c.new_st_leads == ()
    assert c.re_elevation == ()


def test_new_st_elevation_in_another_territory_is_not_re_elevation() -> None:
    # Given old inferior Q waves (II, aVF) and new anterior ST elevation
    old_inferior = {
        "q_ms": {"II": 40.0, "aVF": 45.0},
        "q_mv": {"II": 0.3, "aVF": 0.4},
    }
    prior = _ecg(_result(**old_inferior), "old")
    current = _ecg(
        _result(st=ANTERIOR_STE, findings=[_stemi(["V2", "V3", "V4"], ANTERIOR_STE)]), "new"
    )
    c = compare(current, prior, q=Q, new_st_rise_mv=0.1)
    assert c.old_infarct_q == {"inferior": ("II", "aVF")}
    assert c.new_st_territories == ("septal", "anterior")
    assert c.re_elevation == ()


def test_q_waves_with_a_wide_qrs_are_not_an_old_infarct_pattern() -> None:
    # Given QS V1-V3 with QRS 150 ms (LBBB-like: Q waves not interpretable)
    prior = _ecg(_result(qrs_ms=150.0, **OLD_ANTERIOR), "old")
    current = _ecg(
        _result(st=ANTERIOR_STE, findings=[_stemi(["V2", "V3", "V4"], ANTERIOR_STE)]), "new"
    )
    c = compare(current, prior, q=Q, new_st_rise_mv=0.1)
    assert c.old_infarct_q == {}
    assert c.q_source == "measures"
    assert c.re_elevation == ()


def test_without_stored_q_measures_the_q_wave_finding_is_used() -> None:
    # Given a result stored before Q measures were kept, with a Q-wave MI finding
    q_finding = {
        "code": "ACUTE_MI",
        "severity": "critical",
        "rule": "stemi-evolving-q-wave",
        "leads": ["V2", "V4", "V5"],
        "evidence": {"territory": "anterior", "q_ms": {"V2": 60.0}, "t_mv": {"V4": -0.19}},
    }
    prior = _ecg(_result(with_q=False, findings=[q_finding]), "old")
    bare = _ecg(_result(with_q=False), "bare")
    current = _ecg(
        _result(st=ANTERIOR_STE, findings=[_stemi(["V2", "V3", "V4"], ANTERIOR_STE)]), "new"
    )
    c = compare(current, prior, q=Q, new_st_rise_mv=0.1)
    assert c.q_source == "findings"
    assert c.old_infarct_q == {"anterior": ("V2",)}
    assert [r.leads for r in c.re_elevation] == [("V2", "V3", "V4")]
    # an acute MI on the previous ECG in an overlapping territory is reported
    assert c.prior_acute_mi
    assert c.prior_acute_mi_territories == ("septal", "anterior")
    # and with neither Q measures nor a Q finding the old-infarct pattern is unknown
    assert compare(current, bare, q=Q, new_st_rise_mv=0.1).q_source == "none"


def test_new_lbbb_and_new_q_waves() -> None:
    lbbb = {"code": "LBBB", "severity": "abnormal", "rule": "lbbb", "leads": ["V1", "V6"]}
    prior = _ecg(_result(), "old")
    current = _ecg(_result(**OLD_ANTERIOR, findings=[lbbb]), "new")
    c = compare(current, prior, q=Q, new_st_rise_mv=0.1)
    assert c.new_lbbb
    assert c.new_q == {"anterior": ("V2", "V3")}
    assert not compare(current, current, q=Q, new_st_rise_mv=0.1).new_lbbb
    summary = c.summary()
    assert summary["new_lbbb"] is True
    assert summary["new_q"] == {"anterior": ["V2", "V3"]}


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        "text",
        {},
        {"measurements": "x"},
        {"recording_type": "holter", "measurements": {"extra": {"st_j_mv": {"V1": 0.1}}}},
        {"unanalysable": True, "measurements": {"extra": {"st_j_mv": {"V1": 0.1}}}},
        {"measurements": {"st_mv": {}, "extra": {}}},  # no 12-lead measurement
    ],
)
def test_unreadable_prior_results_are_no_prior(raw: Any) -> None:
    assert stored_ecg(raw) is None


def test_stored_ecg_skips_bad_values() -> None:
    raw = {
        "measurements": {
            "qrs_ms": "wide",
            "st_mv": {"V1": None, "V2": 0.1, "V3": float("nan"), "V4": True},
            "extra": {"st_j_mv": [1, 2], "q_ms": {"V2": "x"}},
        },
        "findings": [{"code": 3}, "x", {"code": "LBBB", "leads": "V1"}],
    }
    ecg = stored_ecg(raw)
    assert ecg is not None
    assert ecg.lead_values("st_j60_mv") == {"V2": 0.1}
    assert ecg.lead_values("st_j_mv") == {}
    assert ecg.qrs_ms is None
    assert [(f.code, f.leads) for f in ecg.findings] == [("LBBB", ())]


def test_days_between_unknown_or_bad_times() -> None:
    assert days_between(None, "2026-01-01T00:00:00") is None
    assert days_between("yesterday", "2026-01-01T00:00:00") is None
    assert days_between("2026-01-01T00:00:00", "2026-01-02T00:00:00+00:00") is None  # naive/aware
