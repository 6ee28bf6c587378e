"""Abnormal / informational arrhythmia evaluators (aggregated findings with counts).

Same contract as :mod:`ecg_core.rules.arrhythmia`: every number comes from the rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ecg_core.rules.arrhythmia_base import (
    aggregate,
    feats,
    finding,
    thr,
)
from ecg_core.rules.context import RuleContext
from models.profile import Rule
from models.result import Finding

if TYPE_CHECKING:
    from ecg_core.rules.engine import Evaluator

__all__ = ["ABNORMAL_EVALUATORS"]


# ---- abnormal / informational items ----


def _episodes_of(
    ctx: RuleContext, kinds: tuple[str, ...], min_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    eps = [e for e in ctx.episodes if e.type in kinds and e.offset_s - e.onset_s >= min_s]
    on = np.array([e.onset_s for e in eps], dtype=np.float64)
    off = np.array([e.offset_s for e in eps], dtype=np.float64)
    hr = np.array([float(e.evidence.get("mean_hr_bpm", np.nan)) for e in eps], dtype=np.float64)
    return on, off, hr


def _sinus_brady(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """SBR episodes >= ``min_duration_s`` (the episode threshold is this rule's threshold)."""
    f = feats(ctx)
    if f is None:
        return []
    on, off, hr = _episodes_of(ctx, ("SBR",), rule.min_duration_s)
    lowest = float(np.nanmin(hr)) if np.isfinite(hr).any() else 0.0  # rates may be unknown
    return aggregate(rule, profile, f, on, off, lowest, "sinus bradycardia")


def _sinus_tachy(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Sinus (N) episodes >= ``min_duration_s`` with mean rate > threshold."""
    f = feats(ctx)
    if f is None:
        return []
    on, off, hr = _episodes_of(ctx, ("N",), rule.min_duration_s)
    ok = hr > thr(rule)
    return aggregate(
        rule,
        profile,
        f,
        on[ok],
        off[ok],
        float(np.nanmax(hr[ok])) if ok.any() else 0.0,
        "sinus tachycardia",
    )


def _af(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """AF episodes >= ``min_duration_s``; value = AF burden (% of the record).

    An episode covering >= ``whole_record_fraction`` of a record shorter than
    ``min_duration_s`` also counts: AF over a whole standard 12-lead ECG is diagnostic
    (ESC 2020 AF guideline, Hindricks et al., Eur Heart J 2021;42:373: "the entire
    12-lead ECG or >= 30 s of a single-lead strip").
    """
    f = feats(ctx)
    if f is None:
        return []
    a = f.af
    dur = a.offset_s - a.onset_s
    whole = dur >= rule.param("whole_record_fraction", 1.0) * f.duration_s
    ok = (dur >= rule.min_duration_s) | whole
    burden = 100.0 * float(np.sum((a.offset_s - a.onset_s)[ok])) / max(f.duration_s, 1e-9)
    return aggregate(
        rule,
        profile,
        f,
        a.onset_s[ok],
        a.offset_s[ok],
        burden,
        "atrial fibrillation",
        {
            "burden_pct": round(burden, 2),
            "mean_rate_bpm": [round(float(x), 1) for x in a.mean_rate_bpm[ok][:20]],
        },
    )


def _svt(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Supraventricular runs (>= 3 S beats at >= threshold /min)."""
    f = feats(ctx)
    if f is None:
        return []
    s = f.s_runs
    ok = s.rate_bpm >= thr(rule)
    return aggregate(
        rule,
        profile,
        f,
        s.onset_s[ok],
        s.offset_s[ok],
        float(np.nanmax(s.rate_bpm[ok])) if ok.any() else 0.0,
        "supraventricular runs",
    )


def _pause(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Pauses >= threshold s (aggregated)."""
    f = feats(ctx)
    if f is None:
        return []
    p = f.pauses
    ok = p.rr_s >= thr(rule)
    return aggregate(
        rule,
        profile,
        f,
        p.onset_s[ok],
        p.offset_s[ok],
        float(p.rr_s[ok].max()) if ok.any() else 0.0,
        "pauses",
    )


def _ectopy_rate(kinds: tuple[str, ...], what: str) -> Evaluator:
    def evaluate(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
        """Ectopic beats per 24 h >= threshold, or burden >= ``high_burden_pct``."""
        f = feats(ctx)
        if f is None or f.t_beat_s.size == 0:
            return []
        n = int(np.isin(f.label, kinds).sum())
        per_24h = n * 86400.0 / max(f.duration_s, 1e-9)
        burden = 100.0 * n / f.t_beat_s.size
        if per_24h < thr(rule) and burden < rule.param("high_burden_pct", 100.0):
            return []
        return [
            finding(
                rule,
                profile,
                f,
                onset_s=None,
                offset_s=None,
                value=per_24h,
                message=f"{what}: {n} beats ({per_24h:.0f}/24 h, burden {burden:.1f} %)",
                evidence={"count": n, "burden_pct": round(burden, 3)},
            )
        ]

    return evaluate


def _pattern(attr: str, what: str) -> Evaluator:
    def evaluate(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
        """Bigeminy / trigeminy runs >= ``min_duration_s``."""
        f = feats(ctx)
        if f is None:
            return []
        r = getattr(f, attr)
        ok = (r.offset_s - r.onset_s) >= rule.min_duration_s
        return aggregate(rule, profile, f, r.onset_s[ok], r.offset_s[ok], float(ok.sum()), what)

    return evaluate


def _av_block_2(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Second-degree block candidates (dropped conduction with P waves present)."""
    f = feats(ctx)
    if f is None or f.bii_idx.size < max(1, int(rule.param("min_count", 1))):
        return []
    on = f.t_beat_s[f.bii_idx]
    off = f.t_beat_s[f.bii_idx + 1]
    return aggregate(
        rule,
        profile,
        f,
        on,
        off,
        float(on.size),
        "second-degree AV block candidates",
        {"method": "RR pattern + P-wave coherence; P in the pause not verified"},
    )


def _multifocal(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """>= threshold PVC morphology families with >= ``min_family_beats`` beats each."""
    f = feats(ctx)
    if f is None or f.pvc_family.size == 0:
        return []
    _, counts = np.unique(f.pvc_family[f.pvc_family >= 0], return_counts=True)
    n = int((counts >= rule.param("min_family_beats")).sum())
    if n < thr(rule):
        return []
    return [
        finding(
            rule,
            profile,
            f,
            onset_s=None,
            offset_s=None,
            value=float(n),
            message=f"{n} PVC morphologies",
            evidence={"family_sizes": counts.tolist()},
        )
    ]


def _hrv_low(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """SDNN < threshold ms over >= ``min_duration_s`` of recording."""
    from ecg_core.holter import hrv_time_domain

    f = feats(ctx)
    if f is None or f.duration_s < rule.min_duration_s:
        return []
    hrv = hrv_time_domain(f.t_beat_s, f.label)
    if not np.isfinite(hrv["sdnn_ms"]) or hrv["sdnn_ms"] >= thr(rule):
        return []
    return [
        finding(
            rule,
            profile,
            f,
            onset_s=None,
            offset_s=None,
            value=hrv["sdnn_ms"],
            message=f"SDNN {hrv['sdnn_ms']:.0f} ms",
            evidence={k: round(v, 1) for k, v in hrv.items() if np.isfinite(v)},
        )
    ]


def _noise(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Unanalysable spans >= ``min_duration_s`` (never treated as normal)."""
    f = feats(ctx)
    if f is None or f.noise_spans_s.size == 0:
        return []
    s = f.noise_spans_s
    ok = (s[:, 1] - s[:, 0]) >= rule.min_duration_s
    return aggregate(
        rule,
        profile,
        f,
        s[ok, 0],
        s[ok, 1],
        100.0 * f.noise_fraction,
        "unanalysable (noise) spans",
        {"noise_pct": round(100.0 * f.noise_fraction, 2)},
    )


ABNORMAL_EVALUATORS: dict[str, Evaluator] = {
    "SINUS_BRADY": _sinus_brady,
    "SINUS_TACHY": _sinus_tachy,
    "AF": _af,
    "SVT": _svt,
    "PAUSE": _pause,
    "PVC_FREQUENT": _ectopy_rate(("V", "F"), "PVCs"),
    "PAC_FREQUENT": _ectopy_rate(("S",), "PACs"),
    "BIGEMINY": _pattern("bigeminy", "ventricular bigeminy"),
    "TRIGEMINY": _pattern("trigeminy", "ventricular trigeminy"),
    "AV_BLOCK_2": _av_block_2,
    "MULTIFOCAL_PVC": _multifocal,
    "HRV_LOW": _hrv_low,
    "NOISE": _noise,
}
"""Abnormal / informational evaluators by item code."""
