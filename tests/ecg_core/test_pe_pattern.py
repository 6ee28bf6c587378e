"""PE_PATTERN: tachycardia + S1Q3T3 + right-ventricular strain, each sign required."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ecg_core.rules.context import RuleContext
from ecg_core.rules.twelve_lead_pe import pe_pattern
from ecg_core.twelve_lead import TwelveLeadFeatures, analyze_twelve_lead
from ingest.readers import read_record
from models.profile import load_profile
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def normal_features() -> TwelveLeadFeatures:
    rec = read_record(SAMPLES / "ludb1.hea")  # LUDB 1: sinus rhythm, no RV strain
    return analyze_twelve_lead(rec.signal_mv, rec.leads, fs_hz=rec.fs_hz)


def _with(f: TwelveLeadFeatures, hr: float, **per_lead: dict[str, float]) -> RuleContext:
    m = f.measures
    changes: dict[str, object] = {"hr_bpm": hr}
    for name, values in per_lead.items():
        arr = np.array(getattr(m, name), dtype=np.float64)
        for lead, v in values.items():
            arr[f.leads.index(lead)] = v
        changes[name] = arr
    g = replace(f, measures=replace(m, **changes))
    return RuleContext(
        fs_hz=500.0, duration_s=10.0, recording="resting", leads=f.leads,
        features={"twelve_lead": g},
    )  # fmt: skip


def _findings(ctx: RuleContext) -> list[str]:
    profile = load_profile()
    rule = next(r for r in profile.rules if r.code == "PE_PATTERN")
    return [f.severity for f in pe_pattern(ctx, rule, profile.name)]


S1Q3T3 = {
    "s_mv": {"I": 0.3},
    "q_mv": {"III": 0.2},
}
T_INV = {"III": -0.2, "V1": -0.25, "V2": -0.2, "V3": -0.15}


def test_all_three_signs_give_a_critical_finding(normal_features: TwelveLeadFeatures) -> None:
    ctx = _with(normal_features, 115.0, t_mv=T_INV, **S1Q3T3)
    assert _findings(ctx) == ["critical"]


def test_the_normal_tracing_has_no_pe_pattern(normal_features: TwelveLeadFeatures) -> None:
    ctx = _with(normal_features, float(normal_features.measures.hr_bpm))
    assert _findings(ctx) == []


@pytest.mark.parametrize(
    ("hr", "t_mv"),
    [
        (85.0, T_INV),  # no tachycardia
        (115.0, {"III": -0.2}),  # no right precordial T inversion (and no RBBB)
        (115.0, {"V1": -0.25, "V2": -0.2, "V3": -0.15, "III": 0.1}),  # T3 upright
    ],
)
def test_each_sign_is_required(
    normal_features: TwelveLeadFeatures, hr: float, t_mv: dict[str, float]
) -> None:
    ctx = _with(normal_features, hr, t_mv=t_mv, **S1Q3T3)
    assert _findings(ctx) == []
