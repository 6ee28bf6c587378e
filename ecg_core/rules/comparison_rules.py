"""Comparison rules: the resting 12-lead ECG against the same patient's previous ECG.

Runs after the single-record analysis, on its result, in the rules layer:
:func:`compare_with_prior` builds a :class:`~ecg_core.rules.context.RuleContext` whose
``prior`` is the previous ECG (:class:`~ecg_core.comparison.StoredEcg`, plain data the
service looked up) and whose ``features[CURRENT]`` is the current ECG in the same stored
form, evaluates the profile's comparison rules (``REINFARCTION``) and annotates every
``ACUTE_MI`` finding with what the previous ECG showed. Critical values are never
removed: an ``ACUTE_MI`` already on the previous ECG stays critical, its evidence says
it is not first-found.

Sources: Fourth Universal Definition of MI (Thygesen et al. JACC 2018;72:2231),
sections "Reinfarction" and "Recurrent myocardial infarction" (reinfarction: an acute MI
within 28 days of an incident or recurrent MI; recurrent MI: after 28 days; "ST
elevation >= 1 mm that recurs ... in at least two contiguous leads" suggests
reinfarction); Chinese 2017 expert consensus on ECG critical values, items "first-found
suspected acute MI" and "re-infarction" (../shared/CRITICAL_VALUES.md, section A).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecg_core.comparison import Comparison, QCriteria, StoredEcg, compare, stored_ecg
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import Evaluator
from models.profile import Rule, RuleProfile
from models.result import AnalysisResult, Finding

__all__ = ["CURRENT", "EVALUATORS", "NO_PRIOR", "compare_with_prior", "reinfarction"]

#: ``RuleContext.features`` key of the current ECG in stored form (set by
#: :func:`compare_with_prior`; absent in the single-record pass, where the comparison
#: rules therefore find nothing).
CURRENT = "comparison_current"
#: What the evidence says when there is no previous ECG.
NO_PRIOR = "no prior ECG to compare"
#: Profile setting: days within which an ``ACUTE_MI`` on the previous ECG makes the
#: current one "not first-found" (unset: any previous ECG).
WINDOW_SETTING = "prior_ecg_same_event_days"

_ORDER = {"critical": 0, "abnormal": 1, "info": 2}


def _q_criteria(rule: Rule) -> QCriteria:
    return QCriteria(
        v2_v3_q_ms=rule.param("v2_v3_q_ms"),
        q_min_ms=rule.param("q_min_ms"),
        q_min_mv=rule.param("q_min_mv"),
        qs_r_max_mv=rule.param("qs_r_max_mv"),
        qrs_max_ms=rule.param("qrs_max_ms"),
    )


def _comparison(ctx: RuleContext, rule: Rule) -> Comparison | None:
    current = ctx.features.get(CURRENT)
    if ctx.prior is None or not isinstance(current, StoredEcg):
        return None
    return compare(
        current, ctx.prior, q=_q_criteria(rule), new_st_rise_mv=rule.param("new_st_rise_mv")
    )


def _ecg_name(record_id: str, recorded_at: str | None) -> str:
    date = recorded_at[:10] if recorded_at else "unknown date"
    return f"the ECG of {date}, record {record_id}"


def _fmt(values: Mapping[str, float], leads: tuple[str, ...]) -> str:
    return ", ".join(f"{x} {values[x]:+.2f}" for x in leads)


def reinfarction(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Re-infarction: new ST elevation over an old-infarct Q pattern of the previous ECG.

    Fires when the current ECG has an ST-elevation ``ACUTE_MI`` finding (the 4th UDMI
    STEMI criteria, applied by the ``stemi`` rule) and, in >= 2 contiguous leads of a
    territory whose previous ECG met the 4th UDMI Q-wave criteria of prior MI (rule
    params ``v2_v3_q_ms``, ``q_min_ms``, ``q_min_mv``, ``qs_r_max_mv``; not with QRS >=
    ``qrs_max_ms``), the ST level has risen by >= ``new_st_rise_mv`` against that ECG
    (4th UDMI: ST elevation >= 1 mm that recurs in >= 2 contiguous leads; an elevation
    that was already there, e.g. a left-ventricular aneurysm, is not new). The interval
    names the 4th UDMI category: reinfarction within ``reinfarction_max_days`` (28) of
    the earlier ECG, recurrent MI after that. Thygesen et al. JACC 2018;72:2231.

    Needs ``ctx.prior`` and ``ctx.features[CURRENT]`` (see :func:`compare_with_prior`).
    """
    c = _comparison(ctx, rule)
    if c is None or not c.re_elevation:
        return []
    leads = tuple(dict.fromkeys(x for r in c.re_elevation for x in r.leads))
    rise = {x: c.st_rise_mv[x] for x in leads}
    max_days = rule.param("reinfarction_max_days")
    days = c.days_since_prior
    kind = (
        "interval unknown"
        if days is None
        else f"reinfarction (<= {max_days:g} days after the earlier ECG)"
        if days <= max_days
        else f"recurrent MI (> {max_days:g} days after the earlier ECG)"
    )
    prior = _ecg_name(c.prior_record_id, c.prior_recorded_at)
    parts = [
        f"{r.territory}: ST {_fmt(r.st_mv, r.leads)} mV, was {_fmt(r.prior_st_mv, r.leads)} mV, "
        f"over Q waves in {', '.join(r.q_leads)}"
        for r in c.re_elevation
    ]
    return [
        Finding(
            code=rule.code,
            severity=rule.severity,
            rule=rule.id,
            profile=profile,
            leads=list(leads),
            value=round(max(rise.values()), 3),
            threshold=f"ST rise >= {rule.param('new_st_rise_mv'):g} mV vs the previous ECG",
            evidence={
                "prior_record_id": c.prior_record_id,
                "prior_recorded_at": c.prior_recorded_at,
                "days_since_prior": None if days is None else round(days, 2),
                "interval": kind,
                "st_point": c.st_point,
                "st_rise_mv": {x: round(v, 3) for x, v in rise.items()},
                "territories": [
                    {
                        "territory": r.territory,
                        "prior_q_leads": list(r.q_leads),
                        "st_mv": {x: round(v, 3) for x, v in r.st_mv.items()},
                        "prior_st_mv": {x: round(v, 3) for x, v in r.prior_st_mv.items()},
                    }
                    for r in c.re_elevation
                ],
                "q_source": c.q_source,
            },
            message=(
                f"suspected re-infarction: new ST re-elevation over the old infarct of {prior} "
                f"({'; '.join(parts)}); {kind}"
            ),
        )
    ]


