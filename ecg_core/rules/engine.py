"""Evaluate a rule profile against a :class:`RuleContext`.

Thresholds come from the profile (data); how an item is recognised is an evaluator
(code), one per item code. Evaluator tables are plain module-level constants
(``EVALUATORS`` dicts) merged here; there is no mutable registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ecg_core.rules.context import RuleContext
from models.profile import Rule, RuleProfile
from models.result import Finding

__all__ = ["Evaluator", "evaluate_profile", "missing_evaluators"]

Evaluator = Callable[[RuleContext, Rule, str], list[Finding]]
"""``evaluator(ctx, rule, profile_name) -> findings``."""


def _all_evaluators() -> Mapping[str, Evaluator]:
    tables: list[Mapping[str, Evaluator]] = []
    # Stage modules add their table here (imported lazily to keep import order simple).
    from ecg_core.rules.arrhythmia import EVALUATORS as ARRHYTHMIA

    tables.append(ARRHYTHMIA)
    from ecg_core.rules.twelve_lead import EVALUATORS as TWELVE_LEAD

    tables.append(TWELVE_LEAD)
    from ecg_core.rules.pacing_rules import EVALUATORS as PACING

    tables.append(PACING)
    from ecg_core.rules.twelve_lead_pe import EVALUATORS as PE

    tables.append(PE)
    from ecg_core.rules.comparison_rules import EVALUATORS as COMPARISON

    tables.append(COMPARISON)  # needs a prior ECG: see comparison_rules.compare_with_prior
    from ecg_core.rules.polymorphic_rules import EVALUATORS as POLYMORPHIC

    tables.append(POLYMORPHIC)
    from ecg_core.rules.hypokalemia_rules import EVALUATORS as HYPOKALEMIA

    tables.append(HYPOKALEMIA)
    from ecg_core.rules.flutter_rules import EVALUATORS as FLUTTER

    tables.append(FLUTTER)
    return {code: fn for table in tables for code, fn in table.items()}


def missing_evaluators(profile: RuleProfile) -> list[str]:
    """Codes used by enabled rules of ``profile`` that no evaluator handles."""
    known = _all_evaluators()
    return sorted({r.code for r in profile.rules if r.enabled and r.code not in known})


def evaluate_profile(profile: RuleProfile, ctx: RuleContext) -> list[Finding]:
    """Run every enabled rule of ``profile`` that applies to ``ctx.recording``.

    Parameters
    ----------
    profile : RuleProfile
        Validated profile.
    ctx : RuleContext
        Features of the record.

    Returns
    -------
    list of Finding
        Findings sorted by severity (critical first), then onset.
    """
    table = _all_evaluators()
    findings: list[Finding] = []
    for rule in profile.rules_for(ctx.recording):
        evaluator = table.get(rule.code)
        if evaluator is not None:
            findings.extend(evaluator(ctx, rule, profile.name))
    order = {"critical": 0, "abnormal": 1, "info": 2}
    return sorted(findings, key=lambda f: (order[f.severity], f.onset_s or 0.0, f.code))
