"""Shared helpers of the 12-lead rule evaluators (features, findings, ST, BBB, formatting).

Private to :mod:`ecg_core.rules.twelve_lead` and its topic modules
(:mod:`~ecg_core.rules.twelve_lead_st`, :mod:`~ecg_core.rules.twelve_lead_conduction`,
:mod:`~ecg_core.rules.twelve_lead_technical`). Limb leads are not used for diagnoses
when a limb-electrode reversal is suspected.
"""

from __future__ import annotations

from collections.abc import Mapping

from ecg_core.ischemia import (
    BbbEvidence,
    bbb_pattern,
)
from ecg_core.rules.context import RuleContext
from ecg_core.twelve_lead import TwelveLeadFeatures
from models.leads import LIMB_LEADS
from models.profile import Rule
from models.result import Finding

__all__ = [
    "_BBB_KEYS",
    "_ST_POINT",
    "_bbb",
    "_diag_leads",
    "_features",
    "_finding",
    "_fmt",
    "_lead_order",
    "_st",
]


_ST_POINT = {"J": "st_j_mv", "J60": "st_j60_mv", "J80": "st_j80_mv"}


def _features(ctx: RuleContext) -> TwelveLeadFeatures | None:
    f = ctx.features.get("twelve_lead")
    return f if isinstance(f, TwelveLeadFeatures) else None


def _finding(rule: Rule, profile: str, **kw: object) -> Finding:
    return Finding(code=rule.code, severity=rule.severity, rule=rule.id, profile=profile, **kw)


def _diag_leads(f: TwelveLeadFeatures, name: str) -> dict[str, float]:
    """Per-lead values, without limb leads when a reversal is suspected."""
    values = f.per_lead(name)
    if f.reversal:
        values = {k: v for k, v in values.items() if k not in LIMB_LEADS}
    return values


def _st(f: TwelveLeadFeatures, rule: Rule) -> tuple[str, dict[str, float]]:
    point = str(rule.params.get("st_point", "J"))
    key = _ST_POINT.get(point)
    if key is None:
        from models.errors import RuleProfileError

        raise RuleProfileError(f"rule {rule.id!r}: st_point must be one of {sorted(_ST_POINT)}")
    return point, _diag_leads(f, key)


_BBB_KEYS = ("r_mv", "s_mv", "qrs_net_mv", "s_after_r_mv", "r_time_ms", "s_time_ms")


def _bbb(f: TwelveLeadFeatures, rule: Rule, qrs_min_ms: float) -> BbbEvidence | None:
    cols = {k: _diag_leads(f, k) for k in _BBB_KEYS}
    per_lead = {lead: {k: cols[k][lead] for k in _BBB_KEYS} for lead in cols["r_mv"]}
    return bbb_pattern(
        f.measures.qrs_ms,
        per_lead,
        qrs_min_ms=qrs_min_ms,
        lateral_s_ratio=rule.param("lbbb_lateral_s_ratio"),
    )


def _fmt(values: Mapping[str, float], leads: object) -> str:
    return ", ".join(f"{k} {values[k]:+.2f}" for k in sorted(leads, key=_lead_order))  # type: ignore[call-overload]


def _lead_order(name: str) -> int:
    from models.leads import STANDARD_12

    return STANDARD_12.index(name) if name in STANDARD_12 else 99
