"""Evaluator of the acute pulmonary embolism pattern (``PE_PATTERN``).

The catalogue item (CRITICAL_VALUES.md A, "suspected acute pulmonary embolism",
qualitative: S1Q3T3, new RBBB, right precordial T inversion with sinus tachycardia) is
read as the conjunction of three signs of acute right-ventricular strain, each of which
alone is common and unspecific:

1. tachycardia: heart rate >= ``threshold`` (100 /min);
2. S1Q3T3 (McGinn & White, JAMA 1935;104:1473): S wave in I >= ``s1_mv``, Q wave in III
   >= ``q3_mv``, T wave in III inverted (<= -``t3_mv``);
3. right-ventricular strain: complete RBBB, or T inversion <= -``t_inv_mv`` in >= 2 of
   V1-V3 (Daniel et al., Chest 2001;120:474, ECG score for PE: tachycardia, RBBB,
   T inversion V1-V4, S1Q3T3 score highest together).

A pattern, not a diagnosis: the finding asks for clinical correlation (D-dimer, CT
pulmonary angiography). "New" RBBB cannot be known without a previous ECG.
"""

from __future__ import annotations

import numpy as np

from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import Evaluator
from ecg_core.rules.twelve_lead_base import _bbb, _diag_leads, _features, _finding
from models.profile import Rule
from models.result import Finding

__all__ = ["EVALUATORS", "pe_pattern"]


def pe_pattern(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Tachycardia + S1Q3T3 + RBBB or right precordial T inversion."""
    f = _features(ctx)
    if f is None or f.reversal:  # limb leads carry S1Q3T3: not read under a reversal
        return []
    hr = float(f.measures.hr_bpm)
    if not np.isfinite(hr) or hr < (rule.threshold or 100.0):
        return []
    s, q, t = (_diag_leads(f, k) for k in ("s_mv", "q_mv", "t_mv"))
    if not {"I", "III"} <= set(s) or "III" not in q or "III" not in t:
        return []
    s1q3t3 = (
        s["I"] >= rule.param("s1_mv")
        and q["III"] >= rule.param("q3_mv")
        and t["III"] <= -rule.param("t3_mv")
    )
    if not s1q3t3:
        return []
    inverted = [ld for ld in ("V1", "V2", "V3") if t.get(ld, 0.0) <= -rule.param("t_inv_mv")]
    bbb = _bbb(f, rule, rule.param("rbbb_qrs_min_ms"))
    rbbb = bbb is not None and bbb.pattern == "RBBB"
    if not rbbb and len(inverted) < 2:
        return []
    strain = "RBBB" if rbbb else f"T inversion {', '.join(inverted)}"
    return [
        _finding(
            rule,
            profile,
            leads=["I", "III", *inverted],
            value=round(hr, 1),
            threshold=rule.threshold,
            evidence={
                "s_I_mv": round(s["I"], 3),
                "q_III_mv": round(q["III"], 3),
                "t_III_mv": round(t["III"], 3),
                "rbbb": rbbb,
                "t_inverted_v1_v3": inverted,
            },
            message=(
                f"suspected acute pulmonary embolism pattern: HR {hr:.0f} /min, S1Q3T3 "
                f"(S I {s['I']:.2f} mV, Q III {q['III']:.2f} mV, T III {t['III']:+.2f} mV), "
                f"{strain}; correlate clinically (D-dimer, CT pulmonary angiography)"
            ),
        )
    ]


EVALUATORS: dict[str, Evaluator] = {"PE_PATTERN": pe_pattern}
