"""``HYPOKALEMIA``: severe hypokalaemia pattern (prominent U waves, long QT(U), tachyarrhythmia).

Reads ``ctx.features["u_wave"]`` (:class:`ecg_core.hypokalemia.UWaves`, the median-beat
U waves), ``ctx.features["rhythm"]`` and the episodes; every number comes from the rule.
Without the U-wave features (the stage did not run) the rule is silent.

A lead of ``u_leads`` (V2, V3: where U waves are most visible) has a *prominent* U wave
when U >= ``u_min_mv`` and U >= ``u_over_t_min`` x the T amplitude (absolute: an
inverted T counts by its depth) of the same lead
(U taller than T marks marked hypokalaemia; Surawicz & Knilans, Chou's
Electrocardiography, 2008). Leads noisier than ``max_noise_mv`` are not read. The
critical item of the catalogue (CRITICAL_VALUES.md A) needs the whole combination, each
part switchable by a parameter so that a profile can also report the U waves alone at a
lower severity:

- ``min_qtu_c_ms`` > 0: the QT(U) -- the longer of the QT and the QU of a prominent-U
  lead -- corrected with the profile's ``qtc_formula`` (RR of the median beat) must be
  >= it;
- ``require_arrhythmia`` = 1: a tachyarrhythmia or ventricular ectopy in the same record:
  a VT/VF/SVT episode, AF/flutter at >= ``tachy_bpm``, or >= ``min_pvcs`` ventricular
  beats (PVCs, couplets, runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ecg_core.hypokalemia import UWaves
from ecg_core.intervals import qtc_ms
from ecg_core.rules.arrhythmia_base import feats
from ecg_core.rules.context import RuleContext
from models.profile import Rule
from models.result import Finding

if TYPE_CHECKING:
    from ecg_core.rules.engine import Evaluator

__all__ = ["EVALUATORS", "arrhythmia_evidence", "prominent_u_leads"]

_DEFAULT_U_LEADS = ("V2", "V3")


def prominent_u_leads(u: UWaves, rule: Rule) -> list[str]:
    """Leads of ``u_leads`` with a prominent U wave (see the module docstring)."""
    names = rule.params.get("u_leads", list(_DEFAULT_U_LEADS))
    wanted = {str(n) for n in names} if isinstance(names, list) else set(_DEFAULT_U_LEADS)
    u_min = rule.param("u_min_mv")
    ratio = rule.param("u_over_t_min", 0.0)
    noise_max = rule.param("max_noise_mv", np.inf)
    out = []
    for k, lead in enumerate(u.leads):
        if lead not in wanted or not np.isfinite(u.u_mv[k]) or u.noise_mv[k] > noise_max:
            continue
        t = abs(float(u.t_mv[k])) if np.isfinite(u.t_mv[k]) else 0.0
        if u.u_mv[k] >= u_min and u.u_mv[k] >= ratio * t:
            out.append(lead)
    return out


def arrhythmia_evidence(ctx: RuleContext, rule: Rule) -> str | None:
    """The tachyarrhythmia / ectopy that completes the pattern, or None."""
    tachy = rule.param("tachy_bpm", 100.0)
    for e in ctx.episodes:
        if e.type in ("VT", "VF", "VFL", "SVTA"):
            return f"{e.type} episode at {e.onset_s:.1f} s"
    m = ctx.measurements
    hr = m.hr_bpm if m is not None else None
    if hr is not None and hr >= tachy and any(e.type in ("AFIB", "AFL") for e in ctx.episodes):
        return f"AF/flutter at {hr:.0f} bpm"
    f = feats(ctx)
    if f is not None:
        n_v = int(np.isin(f.label, ("V", "F")).sum())
        if n_v >= rule.param("min_pvcs", 2.0):
            return f"{n_v} ventricular premature beats"
    return None


def _hypokalemia(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Prominent U waves (+ long QT(U) + tachyarrhythmia, as the parameters ask)."""
    u = ctx.features.get("u_wave")
    if not isinstance(u, UWaves):
        return []
    leads = prominent_u_leads(u, rule)
    if not leads:
        return []
    idx = [u.leads.index(lead) for lead in leads]
    evidence: dict[str, Any] = {
        "u_mv": {u.leads[k]: round(float(u.u_mv[k]), 3) for k in idx},
        "t_mv": {u.leads[k]: round(float(u.t_mv[k]), 3) for k in idx},
        "qu_ms": {u.leads[k]: round(float(u.qu_ms[k]), 1) for k in idx},
    }
    parts = []
    qtu = max([u.qt_ms or 0.0, *(float(u.qu_ms[k]) for k in idx if np.isfinite(u.qu_ms[k]))])
    formula = str(ctx.features.get("qtc_formula", "bazett"))
    qtu_c = qtc_ms(qtu, u.rr_ms, formula) if qtu > 0 and np.isfinite(u.rr_ms) else None
    evidence["qtu_ms"] = round(qtu, 1)
    evidence["qtu_c_ms"] = None if qtu_c is None else round(qtu_c, 1)
    min_qtu = rule.param("min_qtu_c_ms", 0.0)
    if min_qtu > 0:
        if qtu_c is None or qtu_c < min_qtu:
            return []
        parts.append(f"QT(U)c ({formula}) {qtu_c:.0f} ms")
    if rule.param("require_arrhythmia", 0.0) > 0:
        arrhythmia = arrhythmia_evidence(ctx, rule)
        if arrhythmia is None:
            return []
        evidence["arrhythmia"] = arrhythmia
        parts.append(arrhythmia)
    value = round(float(np.max(u.u_mv[idx])), 3)
    waves = ", ".join(f"{u.leads[k]} {u.u_mv[k]:.2f} mV" for k in idx)
    with_ = f" with {'; '.join(parts)}" if parts else ""
    return [
        Finding(
            code=rule.code,
            severity=rule.severity,
            leads=leads,
            value=value,
            threshold=rule.param("u_min_mv"),
            rule=rule.id,
            profile=profile,
            evidence=evidence,
            message=(
                f"{'hypokalaemia pattern: ' if parts else ''}prominent U waves ({waves})"
                f"{with_}; confirm K+ by lab"
            ),
        )
    ]


EVALUATORS: dict[str, Evaluator] = {"HYPOKALEMIA": _hypokalemia}
"""Evaluators by item code (merged by :mod:`ecg_core.rules.engine`)."""
