"""Evaluators of the 12-lead rules (ischaemia, conduction, intervals, technical).

Each reads :class:`ecg_core.twelve_lead.TwelveLeadFeatures` from
``ctx.features["twelve_lead"]`` and every threshold from the rule (profile data).
Limb leads are not used for diagnoses when a limb-electrode reversal is suspected.
"""

from __future__ import annotations

from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import Evaluator
from ecg_core.rules.twelve_lead_conduction import (
    _bbb_rule,
    av_block_1,
    axis_deviation,
    hyperkalemia,
    long_qt_critical,
    long_qtc,
    qrs_wide,
    short_pr,
)
from ecg_core.rules.twelve_lead_st import (
    acute_mi,
    de_winter,
    diffuse_st_depression,
    posterior_mi,
    sgarbossa,
    st_depression,
)
from ecg_core.rules.twelve_lead_technical import lead_derived, lead_noisy, lead_reversal
from models.profile import Rule
from models.result import Finding

__all__ = ["EVALUATORS"]


def _t_inversion(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """The ``st_depression`` evaluator's 4th UDMI T-inversion criterion, whatever the params."""
    forced = rule.model_copy(update={"params": {**rule.params, "criterion": "t_inversion"}})
    return st_depression(ctx, forced, profile)


EVALUATORS: dict[str, Evaluator] = {
    "ACUTE_MI": acute_mi,
    "ACUTE_ISCHEMIA": st_depression,
    "T_INVERSION": _t_inversion,
    "DIFFUSE_ST_DEPRESSION": diffuse_st_depression,
    "POSTERIOR_MI": posterior_mi,
    "DE_WINTER": de_winter,
    "SGARBOSSA": sgarbossa,
    "LBBB": _bbb_rule("LBBB"),
    "RBBB": _bbb_rule("RBBB"),
    "QRS_WIDE": qrs_wide,
    "LONG_QTC": long_qtc,
    "LONG_QT": long_qt_critical,
    "HYPERKALEMIA": hyperkalemia,
    "AV_BLOCK_1": av_block_1,
    "SHORT_PR": short_pr,
    "AXIS_DEVIATION": axis_deviation,
    "LEAD_REVERSAL": lead_reversal,
    "LEAD_DERIVED": lead_derived,
    "LEAD_UNUSABLE": lead_noisy,
}
