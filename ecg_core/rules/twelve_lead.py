"""Evaluators of the 12-lead rules (ischaemia, conduction, intervals, technical).

Each reads :class:`ecg_core.twelve_lead.TwelveLeadFeatures` from
``ctx.features["twelve_lead"]`` and every threshold from the rule (profile data).
Limb leads are not used for diagnoses when a limb-electrode reversal is suspected.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ecg_core.ischemia import (
    RECIPROCAL,
    BbbEvidence,
    bbb_pattern,
    contiguous_subset,
    q_wave_leads,
    q_wave_territory_leads,
    sgarbossa_leads,
    territories,
)
from ecg_core.rules.arrhythmia_base import feats, ront_pvcs
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import Evaluator
from ecg_core.twelve_lead import TwelveLeadFeatures
from models.leads import LIMB_LEADS
from models.profile import Rule
from models.result import Finding

__all__ = ["EVALUATORS"]

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


def _v2v3_threshold(ctx: RuleContext, rule: Rule) -> tuple[float, str]:
    age, sex = ctx.patient_age_years, ctx.patient_sex
    split = rule.param("age_split_years", 40.0)
    if sex == "F":
        return rule.param("v2_v3_women_mv"), "women"
    if sex == "M" and age is not None:
        if age >= split:
            return rule.param("v2_v3_men_ge40_mv"), f"men >= {split:g} y"
        return rule.param("v2_v3_men_lt40_mv"), f"men < {split:g} y"
    most = min(
        rule.param("v2_v3_women_mv"),
        rule.param("v2_v3_men_ge40_mv"),
        rule.param("v2_v3_men_lt40_mv"),
    )
    return most, "most sensitive threshold: patient age/sex unknown"


def _lvh(f: TwelveLeadFeatures, rule: Rule) -> bool:
    r, s = f.per_lead("r_mv"), f.per_lead("s_mv")
    if "V1" not in s or not ({"V5", "V6"} & set(r)):
        return False
    sokolow = s["V1"] + max(r.get("V5", 0.0), r.get("V6", 0.0))
    return sokolow >= rule.param("lvh_sokolow_mv")


#: Leads where an inverted T wave is a normal finding (aVR always, III and V1 often;
#: AHA/ACCF/HRS 2009 part VI, Wagner et al. Circulation 2009;119:e262): not counted as
#: ischaemic T inversion.
_T_NORMALLY_INVERTED = frozenset({"aVR", "III", "V1"})


def acute_mi(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Suspected acute MI; ``params.criterion`` names the pattern the rule reads.

    ``"st_elevation"`` (default): 4th UDMI new ST elevation at J in >= 2 contiguous
    leads. ``"q_wave_t_inversion"``: evolving Q-wave MI (see :func:`_q_wave_mi`).
    """
    criterion = str(rule.params.get("criterion", "st_elevation"))
    if criterion == "q_wave_t_inversion":
        return _q_wave_mi(ctx, rule, profile)
    if criterion != "st_elevation":
        from models.errors import RuleProfileError

        raise RuleProfileError(
            f"rule {rule.id!r}: criterion must be 'st_elevation' or 'q_wave_t_inversion', "
            f"got {criterion!r}"
        )
    f = _features(ctx)
    if f is None:
        return []
    bbb = _bbb(f, rule, rule.param("bbb_qrs_min_ms"))
    if bbb is not None and bbb.pattern == "LBBB":
        return []  # LBBB: Smith-modified Sgarbossa instead
    point, st = _st(f, rule)
    v23, v23_note = _v2v3_threshold(ctx, rule)
    limb = rule.param("st_elevation_mv")
    thr = {
        lead: (
            v23
            if lead in ("V2", "V3")
            else rule.param("posterior_mv")
            if lead in ("V7", "V8", "V9")
            else rule.param("right_mv")
            if lead in ("V3R", "V4R")
            else limb
        )
        for lead in st
        if lead != "aVR"
    }
    elevated = {lead for lead, t in thr.items() if st[lead] >= t}
    if _lvh(f, rule):  # LVH: right precordial ST elevation must be >= ratio x S depth
        s = f.per_lead("s_mv")
        ratio = rule.param("lvh_st_s_ratio")
        elevated = {
            lead
            for lead in elevated
            if lead not in ("V1", "V2", "V3") or st[lead] >= ratio * s.get(lead, 0.0)
        }
    hit = contiguous_subset(elevated)
    if not hit:
        return []
    terr = territories(hit)
    recip = {
        lead
        for t in terr
        for lead in RECIPROCAL.get(t, ())
        if lead in st and st[lead] <= -rule.param("reciprocal_mv")
    }
    worst = max(hit, key=lambda x: st[x])
    return [
        _finding(
            rule,
            profile,
            leads=sorted(hit, key=_lead_order),
            value=round(st[worst], 3),
            threshold=f"{limb:g} mV (V2-V3 {v23:g} mV, {v23_note})",
            evidence={
                "st_point": point,
                "st_mv": {k: round(st[k], 3) for k in sorted(hit, key=_lead_order)},
                "territory": terr,
                "reciprocal_depression": sorted(recip, key=_lead_order),
                "v2_v3_threshold_basis": v23_note,
            },
            message=(
                f"suspected acute STEMI, {'/'.join(terr)}: ST elevation at {point} "
                f"{_fmt(st, hit)} mV; V2-V3 threshold {v23:g} mV ({v23_note})"
                + (f"; reciprocal ST depression in {', '.join(sorted(recip))}" if recip else "")
            ),
        )
    ]


