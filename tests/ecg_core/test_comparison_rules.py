"""REINFARCTION and the ACUTE_MI "first-found" evidence on real LUDB records.

Earlier ECGs are real LUDB records: LUDB 7 (man, 50 y; evolving anterior Q-wave MI: Q in
V2, T inversion V4-V5, no STEMI-level ST elevation) and LUDB 1 (woman, 51 y; no Q-wave
pattern). The later ECGs are the same records with a SYNTHETIC ST elevation of 0.3 mV
added in V1-V4 (tests/ecg_core/st_elevation_synth.py): no public database here has
two ECGs of one patient around a re-infarction.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ecg_core.analysis import analyze_record
from ecg_core.comparison import StoredEcg, stored_ecg
from ecg_core.rules.comparison_rules import NO_PRIOR, compare_with_prior
from ingest.readers import read_record
from models.profile import RuleProfile, load_profile
from models.result import AnalysisResult, Finding
from tests.ecg_core.st_elevation_synth import with_st_elevation

ANTERIOR = ("V1", "V2", "V3", "V4")
DAY0 = "2026-11-01T08:00:00+00:00"
DAY9 = "2026-11-10T08:00:00+00:00"
DAY60 = "2026-12-31T08:00:00+00:00"


@pytest.fixture(scope="module")
def profile() -> RuleProfile:
    return load_profile("cn-2017-national")


@pytest.fixture(scope="module")
def analysed(samples_dir: Path, profile: RuleProfile) -> dict[str, AnalysisResult]:
    """LUDB 7 and LUDB 1 as recorded and with synthetic anterior ST elevation."""
    out = {}
    for name in ("ludb7", "ludb1"):
        rec = read_record(samples_dir / f"{name}.hea")
        ste = with_st_elevation(rec, ANTERIOR, 0.3, record_id=f"{name}-ste")
        out[name] = analyze_record(rec, profile=profile)
        out[f"{name}-ste"] = analyze_record(ste, profile=profile)
    return out


def _prior(result: AnalysisResult, when: str | None = DAY0) -> StoredEcg:
    prior = stored_ecg(result.model_dump(mode="json"), recorded_at=when)
    assert prior is not None
    return prior


def _one(result: AnalysisResult, code: str, rule: str | None = None) -> Finding:
    hits = [f for f in result.findings if f.code == code and (rule is None or f.rule == rule)]
    assert len(hits) == 1, [(f.code, f.rule) for f in result.findings]
    return hits[0]


def test_synthetic_st_elevation_meets_the_stemi_rule(analysed: dict[str, AnalysisResult]) -> None:
    # The later ECGs carry an anterior STEMI; the earlier ones do not (precondition),
    # and the single-record pass never reports REINFARCTION (no prior ECG there)
    for name in ("ludb7", "ludb1"):
        stemi = _one(analysed[f"{name}-ste"], "ACUTE_MI", "stemi")
        assert {"V2", "V3"} <= set(stemi.leads)
        assert not [f for f in analysed[name].findings if f.rule == "stemi"]
        assert not [f for f in analysed[f"{name}-ste"].findings if f.code == "REINFARCTION"]


def test_new_st_elevation_over_an_old_q_wave_infarct_is_reinfarction(
    analysed: dict[str, AnalysisResult], profile: RuleProfile
) -> None:
    # Given LUDB 7 (anterior Q waves) and, 9 days later, anterior ST elevation
    out = compare_with_prior(
        analysed["ludb7-ste"], _prior(analysed["ludb7"]), profile, recorded_at=DAY9
    )
    # Then REINFARCTION (critical) names the earlier ECG and the re-elevated leads
    re = _one(out, "REINFARCTION")
    assert re.severity == "critical"
    assert out.critical
    assert set(re.leads) >= {"V2", "V3"}
    assert re.evidence["prior_record_id"] == "ludb7"
    assert re.evidence["interval"].startswith("reinfarction")
    assert re.evidence["territories"][0]["prior_q_leads"] == ["V2"]
    assert all(v >= 0.1 for v in re.evidence["st_rise_mv"].values())
    assert "record ludb7" in re.message
    assert "2026-11-01" in re.message
    # and ACUTE_MI stays critical, saying it was already on the earlier ECG
    mi = _one(out, "ACUTE_MI", "stemi")
    assert mi.severity == "critical"
    assert mi.evidence["prior_ecg"]["record_id"] == "ludb7"
    assert mi.evidence["prior_ecg"]["within_window"] is True
    assert "also on the ECG of 2026-11-01, record ludb7" in mi.message
    assert "not first-found" in mi.message
    assert out.comparison is not None
    assert out.comparison["prior_record_id"] == "ludb7"
    assert out.comparison["re_elevation"][0]["territory"] == "anterior"


def test_beyond_the_window_acute_mi_is_first_found_and_reinfarction_is_recurrent(
    analysed: dict[str, AnalysisResult], profile: RuleProfile
) -> None:
    out = compare_with_prior(
        analysed["ludb7-ste"], _prior(analysed["ludb7"]), profile, recorded_at=DAY60
    )
    assert "recurrent MI" in _one(out, "REINFARCTION").evidence["interval"]
    mi = _one(out, "ACUTE_MI", "stemi")
    assert mi.evidence["prior_ecg"]["within_window"] is False
    assert "beyond the 28-day window" in mi.message
    assert "first-found" in mi.message


def test_no_old_infarct_pattern_means_no_reinfarction(
    analysed: dict[str, AnalysisResult], profile: RuleProfile
) -> None:
    # Given LUDB 1 (no Q-wave pattern) and the same ECG with anterior ST elevation
    out = compare_with_prior(
        analysed["ludb1-ste"], _prior(analysed["ludb1"]), profile, recorded_at=DAY9
    )
    assert not [f for f in out.findings if f.code == "REINFARCTION"]
    mi = _one(out, "ACUTE_MI", "stemi")
    assert "not on the previous ECG" in mi.message
    assert "first-found" in mi.message
    assert out.comparison is not None
    assert out.comparison["new_st_elevation_leads"]


def test_st_elevation_already_on_the_prior_ecg_is_not_new(
    analysed: dict[str, AnalysisResult], profile: RuleProfile
) -> None:
    # Given the ST-elevation ECG compared with itself (persistent elevation)
    same = analysed["ludb7-ste"]
    out = compare_with_prior(same, _prior(same), profile, recorded_at=DAY9)
    assert not [f for f in out.findings if f.code == "REINFARCTION"]
    mi = _one(out, "ACUTE_MI", "stemi")
    assert mi.severity == "critical"  # never suppressed
    assert "was already there (not new)" in mi.message
    assert set(mi.evidence["prior_ecg"]["st_elevation_already_present"]) >= {"V2", "V3"}


def test_without_a_prior_ecg_the_evidence_says_so(
    analysed: dict[str, AnalysisResult], profile: RuleProfile
) -> None:
    out = compare_with_prior(analysed["ludb7-ste"], None, profile)
    mi = _one(out, "ACUTE_MI", "stemi")
    assert mi.evidence["prior_ecg"] == {"note": NO_PRIOR}
    assert mi.message.endswith(NO_PRIOR)
    assert out.comparison == {"prior_record_id": None, "note": NO_PRIOR}
    assert out.critical
    assert [f.code for f in out.findings] == [f.code for f in analysed["ludb7-ste"].findings]


def test_holter_results_and_a_profile_without_the_rule(
    analysed: dict[str, AnalysisResult], profile: RuleProfile
) -> None:
    holter = analysed["ludb7-ste"].model_copy(update={"recording_type": "holter"})
    assert compare_with_prior(holter, None, profile) is holter
    rules = [r for r in profile.rules if r.code != "REINFARCTION"]
    bare = profile.model_copy(update={"rules": rules})
    out = compare_with_prior(analysed["ludb7-ste"], _prior(analysed["ludb7"]), bare)
    assert not [f for f in out.findings if f.code == "REINFARCTION"]
    assert "not compared" in _one(out, "ACUTE_MI", "stemi").message


def test_real_q_measures_of_the_prior_are_read_when_stored(
    samples_dir: Path, analysed: dict[str, AnalysisResult], profile: RuleProfile
) -> None:
    # Given LUDB 7's stored result with its measured per-lead Q waves added, as
    # measurements.extra will hold them once the 12-lead stage stores q_ms / q_mv
    from ecg_core.qrs import detect_beats
    from ecg_core.twelve_lead import analyze_twelve_lead

    rec = read_record(samples_dir / "ludb7.hea")
    beats = detect_beats(rec.signal_mv, fs_hz=rec.fs_hz)
    f = analyze_twelve_lead(
        rec.signal_mv, rec.leads, fs_hz=rec.fs_hz, r_idx=beats.r_idx, labels=beats.label
    )
    raw = analysed["ludb7"].model_dump(mode="json")
    raw["measurements"]["extra"] |= {"q_ms": f.per_lead("q_ms"), "q_mv": f.per_lead("q_mv")}
    prior = stored_ecg(raw, recorded_at=DAY0)
    assert prior is not None
    out = compare_with_prior(analysed["ludb7-ste"], prior, profile, recorded_at=DAY9)
    # Then the old-infarct pattern comes from the measures (Q 60 ms in V2), same call
    assert out.comparison is not None
    assert out.comparison["q_source"] == "measures"
    assert "V2" in out.comparison["old_infarct_q"]["anterior"]
    assert _one(out, "REINFARCTION").evidence["q_source"] == "measures"
