"""12-lead technical evaluators: limb-electrode reversal, derived leads, noisy leads.

Assembled into the evaluator table by :mod:`ecg_core.rules.twelve_lead`.
"""

from __future__ import annotations

from ecg_core.rules.context import RuleContext
from ecg_core.rules.twelve_lead_base import (
    _features,
    _finding,
)
from models.profile import Rule
from models.result import Finding

__all__ = ["lead_derived", "lead_noisy", "lead_reversal"]


def lead_reversal(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Likely limb-electrode reversal (technical; limb-lead diagnoses withheld)."""
    f = _features(ctx)
    if f is None or f.reversal is None:
        return []
    return [
        _finding(
            rule,
            profile,
            leads=["I", "aVR"],
            value=f.reversal,
            message=(
                f"likely {f.reversal} electrode reversal (lead I inverted P/QRS/T, aVR "
                "upright, V6 upright): check the electrodes and repeat; axis and limb-lead "
                "findings withheld"
            ),
        )
    ]


def lead_derived(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Limb leads computed from I and II."""
    f = _features(ctx)
    if f is None or not f.derived_leads:
        return []
    return [
        _finding(
            rule,
            profile,
            leads=list(f.derived_leads),
            value=len(f.derived_leads),
            message=f"leads {', '.join(f.derived_leads)} derived from I and II (not recorded)",
        )
    ]


def lead_noisy(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Leads excluded from 12-lead measurement because they are noisy."""
    f = _features(ctx)
    if f is None:
        return []
    return [
        _finding(
            rule,
            profile,
            leads=[lead],
            value=reason,
            message=f"lead {lead} excluded from 12-lead measurements: {reason}",
        )
        for lead, reason in f.excluded_leads
    ]
