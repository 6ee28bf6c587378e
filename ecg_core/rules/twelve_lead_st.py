"""12-lead ischaemia evaluators: STEMI, Q-wave MI, ST depression, STEMI equivalents.

Each reads :class:`ecg_core.twelve_lead.TwelveLeadFeatures` from
``ctx.features["twelve_lead"]`` and every threshold from the rule (profile data).
Assembled into the evaluator table by :mod:`ecg_core.rules.twelve_lead`.
"""

from __future__ import annotations

from ecg_core.ischemia import (
    RECIPROCAL,
    contiguous_subset,
    q_wave_leads,
    q_wave_territory_leads,
    sgarbossa_leads,
    territories,
)
from ecg_core.rules.context import RuleContext
from ecg_core.rules.twelve_lead_base import (
    _ST_POINT,
    _bbb,
    _diag_leads,
    _features,
    _finding,
    _fmt,
    _lead_order,
    _st,
)
from ecg_core.twelve_lead import TwelveLeadFeatures
from models.profile import Rule
from models.result import Finding

__all__ = [
    "acute_mi",
    "de_winter",
    "diffuse_st_depression",
    "posterior_mi",
    "sgarbossa",
    "st_depression",
]


def _v2v3_threshold(ctx: RuleContext, rule: Rule) -> tuple[float, str]:
    """V2-V3 ST-elevation threshold by sex and age, and what it was based on.

    4th UDMI (Thygesen et al. JACC 2018;72:2231): women 0.15 mV; men >= 40 y 0.2 mV,
    men < 40 y 0.25 mV. When a piece is unknown, the most sensitive threshold the known
    pieces allow: a man of unknown age gets the lower of the two men's thresholds (the
    women's threshold is below every threshold the guideline sets for men); unknown sex,
    the lowest of all.
    """
    age, sex = ctx.patient_age_years, ctx.patient_sex
    split = rule.param("age_split_years", 40.0)
    if sex == "F":
        return rule.param("v2_v3_women_mv"), "women"
    if sex == "M" and age is not None:
        if age >= split:
            return rule.param("v2_v3_men_ge40_mv"), f"men >= {split:g} y"
        return rule.param("v2_v3_men_lt40_mv"), f"men < {split:g} y"
    if sex == "M":
        men = min(rule.param("v2_v3_men_ge40_mv"), rule.param("v2_v3_men_lt40_mv"))
        return men, "most sensitive threshold for men: patient age unknown"
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

#: Where an ST elevation found at the rule's ``st_point`` in an inferior or lateral
#: lead (``_ER_LEADS``) must still meet the same threshold, unless the ``stemi`` rule
#: sets ``sustained_st_point`` ("" = not checked). ST deviation is read at J and
#: J+60 ms (AHA/ACCF/HRS 2009 part VI, Wagner et al. Circulation 2009;119:e262); in
#: these leads a J-point elevation that has gone by J+60 ms is a J wave / end-QRS
#: slur followed by a descending ST segment, the early-repolarisation pattern
#: (Macfarlane et al. JACC 2015;66:470), or a J point read on the terminal QRS, not
#: an elevated ST segment.
_SUSTAINED_POINT_DEFAULT = "J60"

#: Inferior and lateral leads, where the early-repolarisation pattern is defined
#: (Macfarlane et al. JACC 2015;66:470; V1-V3 excluded there). V1-V3 keep the J-point
#: reading alone: the 4th UDMI's higher age/sex thresholds already allow for the normal
#: J elevation of these leads, and an anterior STEMI must not be lost to it.
_ER_LEADS = frozenset({"I", "II", "III", "aVL", "aVF", "V4", "V5", "V6"})

#: Rise of the ST segment from J to J+60 ms from which ST depression counts as
#: up-sloping (not ischaemic), used by ``posterior-mi`` when its rule has no
#: ``upsloping_rise_mv``: the ``st-depression`` rule's cut-off in the national profile
#: (4th UDMI: only horizontal or down-sloping ST depression is ischaemic), mV.
_UPSLOPING_RISE_DEFAULT_MV = 0.05


def _sustained_point(rule: Rule) -> str | None:
    """The ``sustained_st_point`` of an ``st_elevation`` rule (None = not checked)."""
    point = str(rule.params.get("sustained_st_point", _SUSTAINED_POINT_DEFAULT))
    if point.lower() in ("", "none"):
        return None
    if point not in _ST_POINT:
        from models.errors import RuleProfileError

        raise RuleProfileError(
            f"rule {rule.id!r}: sustained_st_point must be one of {sorted(_ST_POINT)} or ''"
        )
    return point


def _criterion(rule: Rule, default: str, other: str) -> str:
    """``params.criterion`` of ``rule``: ``default`` or ``other``, else a profile error."""
    criterion = str(rule.params.get("criterion", default))
    if criterion not in (default, other):
        from models.errors import RuleProfileError

        raise RuleProfileError(
            f"rule {rule.id!r}: criterion must be {default!r} or {other!r}, got {criterion!r}"
        )
    return criterion