EVALUATORS: dict[str, Evaluator] = {"REINFARCTION": reinfarction}


def _acute_mi_note(
    finding: Finding, c: Comparison | None, prior: StoredEcg | None, window_days: float | None
) -> Finding:
    """``finding`` (ACUTE_MI) with ``evidence.prior_ecg`` and a sentence on the prior ECG."""
    if prior is None:
        note: dict[str, Any] = {"note": NO_PRIOR}
        text = NO_PRIOR
    else:
        name = _ecg_name(prior.record_id, prior.recorded_at)
        days = None if c is None else c.days_since_prior
        same = () if c is None else c.prior_acute_mi_territories
        within = None if days is None or window_days is None else days <= window_days
        note = {
            "record_id": prior.record_id,
            "recorded_at": prior.recorded_at,
            "days_before": None if days is None else round(days, 2),
            "acute_mi_same_territory": list(same),
            "window_days": window_days,
            "within_window": within,
        }
        if c is None:
            text = f"previous ECG: {name}, not compared (no comparison rule in the profile)"
        elif same and within is not False:
            when = "" if within else "; interval unknown"
            text = f"also on {name} ({'/'.join(same)}{when}): not first-found"
        elif same:
            text = (
                f"ACUTE_MI in the same territory on {name}, {days:.0f} days earlier "
                f"(beyond the {window_days:g}-day window): first-found"
            )
        else:
            text = f"not on the previous ECG ({name}): first-found"
        if c is not None and c.persistent_st_leads:
            persistent = ", ".join(c.persistent_st_leads)
            note["st_elevation_already_present"] = list(c.persistent_st_leads)
            text += f"; ST elevation in {persistent} was already there (not new)"
        note["note"] = text
    evidence = {**finding.evidence, "prior_ecg": note}
    return finding.model_copy(
        update={"evidence": evidence, "message": f"{finding.message}; {text}"}
    )


def compare_with_prior(
    result: AnalysisResult,
    prior: StoredEcg | None,
    profile: RuleProfile,
    *,
    recorded_at: str | None = None,
) -> AnalysisResult:
    """The result with the comparison against the previous ECG applied.

    Adds the findings of the profile's comparison rules (:data:`EVALUATORS`), the
    ``prior_ecg`` evidence and sentence on every ``ACUTE_MI`` finding (the previous ECG
    already had acute MI in the same territory within the profile setting
    ``prior_ecg_same_event_days``: "not first-found"; else "first-found"; no previous
    ECG: "no prior ECG to compare") and the ``comparison`` block. Holter and
    unanalysable results, and results without 12-lead measures, come back unchanged.

    Parameters
    ----------
    result : AnalysisResult
        The single-record analysis of the current ECG.
    prior : StoredEcg or None
        The same patient's previous analysed ECG (None: there is none).
    profile : RuleProfile
        The profile the result was analysed with.
    recorded_at : str, optional
        ISO 8601 time of the current recording (the interval to the previous ECG).

    Returns
    -------
    AnalysisResult
    """
    if result.recording_type != "resting" or result.unanalysable:
        return result
    current = stored_ecg(
        {
            "record_id": result.record_id,
            "recording_type": result.recording_type,
            "measurements": result.measurements.model_dump(mode="json"),
            "findings": [f.model_dump(mode="json") for f in result.findings],
        },
        recorded_at=recorded_at,
    )
    if current is None:
        return result
    ctx = RuleContext(
        fs_hz=result.fs_hz,
        duration_s=result.duration_s,
        recording="resting",
        leads=tuple(result.leads),
        measurements=result.measurements,
        features={CURRENT: current},
        prior=prior,
    )
    rules = [r for r in profile.rules_for("resting") if r.code in EVALUATORS]
    added = [f for r in rules for f in EVALUATORS[r.code](ctx, r, profile.name)]
    c = _comparison(ctx, rules[0]) if rules else None
    raw_window = profile.settings.get(WINDOW_SETTING)
    window = float(raw_window) if isinstance(raw_window, int | float) else None
    findings = [
        _acute_mi_note(f, c, prior, window) if f.code == "ACUTE_MI" else f for f in result.findings
    ]
    if added:  # new findings go after the existing ones of the same severity
        added.sort(key=lambda f: (_ORDER[f.severity], f.onset_s or 0.0, f.code))
        for f in added:
            at = sum(1 for g in findings if _ORDER[g.severity] <= _ORDER[f.severity])
            findings.insert(at, f)
    if prior is None:
        block: dict[str, Any] = {"prior_record_id": None, "note": NO_PRIOR}
    elif c is None:
        block = {
            "prior_record_id": prior.record_id,
            "prior_recorded_at": prior.recorded_at,
            "note": "no comparison rule enabled in the profile",
        }
    else:
        block = c.summary()
    return result.model_copy(
        update={
            "findings": findings,
            "critical": any(f.severity == "critical" for f in findings),
            "comparison": block,
        }
    )
