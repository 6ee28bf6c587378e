"""12-lead technical evaluators: limb-electrode reversal, derived leads, noisy leads.

Assembled into the evaluator table by :mod:`ecg_core.rules.twelve_lead`.
"""

from __future__ import annotations

from ecg_core.ischemia import contiguous_subset
from ecg_core.rules.context import RuleContext
from ecg_core.rules.twelve_lead_base import (
    _features,
    _finding,
)
from models.leads import CONTIGUOUS_GROUPS
from models.profile import Rule
from models.result import Finding

__all__ = ["lead_derived", "lead_noisy", "lead_reversal", "territories_not_assessable"]


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


def territories_not_assessable(
    measured: tuple[str, ...], excluded: tuple[str, ...]
) -> list[tuple[str, tuple[str, ...]]]:
    """Territories whose ST cannot be read because recorded leads were lost.

    The 4th UDMI criteria (Thygesen et al., JACC 2018;72:2231) need two anatomically
    contiguous leads: a territory (``CONTIGUOUS_GROUPS``) with a lost lead none of whose
    measured leads keeps a measured contiguous partner (``CONTIGUOUS_PAIRS``: same group
    or adjacent precordial) cannot show an ST elevation. A noisy V1 with V2-V3 measured
    leaves the septal V2 readable; a noisy V2 leaves V1 without a partner.

    Parameters
    ----------
    measured : tuple of str
        Leads measured.
    excluded : tuple of str
        Recorded leads not measured (excluded as noisy, or unusable in the record).

    Returns
    -------
    list of (str, tuple of str)
        ``(territory, its lost leads)``.

    Examples
    --------
    >>> territories_not_assessable(("I", "II", "aVL", "V5", "V6"), ("III", "aVF"))
    [('inferior', ('III', 'aVF'))]
    """
    paired = contiguous_subset(measured)
    out: list[tuple[str, tuple[str, ...]]] = []
    for name, group in CONTIGUOUS_GROUPS.items():
        lost = tuple(lead for lead in group if lead in excluded)
        if lost and not paired.intersection(group):
            out.append((name, lost))
    return out


def lead_noisy(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Leads excluded from 12-lead measurement because they are noisy.

    With ``params.criterion = "territory"``: one finding per ST territory that cannot be
    assessed (:func:`territories_not_assessable`; lost leads are those excluded as noisy
    and those recorded but unusable in the record, e.g. flat or lead off), so that a
    record whose lost leads hide a whole territory never reads as normal (an acute MI
    there is not excluded).
    """
    f = _features(ctx)
    if f is None:
        return []
    if rule.params.get("criterion") == "territory":
        noisy = {lead for lead, _ in f.excluded_leads}
        # recorded leads the 12-lead stage never saw: unusable in the record (flat, lead off)
        unusable = {lead for lead in ctx.leads if lead not in f.leads and lead not in noisy}
        lost = territories_not_assessable(f.leads, tuple(noisy | unusable))

        def why(leads: tuple[str, ...]) -> str:
            parts = [
                f"{', '.join(x for x in leads if x in group)} {label}"
                for group, label in ((noisy, "excluded as noisy"), (unusable, "unusable"))
                if any(x in group for x in leads)
            ]
            return "; ".join(parts)

        return [
            _finding(
                rule,
                profile,
                leads=list(leads),
                value=name,
                message=(
                    f"ST in the {name} territory ({', '.join(CONTIGUOUS_GROUPS[name])}) "
                    f"cannot be assessed: {why(leads)}; acute MI there is not excluded: "
                    "review the tracing or repeat the ECG"
                ),
            )
            for name, leads in lost
        ]
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
