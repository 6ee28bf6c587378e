"""12-lead ST rules on controlled per-lead measurements (real record, values replaced).

The features of LUDB 1 (normal sinus rhythm) are measured once; each test replaces the
per-lead ST / T / R / S values it is about and runs one evaluator of the national
profile, so the rule logic is checked without synthesising signals.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ecg_core.rules.context import RuleContext
from ecg_core.rules.twelve_lead_st import acute_mi, posterior_mi, st_depression
from ecg_core.twelve_lead import TwelveLeadFeatures, analyze_twelve_lead
from models.errors import RuleProfileError
from models.profile import Rule, load_profile

_ZERO = ("st_j_mv", "st_j60_mv", "st_j80_mv", "q_mv", "q_ms")


@pytest.fixture(scope="module")
def base_features(samples_dir: Path) -> TwelveLeadFeatures:
    """LUDB 1 features with every ST level and Q wave set to 0 and upright T waves."""
    import wfdb

    rec = wfdb.rdrecord(str(samples_dir / "ludb1"))
    names = {"AVR": "aVR", "AVL": "aVL", "AVF": "aVF"}
    leads = tuple(names.get(n.upper(), n.upper()) for n in rec.sig_name)
    f = analyze_twelve_lead(rec.p_signal.T.astype(np.float64), leads, fs_hz=float(rec.fs))
    m = f.measures
    n = len(f.leads)
    zeroed = {k: np.zeros(n) for k in _ZERO}
    upright = np.full(n, 0.3)
    upright[f.leads.index("aVR")] = -0.3
    r_dominant = {"r_mv": np.full(n, 1.0), "s_mv": np.full(n, 0.2)}
    return replace(f, measures=replace(m, **zeroed, t_mv=upright, **r_dominant))


def _with(f: TwelveLeadFeatures, **per_lead: dict[str, float]) -> TwelveLeadFeatures:
    """``f`` with the named per-lead measures set in the given leads."""
    arrays = {}
    for name, values in per_lead.items():
        a = np.array(getattr(f.measures, name), dtype=np.float64)
        for lead, v in values.items():
            a[f.leads.index(lead)] = v
        arrays[name] = a
    return replace(f, measures=replace(f.measures, **arrays))


def _ctx(f: TwelveLeadFeatures, *, age: float | None = 60.0, sex: str | None = "M") -> RuleContext:
    return RuleContext(
        fs_hz=500.0,
        duration_s=10.0,
        recording="resting",
        leads=f.leads,
        patient_age_years=age,
        patient_sex=sex,  # type: ignore[arg-type]
        features={"twelve_lead": f},
    )


def _rule(rule_id: str, **params: object) -> Rule:
    rule = next(r for r in load_profile().rules if r.id == rule_id)
    return rule.model_copy(update={"params": {**rule.params, **params}})


_INFERIOR = ("II", "III", "aVF")


def test_st_elevation_at_j_only_is_not_stemi(base_features: TwelveLeadFeatures) -> None:
    # Given J elevation 0.15 mV in II, III, aVF that is back to 0.03 mV by J+60 ms
    # (J wave / descending ST: the early-repolarisation pattern)
    f = _with(
        base_features,
        st_j_mv=dict.fromkeys(_INFERIOR, 0.15),
        st_j60_mv=dict.fromkeys(_INFERIOR, 0.03),
    )
    # Then the STEMI rule does not fire
    assert acute_mi(_ctx(f), _rule("stemi"), "p") == []
    # unless the profile switches the J+60 check off ("" = J point only, 4th UDMI text)
    j_only = acute_mi(_ctx(f), _rule("stemi", sustained_st_point=""), "p")
    assert [x.evidence["territory"] for x in j_only] == [["inferior"]]


def test_sustained_st_elevation_is_stemi_with_both_levels(
    base_features: TwelveLeadFeatures,
) -> None:
    # Given 0.15 mV at J rising to 0.2 mV at J+60 in II, III, aVF, reciprocal in aVL
    f = _with(
        base_features,
        st_j_mv={**dict.fromkeys(_INFERIOR, 0.15), "aVL": -0.1},
        st_j60_mv=dict.fromkeys(_INFERIOR, 0.2),
    )
    (mi,) = acute_mi(_ctx(f), _rule("stemi"), "p")
    # Then the finding gives the level at J and at J+60 and the reciprocal depression
    assert mi.code == "ACUTE_MI"
    assert set(mi.leads) == set(_INFERIOR)
    assert mi.evidence["st_mv"] == dict.fromkeys(_INFERIOR, 0.15)
    assert mi.evidence["st_sustained_mv"] == dict.fromkeys(_INFERIOR, 0.2)
    assert mi.evidence["reciprocal_depression"] == ["aVL"]
    assert "also at J60" in str(mi.threshold)


def test_sustained_level_uses_the_lead_threshold(base_features: TwelveLeadFeatures) -> None:
    # Given 0.12 mV at J in V4-V5 (lateral threshold 0.1 mV)
    f = _with(base_features, st_j_mv={"V4": 0.12, "V5": 0.12})
    rule = _rule("stemi")
    # Then J+60 at 0.11 mV confirms it, 0.08 mV does not
    up = _with(f, st_j60_mv={"V4": 0.11, "V5": 0.11})
    down = _with(f, st_j60_mv={"V4": 0.08, "V5": 0.08})
    assert len(acute_mi(_ctx(up), rule, "p")) == 1
    assert acute_mi(_ctx(down), rule, "p") == []


def test_v1_v3_elevation_is_read_at_j_alone(base_features: TwelveLeadFeatures) -> None:
    # Given a woman (V2-V3 threshold 0.15 mV) with 0.17 mV at J in V2-V3, 0.12 at J+60
    f = _with(
        base_features,
        st_j_mv={"V2": 0.17, "V3": 0.17},
        st_j60_mv={"V2": 0.12, "V3": 0.12},
    )
    # Then the anterior STEMI is called on the J point (4th UDMI), as before
    (mi,) = acute_mi(_ctx(f, sex="F"), _rule("stemi"), "p")
    assert set(mi.leads) == {"V2", "V3"}
    # and a man >= 40 y (0.2 mV) is not
    assert acute_mi(_ctx(f, sex="M"), _rule("stemi"), "p") == []


def test_unknown_sustained_point_is_a_profile_error(base_features: TwelveLeadFeatures) -> None:
    with pytest.raises(RuleProfileError, match="sustained_st_point"):
        acute_mi(_ctx(base_features), _rule("stemi", sustained_st_point="J40"), "p")


def test_posterior_mi_needs_horizontal_or_down_sloping_depression(
    base_features: TwelveLeadFeatures,
) -> None:
    rule = _rule("posterior-mi")
    # Given J depression -0.1 mV in V2-V3 with upright T
    j = {"V2": -0.1, "V3": -0.1}
    # When the ST segment rises to +0.01 mV by J+60 (up-sloping): no posterior MI
    upsloping = _with(base_features, st_j_mv=j, st_j60_mv={"V2": 0.01, "V3": 0.01})
    assert posterior_mi(_ctx(upsloping), rule, "p") == []
    # When it stays at -0.1 mV (horizontal): posterior STEMI equivalent
    flat = _with(base_features, st_j_mv=j, st_j60_mv=j)
    (post,) = posterior_mi(_ctx(flat), rule, "p")
    assert set(post.leads) == {"V2", "V3"}
    # and with inverted T it is not the posterior pattern
    inverted = _with(flat, t_mv={"V2": -0.2, "V3": -0.2})
    assert posterior_mi(_ctx(inverted), rule, "p") == []


def _t_rule() -> Rule:
    return _rule("st-depression", criterion="t_inversion", t_inversion_mv=0.1)


def test_t_inversion_with_dominant_r_is_ischaemia(base_features: TwelveLeadFeatures) -> None:
    # Given T -0.25 / -0.2 mV in V4-V5, where R (1.0 mV) > S (0.2 mV)
    f = _with(base_features, t_mv={"V4": -0.25, "V5": -0.2})
    (isch,) = st_depression(_ctx(f), _t_rule(), "p")
    # Then ACUTE_ISCHEMIA names the leads, the deepest T and asks for a previous ECG
    assert isch.code == "ACUTE_ISCHEMIA"
    assert isch.leads == ["V4", "V5"]
    assert isch.value == -0.25
    assert set(isch.evidence["territory"]) == {"anterior", "lateral"}
    assert "previous ECG" in isch.message


def test_t_inversion_needs_r_over_s_and_skips_normal_leads(
    base_features: TwelveLeadFeatures,
) -> None:
    rule = _t_rule()
    # Given T inversion in V4-V5 where S > R (rS complexes): not the criterion
    rs = _with(
        base_features,
        t_mv={"V4": -0.25, "V5": -0.2},
        r_mv={"V4": 0.3, "V5": 0.3},
        s_mv={"V4": 0.9, "V5": 0.9},
    )
    assert st_depression(_ctx(rs), rule, "p") == []
    # Given inverted T in III and aVF only (III is not counted): no contiguous pair
    inferior = _with(base_features, t_mv={"III": -0.3, "aVF": -0.2})
    assert st_depression(_ctx(inferior), rule, "p") == []
    # Given a single lead or a shallow (-0.08 mV) partner: nothing
    shallow = _with(base_features, t_mv={"V4": -0.3, "V5": -0.08})
    assert st_depression(_ctx(shallow), rule, "p") == []


def test_t_inversion_not_read_with_wide_qrs(base_features: TwelveLeadFeatures) -> None:
    # Given the same T inversion with QRS 140 ms and no RBBB morphology (LBBB / IVCD)
    f = _with(base_features, t_mv={"V4": -0.25, "V5": -0.2})
    wide = replace(f, measures=replace(f.measures, qrs_ms=140.0))
    # Then it is secondary repolarisation, not ischaemia
    assert st_depression(_ctx(wide), _t_rule(), "p") == []


def test_unknown_ischaemia_criterion_is_a_profile_error(
    base_features: TwelveLeadFeatures,
) -> None:
    with pytest.raises(RuleProfileError, match="criterion"):
        st_depression(_ctx(base_features), _rule("st-depression", criterion="wellens"), "p")


def test_ptb_acute_mi_keeps_its_posterior_call(samples_dir: Path) -> None:
    # Given PTB s0010_re (acute infero-postero-lateral MI): horizontal V1-V3 depression
    from ecg_core.analysis import analyze_record
    from ingest.readers import read_record

    result = analyze_record(read_record(samples_dir / "s0010_re.hea"), profile=load_profile())
    codes = {f.code for f in result.findings}
    # Then the horizontal-depression requirement keeps the posterior STEMI equivalent
    assert "POSTERIOR_MI" in codes


def test_v2_v3_threshold_for_a_man_of_unknown_age_is_the_mens(
    base_features: TwelveLeadFeatures,
) -> None:
    # Given 0.17 mV at J in V2-V3 only: above the women's 0.15 mV, below the men's 0.2
    f = _with(base_features, st_j_mv={"V2": 0.17, "V3": 0.17})
    rule = _rule("stemi")
    # Then a man of unknown age is read at the lower men's threshold (0.2 mV): not STEMI
    assert acute_mi(_ctx(f, age=None, sex="M"), rule, "p") == []
    # at 0.21 mV he is, and the finding says which threshold and why
    (mi,) = acute_mi(_ctx(_with(f, st_j_mv={"V2": 0.21, "V3": 0.21}), age=None, sex="M"), rule, "p")
    assert (
        mi.evidence["v2_v3_threshold_basis"]
        == "most sensitive threshold for men: patient age unknown"
    )
    # while unknown sex still gets the lowest threshold of all (0.15 mV)
    (unknown,) = acute_mi(_ctx(f, age=None, sex=None), rule, "p")
    assert "most sensitive threshold" in str(unknown.evidence["v2_v3_threshold_basis"])
