"""Arrhythmia rule evaluators: rhythm features + a rule (thresholds) -> findings.

Each evaluator reads ``ctx.features["rhythm"]`` (:class:`RhythmFeatures`) and takes every
number from the rule (``threshold``, ``min_duration_s``, ``params``); nothing clinical is
hard-coded here. Critical items (this module) emit one finding per qualifying event (up
to ``max_findings``, default 20, the rest counted in the evidence); abnormal items
(:mod:`ecg_core.rules.arrhythmia_abnormal`) emit one aggregated finding with counts.
Parameters each evaluator reads are listed in its docstring; the profiles in
``models/profiles`` show them with their sources. :data:`EVALUATORS` holds both tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ecg_core.rhythm.features import RhythmFeatures
from ecg_core.rhythm.intervals import close_gaps
from ecg_core.rules.arrhythmia_abnormal import ABNORMAL_EVALUATORS
from ecg_core.rules.arrhythmia_av import AV_EVALUATORS
from ecg_core.rules.arrhythmia_base import (
    aggregate,
    feats,
    finding,
    per_event,
    ront_pvcs,
    thr,
)
from ecg_core.rules.context import RuleContext
from models.profile import Rule
from models.result import Finding

if TYPE_CHECKING:
    from ecg_core.rules.engine import Evaluator

__all__ = ["EVALUATORS"]


# ---- critical items ----


def _vf(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """VF/VFL episodes (from the signal) lasting >= ``min_duration_s``."""
    f = feats(ctx)
    if f is None:
        return []
    dur = f.vf_offset_s - f.vf_onset_s
    hits = np.flatnonzero(dur >= rule.min_duration_s)
    return per_event(
        rule,
        profile,
        f,
        hits,
        f.vf_onset_s,
        f.vf_offset_s,
        dur,
        "ventricular flutter/fibrillation",
        "s",
    )


def _vt_runs(f: RhythmFeatures, rule: Rule) -> NDArray[np.bool_]:
    r = f.v_runs
    return np.asarray(r.n_beats >= int(rule.param("min_beats", 3)))


def _signal_vt(
    ctx: RuleContext, f: RhythmFeatures, rule: Rule
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """VT seen on the signal that no run of >= ``min_beats`` V beats already covers.

    Reads episodes with ``evidence.source == "signal"``; returns onset_s, offset_s, rate_bpm.
    """
    eps = [e for e in ctx.episodes if e.type == "VT" and e.evidence.get("source") == "signal"]
    on = np.array([e.onset_s for e in eps], dtype=np.float64)
    off = np.array([e.offset_s for e in eps], dtype=np.float64)
    rate = np.array([float(e.evidence.get("rate_bpm", np.nan)) for e in eps], dtype=np.float64)
    runs = f.v_runs.select(_vt_runs(f, rule))
    covered = (on[:, None] < runs.offset_s[None, :]) & (off[:, None] > runs.onset_s[None, :])
    keep = ~covered.any(axis=1)
    return on[keep], off[keep], rate[keep]


def _vt(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Ventricular runs >= ``min_beats`` at rate >= threshold lasting >= ``min_duration_s``.

    Runs of V beats, plus VT seen on the signal where the QRS stage found no run (regular,
    sinusoidal VT set aside by the VF detector, :func:`ecg_core.rhythm.vf.organised_vt_episodes`).
    """
    f = feats(ctx)
    if f is None:
        return []
    r = f.v_runs
    s_on, s_off, s_rate = _signal_vt(ctx, f, rule)
    on = np.concatenate([r.onset_s, s_on])
    off = np.concatenate([r.offset_s, s_off])
    rate = np.concatenate([r.rate_bpm, s_rate])
    dur = off - on
    is_run = np.concatenate([_vt_runs(f, rule), np.ones(s_on.size, dtype=bool)])
    ok = is_run & (rate >= thr(rule)) & (dur >= rule.min_duration_s)
    extra: list[dict[str, Any]] = [
        {"n_beats": int(n), "duration_s": round(float(d), 2)}
        for n, d in zip(r.n_beats, dur[: r.n_beats.size], strict=True)
    ] + [{"source": "signal", "duration_s": round(float(d), 2)} for d in dur[r.n_beats.size :]]
    return per_event(
        rule,
        profile,
        f,
        np.flatnonzero(ok),
        on,
        off,
        rate,
        "ventricular tachycardia",
        "bpm",
        extra,
    )


