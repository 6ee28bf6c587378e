"""``POLYMORPHIC_VT``: torsades de pointes, polymorphic or bidirectional VT.

Reads ``ctx.features["polymorphic_vt"]`` (:class:`ecg_core.rhythm.polymorphic.PolymorphicRuns`,
QRS morphology of the clean ventricular runs) and ``ctx.features["rhythm"]``; every
number comes from the rule (ACC/AHA/ESC 2006 definitions in the module
:mod:`ecg_core.rhythm.polymorphic`). Without the morphology features (the stage did not
run) the rule is silent. A run is called:

- *bidirectional* when, in one lead, the dominant QRS polarity alternates on at least
  ``min_sign_alternation`` of consecutive beat pairs, beats two apart correlate
  >= ``min_alternate_corr``, consecutive beats in that lead correlate
  <= ``max_alternating_lead_corr`` and the rhythm is regular (RR coefficient of
  variation <= ``max_rr_cv``; bidirectional VT is regular, while double-counted T waves
  or ventricular bigeminy alternate short and long RRs), at >= ``threshold`` /min;
- *polymorphic* when, in every lead, the QRS complexes of the run correlate
  <= ``max_pairwise_corr`` (median over all pairs of beats), or when in at least two
  leads >= ``min_inverted_fraction`` of the pairs are inverted copies (the complexes
  turn upside down in groups, the twist of torsades), the rate is
  >= ``polymorphic_min_rate_bpm`` and at least ``polymorphic_min_leads`` leads were
  measured (on one lead a burst of movement artefact cut into "beats" cannot be told
  from a changing QRS: the one false call on the CinC 2017 normals was such a burst);
- *torsades de pointes* when polymorphic, the QRS peaks reverse polarity in groups at
  least ``min_twists`` times and the QTc of the underlying rhythm is >=
  ``torsades_qtc_ms`` (resting: the record's QTc; Holter: the longest QTc measured
  just before a ventricular run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecg_core.holter_qt import HolterQt
from ecg_core.rhythm.polymorphic import PolymorphicRuns
from ecg_core.rules.arrhythmia_base import feats, finding, thr
from ecg_core.rules.context import RuleContext
from models.profile import Rule
from models.result import Finding

if TYPE_CHECKING:
    from ecg_core.rules.engine import Evaluator

__all__ = ["EVALUATORS", "classify_runs", "underlying_qtc_ms"]


def underlying_qtc_ms(ctx: RuleContext) -> float | None:
    """QTc of the rhythm the runs arise from, ms (None when not measured).

    Holter: the longest QTc of the clean windows just before a ventricular run
    (:attr:`ecg_core.holter_qt.HolterQt.pre_run_qtc_ms`), else the record's median QTc;
    resting: the record's QTc.
    """
    hq = ctx.features.get("holter_qt")
    if isinstance(hq, HolterQt):
        pre = hq.pre_run_qtc_ms
        if pre is not None:
            return pre
    m = ctx.measurements
    return None if m is None else m.qtc_ms


def classify_runs(p: PolymorphicRuns, rule: Rule, qtc_ms: float | None) -> list[str]:
    """Subtype of each measured run: ``torsades``, ``polymorphic``, ``bidirectional`` or ``""``.

    Parameters
    ----------
    p : PolymorphicRuns
        Morphology of the measured runs.
    rule : Rule
        The ``POLYMORPHIC_VT`` rule (threshold = VT rate, /min; params in the module
        docstring).
    qtc_ms : float or None
        QTc of the underlying rhythm, ms.

    Returns
    -------
    list of str
        One label per run (empty string: not polymorphic).
    """
    r = p.runs
    long_fast = (r.n_beats >= rule.param("min_beats", 5)) & (r.rate_bpm >= thr(rule))
    bidir = (
        long_fast
        & (p.sign_alternation >= rule.param("min_sign_alternation"))
        & (p.alternate_corr >= rule.param("min_alternate_corr"))
        & (p.alternating_lead_corr <= rule.param("max_alternating_lead_corr"))
        & (p.rr_cv <= rule.param("max_rr_cv"))
    )
    poly = (
        long_fast
        & (r.rate_bpm >= rule.param("polymorphic_min_rate_bpm", thr(rule)))
        & (
            (p.pairwise_corr <= rule.param("max_pairwise_corr"))
            | (p.inverted_fraction >= rule.param("min_inverted_fraction"))
        )
        & (p.n_leads >= rule.param("polymorphic_min_leads", 2))
    )
    long_qt = qtc_ms is not None and qtc_ms >= rule.param("torsades_qtc_ms")
    tdp = poly & (p.sign_changes >= rule.param("min_twists", 1)) & bool(long_qt)
    return [
        "torsades" if t else "bidirectional" if b else "polymorphic" if q else ""
        for t, b, q in zip(tdp, bidir, poly, strict=True)
    ]


_WHAT = {
    "torsades": "torsades de pointes (polymorphic VT with long QT)",
    "polymorphic": "polymorphic VT (QRS changing beat to beat)",
    "bidirectional": "bidirectional VT (QRS polarity alternating beat to beat)",
}


def _polymorphic_vt(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """One finding per polymorphic / bidirectional / torsades run (capped at ``max_findings``)."""
    f = feats(ctx)
    p = ctx.features.get("polymorphic_vt")
    if f is None or not isinstance(p, PolymorphicRuns) or p.runs.n_beats.size == 0:
        return []
    qtc = underlying_qtc_ms(ctx)
    kinds = classify_runs(p, rule, qtc)
    hits = [i for i, k in enumerate(kinds) if k]
    cap = int(rule.param("max_findings", 20))
    out: list[Finding] = []
    r = p.runs
    for n, i in enumerate(hits[:cap]):
        ev: dict[str, Any] = {
            "subtype": kinds[i],
            "beat_range": [int(r.first[i]), int(r.last[i])],
            "n_beats": int(r.n_beats[i]),
            "consecutive_qrs_corr": round(float(p.consecutive_corr[i]), 3),
            "pairwise_qrs_corr": round(float(p.pairwise_corr[i]), 3),
            "inverted_pair_fraction": round(float(p.inverted_fraction[i]), 3),
            "alternate_qrs_corr": round(float(p.alternate_corr[i]), 3),
            "polarity_alternation": round(float(p.sign_alternation[i]), 3),
            "polarity_reversals": int(p.sign_changes[i]),
            "amplitude_modulation": round(float(p.amplitude_modulation[i]), 3),
            "rr_cv": round(float(p.rr_cv[i]), 3),
            "amplitude_ratio_to_conducted": round(float(p.amplitude_ratio[i]), 2),
            "underlying_qtc_ms": None if qtc is None else round(float(qtc), 1),
        }
        if n == 0 and len(hits) > cap:
            ev["further_events"] = len(hits) - cap
        rate = float(r.rate_bpm[i])
        out.append(
            finding(
                rule,
                profile,
                f,
                onset_s=float(r.onset_s[i]),
                offset_s=float(r.offset_s[i]),
                value=rate,
                message=(
                    f"{_WHAT[kinds[i]]}: {int(r.n_beats[i])} beats at {rate:.0f} bpm "
                    f"from {float(r.onset_s[i]):.1f} s"
                ),
                evidence=ev,
            )
        )
    return out


EVALUATORS: dict[str, Evaluator] = {"POLYMORPHIC_VT": _polymorphic_vt}
"""Evaluators by item code (merged by :mod:`ecg_core.rules.engine`)."""
