"""12-lead conduction and interval evaluators: BBB, wide QRS, QTc, hyperkalaemia, PR, axis.

Each reads :class:`ecg_core.twelve_lead.TwelveLeadFeatures` from
``ctx.features["twelve_lead"]`` and every threshold from the rule (profile data).
Assembled into the evaluator table by :mod:`ecg_core.rules.twelve_lead`.
"""

from __future__ import annotations

import numpy as np

from ecg_core.holter_qt import HolterQt
from ecg_core.pacing import PacingAnalysis
from ecg_core.rules.arrhythmia_base import feats, ront_pvcs
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import Evaluator
from ecg_core.rules.twelve_lead_base import (
    _bbb,
    _features,
    _finding,
    _fmt,
    _lead_order,
)
from ecg_core.twelve_lead import TwelveLeadFeatures
from models.profile import Rule
from models.result import Finding

__all__ = [
    "av_block_1",
    "axis_deviation",
    "hyperkalemia",
    "long_qt_critical",
    "long_qtc",
    "qrs_wide",
    "short_pr",
]


def _bbb_rule(kind: str) -> Evaluator:
    def evaluate(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
        f = _features(ctx)
        if f is None:
            return []
        bbb = _bbb(f, rule, rule.threshold or 0.0)
        if bbb is None or bbb.pattern != kind:
            return []
        return [
            _finding(
                rule,
                profile,
                leads=["V1", "I", "V6"],
                value=round(bbb.qrs_ms, 1),
                threshold=rule.threshold,
                evidence={"morphology": bbb.detail},
                message=f"complete {kind}: QRS {bbb.qrs_ms:.0f} ms with {kind} morphology",
            )
        ]

    return evaluate


def _mostly_paced(ctx: RuleContext) -> bool:
    """True when most beats follow a pacemaker stimulus (``ctx.features["pacing"]``).

    Paced QRS width and QT are not interpreted as native conduction (AHA/ACCF/HRS 2009
    part II, Mason et al., JACC 2007;49:1128); ``PACED_RHYTHM`` reports the rhythm.
    """
    p = ctx.features.get("pacing")
    return isinstance(p, PacingAnalysis) and p.paced_rhythm and p.paced_fraction >= 0.5


def qrs_wide(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """QRS wider than the threshold without a complete BBB pattern (not in paced rhythm)."""
    f = _features(ctx)
    if f is None or f.measures.qrs_ms <= (rule.threshold or 0.0) or _mostly_paced(ctx):
        return []
    if _bbb(f, rule, rule.param("bbb_qrs_min_ms")) is not None:
        return []
    q = f.measures.qrs_ms
    return [
        _finding(
            rule,
            profile,
            value=round(q, 1),
            threshold=rule.threshold,
            message=f"QRS {q:.0f} ms > {rule.threshold:g} ms: intraventricular conduction delay",
        )
    ]


def _qtc(ctx: RuleContext, f: TwelveLeadFeatures, rule: Rule) -> tuple[str, float] | None:
    formula = str(rule.params.get("qtc_formula", ctx.features.get("qtc_formula", "bazett")))
    value = f.measures.qtc_ms.get(formula)
    return None if value is None else (formula, value)


def long_qtc(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Prolonged QTc (sex-specific; most sensitive when sex unknown; not in paced rhythm).

    The critical ``LONG_QT`` item is evaluated whatever the rhythm.
    """
    f = _features(ctx)
    got = None if f is None else _qtc(ctx, f, rule)
    if f is None or got is None or _mostly_paced(ctx):
        return []
    formula, value = got
    if ctx.patient_sex == "F":
        thr, basis = rule.param("women_ms"), "women"
    elif ctx.patient_sex == "M":
        thr, basis = rule.param("men_ms"), "men"
    else:
        thr = min(rule.param("women_ms"), rule.param("men_ms"))
        basis = "most sensitive threshold: sex unknown"
    if value < thr:
        return []
    risk = value > rule.param("torsades_risk_ms")
    return [
        _finding(
            rule,
            profile,
            value=round(value, 1),
            threshold=thr,
            evidence={"formula": formula, "qt_ms": f.measures.qt_ms, "basis": basis},
            message=(
                f"QTc ({formula}) {value:.0f} ms >= {thr:g} ms ({basis})"
                + ("; > 500 ms: torsades risk" if risk else "")
            ),
        )
    ]


def _qt_companion(ctx: RuleContext, rule: Rule, qtc: float) -> dict[str, object] | None:
    """The arrhythmia that makes a long QT critical, or None.

    Resting ECG: R-on-T PVCs (coupling <= ``with_ront_ratio`` x the QT measured here,
    compensated, not resembling the sinus beat: ``min_compensation``, ``max_normal_corr``).
    Holter: a ventricular run of >= ``with_vt_min_beats`` beats at >= ``with_vt_min_bpm``.
    """
    rf = feats(ctx)
    if rf is None:
        return None
    if ctx.recording == "holter":
        r = rf.v_runs
        ok = (r.n_beats >= rule.param("with_vt_min_beats")) & (
            r.rate_bpm >= rule.param("with_vt_min_bpm")
        )
        if not ok.any():
            return None
        k = int(np.flatnonzero(ok)[0])
        return {"with": "VT", "onset_s": round(float(r.onset_s[k]), 3), "runs": int(ok.sum())}
    if rf.pvc_idx.size == 0:
        return None
    hit, ratio, _, _ = ront_pvcs(
        rf,
        qtc_ms=qtc,
        ratio=rule.param("with_ront_ratio"),
        min_compensation=rule.param("min_compensation"),
        max_normal_corr=rule.param("max_normal_corr"),
        max_prematurity=rule.param("max_prematurity", float("inf")),
        min_qrs_ms=rule.param("min_qrs_ms", 0.0),
    )
    if hit.size == 0:
        return None
    return {
        "with": "R-on-T PVC",
        "beat_indices": [int(i) for i in rf.pvc_idx[hit][:20]],
        "coupling_qt_ratio": round(float(np.min(ratio[hit])), 3),
    }


def long_qt_critical(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Critical QTc (>= threshold, 550 ms) WITH R-on-T PVCs (resting) or VT (Holter).

    CRITICAL_VALUES.md A (LONG_QT): the critical value is the conjunction; a stand-alone
    QTc >= 500 ms is reported as abnormal by ``LONG_QTC`` (torsades risk). The QTc is the
    12-lead measurement (withheld when it cannot be trusted); on Holter, the longest QTc
    measured in the 5 min before a ventricular run (``ecg_core.holter_qt``), else the
    record's median QTc (``ctx.measurements``).
    """
    f = _features(ctx)
    got = None if f is None else _qtc(ctx, f, rule)
    hq = ctx.features.get("holter_qt")
    if got is None and isinstance(hq, HolterQt) and hq.pre_run_qtc_ms is not None:
        got = (hq.formula, hq.pre_run_qtc_ms)  # Holter: the QT the ventricular run arose from
    if got is None and ctx.measurements is not None and ctx.measurements.qtc_ms is not None:
        got = (str(ctx.features.get("qtc_formula", "bazett")), ctx.measurements.qtc_ms)
    if got is None or got[1] < (rule.threshold or 0.0):
        return []
    formula, value = got
    companion = _qt_companion(ctx, rule, value)
    if companion is None:
        return []
    return [
        _finding(
            rule,
            profile,
            value=round(value, 1),
            threshold=rule.threshold,
            evidence={"formula": formula, **companion},
            message=(
                f"critical QT prolongation: QTc ({formula}) {value:.0f} ms with {companion['with']}"
            ),
        )
    ]


def hyperkalemia(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Peaked T waves with wide QRS (and absent P): severe hyperkalaemia pattern."""
    f = _features(ctx)
    if f is None or f.measures.qrs_ms <= rule.param("qrs_min_ms"):
        return []
    t = f.per_lead("t_mv")
    tall = {lead for lead, v in t.items() if v >= rule.param("t_peak_mv")}
    if len(tall) < rule.param("min_leads"):
        return []
    no_p = f.measures.p_present_fraction <= rule.param("p_present_max_fraction")
    if bool(rule.params.get("require_p_absent", True)) and not no_p:
        return []
    return [
        _finding(
            rule,
            profile,
            leads=sorted(tall, key=_lead_order),
            value=round(max(t[x] for x in tall), 3),
            evidence={"qrs_ms": round(f.measures.qrs_ms, 1), "p_absent": no_p},
            message=(
                f"hyperkalaemia pattern: peaked T ({_fmt(t, tall)} mV), QRS "
                f"{f.measures.qrs_ms:.0f} ms{', no P waves' if no_p else ''}; confirm K+ by lab"
            ),
        )
    ]


def _pr(ctx: RuleContext, f: TwelveLeadFeatures, rule: Rule) -> float | None:
    """Median-beat PR when P waves precede the QRS consistently (not in AF / flutter)."""
    if f.measures.pr_ms is None or any(e.type in ("AFIB", "AFL") for e in ctx.episodes):
        return None
    if f.measures.p_present_fraction < rule.param("p_present_min_fraction"):
        return None
    pr = f.measures.pr_beats_ms[np.isfinite(f.measures.pr_beats_ms)]
    if pr.size and np.subtract(*np.percentile(pr, [75, 25])) > rule.param("pr_iqr_max_ms"):
        return None  # PR varies from beat to beat: no fixed P-QRS relation
    return f.measures.pr_ms


def _pr_finding(
    ctx: RuleContext, rule: Rule, profile: str, *, above: bool, label: str
) -> list[Finding]:
    """One finding when the fixed-relation PR lies above (or below) the rule threshold."""
    f = _features(ctx)
    pr = None if f is None else _pr(ctx, f, rule)
    limit = rule.threshold or 0.0
    if pr is None or (pr <= limit if above else pr >= limit):
        return []
    return [
        _finding(
            rule,
            profile,
            value=round(pr, 1),
            threshold=rule.threshold,
            message=f"{label} {pr:.0f} ms {'>' if above else '<'} {limit:g} ms",
        )
    ]


def av_block_1(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """First-degree AV block: PR above the threshold with P before every QRS."""
    return _pr_finding(ctx, rule, profile, above=True, label="first-degree AV block: PR")


def short_pr(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Short PR (< 120 ms): pre-excitation or junctional rhythm to be excluded."""
    return _pr_finding(ctx, rule, profile, above=False, label="short PR")


def axis_deviation(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Frontal QRS axis outside the normal range."""
    f = _features(ctx)
    if f is None or f.reversal or f.measures.axis_deg is None:
        return []
    axis = f.measures.axis_deg
    lo, hi = rule.param("left_deg"), rule.param("right_deg")
    if lo <= axis <= hi:
        return []
    kind = "left" if -90.0 <= axis < lo else "right" if hi < axis <= 180.0 else "extreme"
    return [
        _finding(
            rule,
            profile,
            leads=["I", "aVF"],
            value=round(axis, 0),
            threshold=f"{lo:g}..{hi:g} deg",
            message=f"{kind} axis deviation: QRS axis {axis:.0f} deg",
        )
    ]