def acute_mi(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Suspected acute MI; ``params.criterion`` names the pattern the rule reads.

    ``"st_elevation"`` (default): 4th UDMI new ST elevation at J in >= 2 contiguous
    leads (Thygesen et al. JACC 2018;72:2231); in the inferior and lateral leads the
    elevation must still meet the lead's threshold at ``sustained_st_point`` (default
    J+60 ms, see ``_SUSTAINED_POINT_DEFAULT``): the ST segment, not only the J point,
    is elevated.
    ``"q_wave_t_inversion"``: evolving Q-wave MI (see :func:`_q_wave_mi`).
    """
    if _criterion(rule, "st_elevation", "q_wave_t_inversion") == "q_wave_t_inversion":
        return _q_wave_mi(ctx, rule, profile)
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
    later_point = _sustained_point(rule)
    later: dict[str, float] = {}
    if later_point is not None and later_point != point:
        later = _diag_leads(f, _ST_POINT[later_point])
        elevated = {lead for lead in elevated if lead not in _ER_LEADS or later[lead] >= thr[lead]}
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
    where = f"{point}, inferior/lateral leads also at {later_point}" if later else point
    evidence: dict[str, object] = {
        "st_point": point,
        "st_mv": {k: round(st[k], 3) for k in sorted(hit, key=_lead_order)},
        "territory": terr,
        "reciprocal_depression": sorted(recip, key=_lead_order),
        "v2_v3_threshold_basis": v23_note,
    }
    if later:
        evidence["sustained_st_point"] = later_point
        evidence["st_sustained_mv"] = {k: round(later[k], 3) for k in sorted(hit, key=_lead_order)}
    return [
        _finding(
            rule,
            profile,
            leads=sorted(hit, key=_lead_order),
            value=round(st[worst], 3),
            threshold=f"{limb:g} mV at {where} (V2-V3 {v23:g} mV, {v23_note})",
            evidence=evidence,
            message=(
                f"suspected acute STEMI, {'/'.join(terr)}: ST elevation at {point} "
                f"{_fmt(st, hit)} mV"
                + (f" (at {later_point} {_fmt(later, hit)} mV)" if later else "")
                + f"; V2-V3 threshold {v23:g} mV ({v23_note})"
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
    """Acute ischaemia; ``params.criterion`` names the pattern the rule reads.

    ``"st_depression"`` (default): horizontal / down-sloping ST depression in >= 2
    contiguous leads (4th UDMI). ``"t_inversion"``: ischaemic T inversion (see
    :func:`_t_inversion`).
    """
    if _criterion(rule, "st_depression", "t_inversion") == "t_inversion":
        return _t_inversion(ctx, rule, profile)
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


def _t_inversion(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Ischaemic T inversion: T < -``t_inversion_mv`` in >= 2 contiguous leads with R/S > 1.

    The 4th UDMI ECG manifestation of acute myocardial ischaemia without ST elevation:
    "new T inversion > 1 mm in two contiguous leads with prominent R wave or R/S ratio
    > 1" (Thygesen et al. JACC 2018;72:2231); only R/S > 1 is used here. aVR, III and
    V1, where an inverted T is a normal finding (AHA/ACCF/HRS 2009 part VI), are not
    counted; not applied where the ST-T is secondary to abnormal depolarisation
    (QRS >= ``secondary_qrs_min_ms``; in RBBB, V1-V3 with inverted T). Whether the
    inversion is new needs a previous ECG: the finding says so.
    """
    f = _features(ctx)
    secondary = None if f is None else _secondary_repol(f, rule)
    if f is None or secondary is None:
        return []
    t, r, s = _diag_leads(f, "t_mv"), _diag_leads(f, "r_mv"), _diag_leads(f, "s_mv")
    thr = rule.param("t_inversion_mv")
    inverted = {
        lead
        for lead, v in t.items()
        if lead not in _T_NORMALLY_INVERTED
        and lead not in secondary
        and v < -thr
        and r[lead] > s[lead]
    }
    hit = contiguous_subset(inverted)
    if not hit:
        return []
    worst = min(hit, key=lambda x: t[x])
    return [
        _finding(
            rule,
            profile,
            leads=sorted(hit, key=_lead_order),
            value=round(t[worst], 3),
            threshold=-thr,
            evidence={
                "criterion": "T inversion with R/S > 1",
                "territory": territories(hit),
                "t_mv": {k: round(t[k], 3) for k in sorted(hit, key=_lead_order)},
            },
            message=(
                f"ischaemic T inversion {_fmt(t, hit)} mV (R/S > 1) in "
                f"{'/'.join(territories(hit))} leads: suspected acute ischaemia if new; "
                "compare with a previous ECG"
            ),
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
    """Posterior STEMI equivalent: ST depression V1-V3 with upright terminal T.

    The depression must be horizontal or down-sloping, as for any ischaemic ST
    depression in the 4th UDMI (Thygesen et al. JACC 2018;72:2231): the posterior
    injury current seen from the front is the mirror image of an elevated ST segment.
    J-point depression with an ST segment rising by ``upsloping_rise_mv`` or more by
    J+60 ms is the up-sloping pattern of normal, often fast, hearts.
    """
    f = _features(ctx)
    if f is None or _secondary_repol(f, rule) is None:
        return []  # LBBB / paced / IVCD: ST-T secondary everywhere (upright T required below)
    point, st = _st(f, rule)
    t = f.per_lead("t_mv")
    j60, j = _diag_leads(f, "st_j60_mv"), _diag_leads(f, "st_j_mv")
    up = rule.param("upsloping_rise_mv", _UPSLOPING_RISE_DEFAULT_MV)
    dep = {
        lead
        for lead in ("V1", "V2", "V3")
        if lead in st
        and st[lead] <= -(rule.threshold or 0.0)
        and t[lead] > 0
        and (j60[lead] - j[lead]) < up
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
            evidence={
                "st_point": point,
                "t_mv": {k: round(t[k], 3) for k in sorted(hit, key=_lead_order)},
            },
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
            evidence={
                "t_mv": {k: round(t[k], 3) for k in sorted(hit, key=_lead_order)},
                "avr_st_mv": round(avr, 3),
            },
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