def _q_wave_mi(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Evolving Q-wave MI: pathological Q waves with ischaemic T inversion, same territory.

    Q waves by the 4th UDMI criteria (Thygesen et al. JACC 2018;72:2231) and, in the
    leads of the same territory, T inversion > ``t_inversion_mv`` in >= 2 contiguous
    leads (the 4th UDMI ischaemic T-inversion amplitude; aVR, III and V1 not counted).
    Q waves followed by T inversion over the infarct are the evolving phase of a
    transmural infarction (AHA/ACCF/HRS 2009 part VI, Wagner et al. Circulation
    2009;119:e262); the age of the infarct cannot be told from one ECG, so the finding
    asks for comparison with a previous one. Not applied with QRS >= ``qrs_max_ms``
    (bundle-branch block / paced: Q waves and ST-T are not interpretable).
    """
    f = _features(ctx)
    if f is None or f.measures.qrs_ms >= rule.param("qrs_max_ms"):
        return []
    q = q_wave_leads(
        _diag_leads(f, "q_ms"),
        _diag_leads(f, "q_mv"),
        _diag_leads(f, "r_mv"),
        v2_v3_q_ms=rule.param("v2_v3_q_ms"),
        q_min_ms=rule.param("q_min_ms"),
        q_min_mv=rule.param("q_min_mv"),
        qs_r_max_mv=rule.param("qs_r_max_mv"),
    )
    t = _diag_leads(f, "t_mv")
    thr = rule.param("t_inversion_mv")
    for territory, q_leads in q.items():
        inverted = {
            x
            for x in q_wave_territory_leads(territory)
            if x in t and x not in _T_NORMALLY_INVERTED and t[x] < -thr
        }
        t_hit = contiguous_subset(inverted)
        if not t_hit:
            continue
        qd, td = _diag_leads(f, "q_ms"), {k: t[k] for k in t_hit}
        return [
            _finding(
                rule,
                profile,
                leads=sorted(q_leads | t_hit, key=_lead_order),
                value=round(min(td.values()), 3),
                threshold=-thr,
                evidence={
                    "criterion": "Q waves + T inversion (evolving Q-wave MI)",
                    "territory": territory,
                    "q_ms": {k: round(qd[k], 1) for k in sorted(q_leads, key=_lead_order)},
                    "t_mv": {k: round(v, 3) for k, v in sorted(td.items())},
                },
                message=(
                    f"suspected evolving {territory} Q-wave MI: pathological Q/QS in "
                    f"{', '.join(sorted(q_leads, key=_lead_order))} with T inversion "
                    f"{_fmt(t, t_hit)} mV; no ST elevation meeting the STEMI criteria; "
                    "age undetermined: compare with a previous ECG"
                ),
            )
        ]
    return []


def _secondary_repol(f: TwelveLeadFeatures, rule: Rule) -> frozenset[str] | None:
    """Leads whose ST-T is secondary to abnormal depolarisation; None = all leads.

    A wide QRS makes ST depression secondary (LBBB, paced, IVCD: all leads), except in
    RBBB, where only V1-V3 carry secondary ST-T changes (4th UDMI), and those are
    discordant to the terminal R': ST depression with T inversion. ST depression with
    an upright T in V1-V3 is therefore not secondary.
    """
    qrs_min = rule.param("secondary_qrs_min_ms")
    if f.measures.qrs_ms < qrs_min:
        return frozenset()
    bbb = _bbb(f, rule, qrs_min)
    if bbb is not None and bbb.pattern == "RBBB":
        t = f.per_lead("t_mv")
        return frozenset(x for x in ("V1", "V2", "V3") if t.get(x, 0.0) < 0)
    return None


def st_depression(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Horizontal / down-sloping ST depression in >= 2 contiguous leads (4th UDMI)."""
    f = _features(ctx)
    secondary = None if f is None else _secondary_repol(f, rule)
    if f is None or secondary is None:
        return []
    point, st = _st(f, rule)
    st = {k: v for k, v in st.items() if k not in secondary}
    j60 = _diag_leads(f, "st_j60_mv")
    j = _diag_leads(f, "st_j_mv")
    thr = rule.threshold or 0.0
    up = rule.param("upsloping_rise_mv")
    dep = {
        lead for lead, v in st.items() if lead != "aVR" and v <= -thr and (j60[lead] - j[lead]) < up
    }
    hit = contiguous_subset(dep)
    if not hit:
        return []
    worst = min(hit, key=lambda x: st[x])
    return [
        _finding(
            rule,
            profile,
            leads=sorted(hit, key=_lead_order),
            value=round(st[worst], 3),
            threshold=-thr,
            evidence={"st_point": point, "territory": territories(hit)},
            message=f"horizontal/down-sloping ST depression at {point}: {_fmt(st, hit)} mV",
        )
    ]


def diffuse_st_depression(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """ST depression in >= N leads with ST elevation in aVR (left main / multivessel)."""
    f = _features(ctx)
    if f is None or f.reversal or _secondary_repol(f, rule) is None:
        return []
    point, st = _st(f, rule)
    if "aVR" not in st:
        return []
    dep = {lead for lead, v in st.items() if lead != "aVR" and v <= -(rule.threshold or 0.0)}
    if len(dep) < rule.param("min_leads") or st["aVR"] < rule.param("avr_elevation_mv"):
        return []
    return [
        _finding(
            rule,
            profile,
            leads=sorted(dep | {"aVR"}, key=_lead_order),
            value=round(st["aVR"], 3),
            threshold=rule.param("avr_elevation_mv"),
            evidence={"st_point": point, "n_depressed": len(dep)},
            message=(
                f"diffuse ST depression in {len(dep)} leads ({_fmt(st, dep)} mV) with ST "
                f"elevation {st['aVR']:+.2f} mV in aVR: left main / multivessel ischaemia"
            ),
        )
    ]


def posterior_mi(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Posterior STEMI equivalent: ST depression V1-V3 with upright terminal T."""
    f = _features(ctx)
    if f is None or _secondary_repol(f, rule) is None:
        return []  # LBBB / paced / IVCD: ST-T secondary everywhere (upright T required below)
    point, st = _st(f, rule)
    t = f.per_lead("t_mv")
    dep = {
        lead
        for lead in ("V1", "V2", "V3")
        if lead in st and st[lead] <= -(rule.threshold or 0.0) and t[lead] > 0
    }
    hit = contiguous_subset(dep)
    if not hit:
        return []
    return [
        _finding(
            rule,
            profile,
            leads=sorted(hit, key=_lead_order),
            value=round(min(st[x] for x in hit), 3),
            threshold=-(rule.threshold or 0.0),
            evidence={"st_point": point, "t_mv": {k: round(t[k], 3) for k in hit}},
            message=(
                f"posterior STEMI equivalent: ST depression {_fmt(st, hit)} mV with upright "
                "T; record V7-V9 to confirm"
            ),
        )
    ]


def de_winter(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """De Winter: up-sloping J depression into tall T in V1-V6, slight STE in aVR."""
    f = _features(ctx)
    if f is None:
        return []
    j, j60, t = _diag_leads(f, "st_j_mv"), _diag_leads(f, "st_j60_mv"), f.per_lead("t_mv")
    lo, hi = rule.param("j_depression_min_mv"), rule.param("j_depression_max_mv")
    leads = {
        lead
        for lead in ("V1", "V2", "V3", "V4", "V5", "V6")
        if lead in j
        and -hi <= j[lead] <= -lo
        and j60[lead] - j[lead] >= rule.param("upsloping_rise_mv")
        and t[lead] >= rule.param("tall_t_mv")
    }
    hit = contiguous_subset(leads)
    avr = f.per_lead("st_j_mv").get("aVR")
    if not hit or avr is None or avr < rule.param("avr_elevation_mv"):
        return []
    return [
        _finding(
            rule,
            profile,
            leads=sorted(hit | {"aVR"}, key=_lead_order),
            value=round(min(j[x] for x in hit), 3),
            evidence={"t_mv": {k: round(t[k], 3) for k in hit}, "avr_st_mv": round(avr, 3)},
            message=(
                f"de Winter pattern (anterior STEMI equivalent): up-sloping J depression "
                f"{_fmt(j, hit)} mV into tall T, aVR ST {avr:+.2f} mV"
            ),
        )
    ]


def sgarbossa(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Smith-modified Sgarbossa in LBBB (paced rhythm when the pacing stage flags it)."""
    f = _features(ctx)
    if f is None:
        return []
    bbb = _bbb(f, rule, rule.param("bbb_qrs_min_ms"))
    paced = bool(ctx.features.get("paced", False))
    if not paced and (bbb is None or bbb.pattern != "LBBB"):
        return []
    _, st = _st(f, rule)
    met = sgarbossa_leads(
        st,
        _diag_leads(f, "r_mv"),
        _diag_leads(f, "s_mv"),
        _diag_leads(f, "qrs_net_mv"),
        concordant_ste_mv=rule.param("concordant_ste_mv"),
        concordant_std_mv=rule.param("concordant_std_mv"),
        discordant_ratio=rule.param("discordant_ratio"),
        discordant_min_mv=rule.param("discordant_min_mv"),
    )
    if not met:
        return []
    return [
        _finding(
            rule,
            profile,
            leads=sorted(met, key=_lead_order),
            value=round(max(abs(st[x]) for x in met), 3),
            evidence={"criteria": met, "context": "paced" if paced else "LBBB"},
            message=(
                "Smith-modified Sgarbossa positive in "
                + ", ".join(f"{k} ({v}, ST {st[k]:+.2f} mV)" for k, v in met.items())
                + ": suspected acute MI"
            ),
        )
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


def qrs_wide(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """QRS wider than the threshold without a complete BBB pattern."""
    f = _features(ctx)
    if f is None or f.measures.qrs_ms <= (rule.threshold or 0.0):
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
    """Prolonged QTc (sex-specific; most sensitive when sex unknown)."""
    f = _features(ctx)
    got = None if f is None else _qtc(ctx, f, rule)
    if f is None or got is None:
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
    12-lead measurement (withheld when it cannot be trusted) or ``ctx.measurements``.
    """
    f = _features(ctx)
    got = None if f is None else _qtc(ctx, f, rule)
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


def av_block_1(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """First-degree AV block: PR above the threshold with P before every QRS."""
    f = _features(ctx)
    pr = None if f is None else _pr(ctx, f, rule)
    if pr is None or pr <= (rule.threshold or 0.0):
        return []
    return [
        _finding(
            rule,
            profile,
            value=round(pr, 1),
            threshold=rule.threshold,
            message=f"first-degree AV block: PR {pr:.0f} ms > {rule.threshold:g} ms",
        )
    ]


def short_pr(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Short PR (< 120 ms): pre-excitation or junctional rhythm to be excluded."""
    f = _features(ctx)
    pr = None if f is None else _pr(ctx, f, rule)
    if pr is None or pr >= (rule.threshold or 0.0):
        return []
    return [
        _finding(
            rule,
            profile,
            value=round(pr, 1),
            threshold=rule.threshold,
            message=f"short PR {pr:.0f} ms < {rule.threshold:g} ms",
        )
    ]


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


EVALUATORS: dict[str, Evaluator] = {
    "ACUTE_MI": acute_mi,
    "ACUTE_ISCHEMIA": st_depression,
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