def _nsvt(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Ventricular runs >= ``min_beats`` at >= threshold rate (aggregated)."""
    f = feats(ctx)
    if f is None:
        return []
    r = f.v_runs
    ok = _vt_runs(f, rule) & (r.rate_bpm >= thr(rule))
    s_on, s_off, s_rate = _signal_vt(ctx, f, rule)
    s_ok = s_rate >= thr(rule)
    if not ok.any() and not s_ok.any():
        return []
    return aggregate(
        rule,
        profile,
        f,
        np.concatenate([r.onset_s[ok], s_on[s_ok]]),
        np.concatenate([r.offset_s[ok], s_off[s_ok]]),
        float(np.nanmax(np.concatenate([r.rate_bpm[ok], s_rate[s_ok]]))),
        "ventricular runs",
        {
            "longest_beats": int(r.n_beats[ok].max()) if ok.any() else 0,
            "signal_episodes": int(s_ok.sum()),
        },
    )


def _svt_fast(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """SVT runs at >= threshold, or AF with mean rate >= ``af_mean_rate_bpm``, >= min duration."""
    f = feats(ctx)
    if f is None:
        return []
    s = f.s_runs
    s_dur = s.offset_s - s.onset_s
    s_hit = np.flatnonzero((s.rate_bpm >= thr(rule)) & (s_dur >= rule.min_duration_s))
    out = per_event(rule, profile, f, s_hit, s.onset_s, s.offset_s, s.rate_bpm, "fast SVT", "bpm")
    a = f.af
    a_dur = a.offset_s - a.onset_s
    af_thr = rule.param("af_mean_rate_bpm", thr(rule))
    a_hit = np.flatnonzero((a.mean_rate_bpm >= af_thr) & (a_dur >= rule.min_duration_s))
    out += per_event(
        rule,
        profile,
        f,
        a_hit,
        a.onset_s,
        a.offset_s,
        a.mean_rate_bpm,
        "AF with fast ventricular rate",
        "bpm",
    )
    return out


def _preexcited_af(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """AF with median QRS >= ``wide_qrs_ms`` and shortest RR <= threshold (ms)."""
    f = feats(ctx)
    if f is None:
        return []
    a = f.af
    wide = a.median_qrs_ms >= rule.param("wide_qrs_ms")
    hit = np.flatnonzero(wide & (a.min_rr_ms <= thr(rule)))
    extra = [{"median_qrs_ms": round(float(q), 1)} for q in a.median_qrs_ms]
    return per_event(
        rule,
        profile,
        f,
        hit,
        a.onset_s,
        a.offset_s,
        a.min_rr_ms,
        "pre-excited AF, shortest RR",
        "ms",
        extra,
    )


def _window_rates(
    f: RhythmFeatures, window_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean ventricular rate in consecutive windows (non-noisy windows only)."""
    n_win = max(1, int(np.floor(f.duration_s / window_s)))
    idx = np.floor(f.t_beat_s / window_s).astype(np.int64)
    counts = np.bincount(idx[idx < n_win], minlength=n_win).astype(np.float64)
    starts = np.arange(n_win) * window_s
    clean = np.ones(n_win, dtype=bool)
    for a, b in f.noise_spans_s:  # few spans
        clean &= ~((starts < b) & (a < starts + window_s))
    rates = np.asarray(np.where(clean, counts * 60.0 / window_s, np.nan), dtype=np.float64)
    return rates, np.asarray(starts, dtype=np.float64)


def _severe_brady(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Mean rate <= threshold: whole record (resting) or sustained ``min_duration_s`` windows."""
    f = feats(ctx)
    if f is None or f.t_beat_s.size < 2:
        return []
    window = rule.min_duration_s if rule.min_duration_s > 0 else f.duration_s
    if window >= f.duration_s:
        rate = 60.0 * (f.t_beat_s.size - 1) / max(f.t_beat_s[-1] - f.t_beat_s[0], 1e-9)
        rate = min(rate, 60.0 * f.t_beat_s.size / f.duration_s)
        if f.noise_fraction > 0.5 or rate > thr(rule):
            return []
        return [
            finding(
                rule,
                profile,
                f,
                onset_s=0.0,
                offset_s=f.duration_s,
                value=rate,
                message=f"mean ventricular rate {rate:.0f} bpm",
                evidence={"beat_range": [0, int(f.t_beat_s.size - 1)]},
            )
        ]
    rates, starts = _window_rates(f, window)
    hit = np.flatnonzero(rates <= thr(rule))
    return per_event(
        rule, profile, f, hit, starts, starts + window, rates, "severe bradycardia", "bpm"
    )


def _long_pause(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Every RR >= threshold (s)."""
    f = feats(ctx)
    if f is None:
        return []
    p = f.pauses
    hit = np.flatnonzero(p.rr_s >= thr(rule))
    extra = [{"beat_indices": [int(i), int(i) + 1]} for i in p.before_idx]
    return per_event(rule, profile, f, hit, p.onset_s, p.offset_s, p.rr_s, "long RR", "s", extra)


def _long_pause_holter(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Holter long RR: in AF >= ``af_pause_s``, >= ``min_count`` over threshold, or longest.

    Fires when a pause in AF is >= ``af_pause_s``, when >= ``min_count`` pauses reach the
    threshold, or when the longest pause is >= ``longest_s``.
    """
    f = feats(ctx)
    if f is None or f.pauses.rr_s.size == 0:
        return []
    p = f.pauses
    in_af = (
        (p.onset_s[:, None] < f.af.offset_s[None, :])
        & (f.af.onset_s[None, :] < p.offset_s[:, None])
    ).any(axis=1)
    reasons = []
    if np.any(in_af & (p.rr_s >= rule.param("af_pause_s"))):
        reasons.append("pause in AF")
    n_long = int((p.rr_s >= thr(rule)).sum())
    if n_long >= rule.param("min_count"):
        reasons.append(f"{n_long} pauses >= {thr(rule):g} s")
    k = int(np.argmax(p.rr_s))
    if p.rr_s[k] >= rule.param("longest_s"):
        reasons.append("longest pause")
    if not reasons:
        return []
    return [
        finding(
            rule,
            profile,
            f,
            onset_s=p.onset_s[k],
            offset_s=p.offset_s[k],
            value=float(p.rr_s[k]),
            message=f"long RR (Holter): {'; '.join(reasons)}; longest {p.rr_s[k]:.2f} s",
            evidence={
                "count_ge_threshold": n_long,
                "reasons": reasons,
                "beat_indices": [int(p.before_idx[k]), int(p.before_idx[k]) + 1],
            },
        )
    ]


def _asystole(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """No QRS for >= threshold s, outside noise and VF.

    With ``quiet_required`` = 1 the pause must also be quiet (ventricular standstill, P
    waves at most).
    """
    f = feats(ctx)
    if f is None:
        return []
    p = f.pauses
    ok = p.rr_s >= thr(rule)
    if rule.param("quiet_required", 0.0) > 0:
        ok &= p.quiet
    # asystole seen in the signal itself (no QRS-like slope), even if beats were "found"
    on = np.concatenate([p.onset_s[ok], f.asys_onset_s])
    off = np.concatenate([p.offset_s[ok], f.asys_offset_s])
    keep = (off - on) >= thr(rule)
    on, off = on[keep], off[keep]
    if on.size > 1:  # one finding per span where beat gaps and quiet signal overlap
        order = np.argsort(on)
        on, off = close_gaps(on[order], off[order], max_gap=0.0)
    src = [{"source": "RR gap >= threshold and/or quiet signal"} for _ in range(on.size)]
    return per_event(
        rule, profile, f, np.arange(on.size), on, off, off - on, "asystole (no QRS)", "s", src
    )


def _ront_pvc(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """R-on-T PVCs (coupling <= threshold x preceding QT) and, optionally, multifocal PVCs.

    A PVC counts only after two sinus beats and with a compensatory pause: coupling + next
    RR >= ``min_compensation`` x the preceding RR, and its morphology family must hold at
    least ``min_family_beats_ront`` PVCs (both reject extra detections on noise); a PVC
    whose QRS correlates >= ``max_normal_corr`` with the sinus template, that is not
    premature (coupling > ``max_prematurity`` x preceding RR) or narrower than
    ``min_qrs_ms`` is not counted (it is then not a confident PVC). The QT is the
    measured QTc (Bazett back to each preceding RR); without one,
    ``reference_qtc_ms`` -- unless ``require_measured_qt`` = 1 (no measured QT, no R-on-T
    call: a coupling interval cannot be set against an unknown T wave).

    With ``multifocal`` = 1, >= ``min_morphologies`` families of >= ``min_family_beats``
    beats also fire.
    """
    f = feats(ctx)
    if f is None or f.pvc_idx.size == 0:
        return []
    m = ctx.measurements
    measured = m.qtc_ms if m is not None else None
    hit, ratio, qt, credible = ront_pvcs(
        f,
        qtc_ms=measured if measured is not None else rule.param("reference_qtc_ms"),
        ratio=thr(rule),
        min_compensation=rule.param("min_compensation"),
        max_normal_corr=rule.param("max_normal_corr"),
        max_prematurity=rule.param("max_prematurity", float("inf")),
        min_qrs_ms=rule.param("min_qrs_ms", 0.0),
        min_family_beats=rule.param("min_family_beats_ront", 1.0),
    )
    if measured is None and rule.param("require_measured_qt", 0.0) > 0:
        hit = hit[:0]
    t = f.t_beat_s[f.pvc_idx]
    extra = [
        {"beat_index": int(i), "coupling_ms": round(float(c), 1), "qt_ms": round(float(q), 1)}
        for i, c, q in zip(f.pvc_idx, f.pvc_coupling_ms, qt, strict=True)
    ]
    out = per_event(rule, profile, f, hit, t, t, ratio, "R-on-T PVC, coupling/QT", "", extra)
    if rule.param("multifocal", 0.0) > 0:
        kept = f.pvc_family[credible & (f.pvc_family >= 0)]
        fam, counts = np.unique(kept, return_counts=True)
        big = fam[counts >= rule.param("min_family_beats")]
        if big.size >= rule.param("min_morphologies"):
            first = [int(f.pvc_idx[np.flatnonzero(f.pvc_family == k)[0]]) for k in big]
            out.append(
                finding(
                    rule,
                    profile,
                    f,
                    onset_s=float(f.t_beat_s[min(first)]),
                    offset_s=float(f.t_beat_s[max(first)]),
                    value=float(big.size),
                    message=f"multifocal PVCs: {big.size} morphologies",
                    evidence={"morphologies": int(big.size), "example_beats": first},
                )
            )
    return out


def _t_alternans(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Sustained T-wave alternans >= threshold (mV)."""
    f = feats(ctx)
    if f is None or not np.isfinite(f.t_alternans_mv) or f.t_alternans_mv < thr(rule):
        return []
    t = float(f.t_beat_s[f.t_alternans_beat])
    return [
        finding(
            rule,
            profile,
            f,
            onset_s=t,
            offset_s=t,
            value=f.t_alternans_mv,
            message=f"T-wave alternans {f.t_alternans_mv:.2f} mV",
            evidence={"beat_index": f.t_alternans_beat},
        )
    ]


EVALUATORS: dict[str, Evaluator] = {
    "VF": _vf,
    "VT": _vt,
    "NSVT": _nsvt,
    "SVT_FAST": _svt_fast,
    "PREEXCITED_AF": _preexcited_af,
    "SEVERE_BRADY": _severe_brady,
    "LONG_PAUSE": _long_pause,
    "LONG_PAUSE_HOLTER": _long_pause_holter,
    "ASYSTOLE": _asystole,
    "RONT_PVC": _ront_pvc,
    "T_ALTERNANS": _t_alternans,
    **ABNORMAL_EVALUATORS,
    **AV_EVALUATORS,
}
"""Arrhythmia evaluators by item code (merged by :mod:`ecg_core.rules.engine`)."""
