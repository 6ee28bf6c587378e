"""Holter (ambulatory, up to 24 h+) summary from the rhythm features and episodes.

Long recordings are processed with bounded memory: QRS detection streams the signal in
overlapping chunks (``ecg_core.qrs``), the VF features are computed over blocks of
windows of a decimated (50 Hz) copy (``ecg_core.rhythm.vf``) and the P-wave and
morphology features over blocks of beats. The rhythm track itself is built once on the
whole beat series (~100k beats per 24 h), so an episode never breaks at a chunk seam;
:func:`merge_episodes` joins same-type episodes that touch (e.g. results of separately
analysed parts of one recording).

Summary content follows Chinese Holter reporting norms (CRITICAL_VALUES.md section C)
and the ACC/AHA ambulatory ECG guideline (Crawford et al., JACC 1999;34:912); HRV time-
domain indices follow the Task Force of the ESC/NASPE (Circulation 1996;93:1043).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecg_core.rhythm.features import RhythmFeatures
from models.result import Episode

__all__ = ["holter_summary", "hrv_time_domain", "merge_episodes"]


def merge_episodes(episodes: Sequence[Episode], *, max_gap_s: float = 0.0) -> list[Episode]:
    """Join consecutive episodes of the same type separated by at most ``max_gap_s``.

    Parameters
    ----------
    episodes : sequence of Episode
        Episodes, possibly from overlapping chunks (any order).
    max_gap_s : float
        Largest gap bridged, s (overlapping episodes are always joined).

    Returns
    -------
    list of Episode
        Merged episodes by onset; evidence of the first episode of each group is kept,
        with ``merged_from`` counting the parts.
    """
    out: list[Episode] = []
    by_type: dict[str, list[Episode]] = {}
    for e in episodes:
        by_type.setdefault(e.type, []).append(e)
    for kind, items in by_type.items():  # loop over types (few), not samples
        items.sort(key=lambda e: e.onset_s)
        on = np.array([e.onset_s for e in items])
        off = np.maximum.accumulate(np.array([e.offset_s for e in items]))
        new = np.concatenate(([True], on[1:] - off[:-1] > max_gap_s))
        group = np.cumsum(new) - 1
        for g in range(int(group[-1]) + 1):
            members = np.flatnonzero(group == g)
            first = items[int(members[0])]
            ev = dict(first.evidence)
            if members.size > 1:
                ev["merged_from"] = int(members.size)
            out.append(
                Episode(
                    type=kind,
                    onset_s=float(on[members[0]]),
                    offset_s=float(off[members[-1]]),
                    evidence=ev,
                )
            )
    return sorted(out, key=lambda e: (e.onset_s, e.type))


def hrv_time_domain(
    t_beat_s: NDArray[np.float64], label: NDArray[np.str_], *, segment_s: float = 300.0
) -> dict[str, float]:
    """Time-domain HRV on normal-to-normal intervals.

    Parameters
    ----------
    t_beat_s : ndarray, shape (n_beats,)
        Beat times, s.
    label : ndarray of str, shape (n_beats,)
        AAMI labels; only N-N intervals count.
    segment_s : float
        Segment length for SDANN, s (5 min, Task Force 1996).

    Returns
    -------
    dict
        ``sdnn_ms``, ``rmssd_ms``, ``sdann_ms``, ``pnn50_pct`` (NaN when not computable).
        NN intervals outside 300-2000 ms and jumps > 20 % from the previous NN are
        excluded as artefacts.
    """
    nan = float("nan")
    if t_beat_s.size < 3:
        return {"sdnn_ms": nan, "rmssd_ms": nan, "sdann_ms": nan, "pnn50_pct": nan}
    rr = np.diff(t_beat_s) * 1000.0
    nn_ok = (label[1:] == "N") & (label[:-1] == "N") & (rr >= 300.0) & (rr <= 2000.0)
    prev = np.concatenate(([np.nan], rr[:-1]))
    nn_ok &= ~(np.abs(rr - prev) > 0.2 * prev)
    nn = rr[nn_ok]
    succ = np.diff(rr)[nn_ok[1:] & nn_ok[:-1]]
    seg = np.floor(t_beat_s[1:][nn_ok] / segment_s).astype(np.int64)
    if nn.size >= 2:
        sums = np.bincount(seg, weights=nn)
        counts = np.bincount(seg)
        means = sums[counts > 0] / counts[counts > 0]
        sdann = float(np.std(means, ddof=1)) if means.size >= 2 else nan
    else:
        sdann = nan
    return {
        "sdnn_ms": float(np.std(nn, ddof=1)) if nn.size >= 2 else nan,
        "rmssd_ms": float(np.sqrt(np.mean(succ**2))) if succ.size else nan,
        "sdann_ms": sdann,
        "pnn50_pct": float(100.0 * np.mean(np.abs(succ) > 50.0)) if succ.size else nan,
    }


def _minute_rates(f: RhythmFeatures) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean HR per whole minute with >= 50 % beats analysable; minute start times."""
    n_min = max(1, int(np.ceil(f.duration_s / 60.0)))
    counts = np.bincount(np.floor(f.t_beat_s / 60.0).astype(np.int64), minlength=n_min)[:n_min]
    noisy = np.zeros(n_min)
    for a, b in f.noise_spans_s:  # few spans; each adds its overlap with the minutes
        m = np.arange(n_min) * 60.0
        noisy += np.clip(np.minimum(b, m + 60.0) - np.maximum(a, m), 0.0, None)
    usable = 60.0 - noisy
    rate = np.where(usable >= 30.0, counts * 60.0 / np.maximum(usable, 1e-9), np.nan)
    full = np.arange(n_min) * 60.0 + 60.0 <= f.duration_s + 1e-9
    rate = np.asarray(np.where(full, rate, np.nan), dtype=np.float64)
    return rate, np.arange(n_min, dtype=np.float64) * 60.0


def holter_summary(f: RhythmFeatures, episodes: Sequence[Episode]) -> dict[str, Any]:
    """Holter summary of one recording.

    Parameters
    ----------
    f : RhythmFeatures
        Output of :func:`ecg_core.rhythm.analyze_rhythm`.
    episodes : sequence of Episode
        The episodes returned with ``f``.

    Returns
    -------
    dict
        JSON-ready summary: beats, HR min/mean/max with times (1-min means), hourly HR,
        pauses, PVC/PAC counts and burden, ventricular runs, AF burden and longest AF,
        HRV (SDNN, RMSSD, SDANN, pNN50), noise share. Times are seconds from the start.
    """
    n = int(f.t_beat_s.size)
    rate, t_min = _minute_rates(f)
    has_rate = bool(np.isfinite(rate).any())
    analysed_s = f.duration_s * (1.0 - f.noise_fraction)
    hours = np.floor(t_min / 3600.0).astype(np.int64)
    hourly = [
        round(float(np.nanmean(rate[hours == h])), 1)
        if np.isfinite(rate[hours == h]).any()
        else None
        for h in range(int(hours.max()) + 1 if hours.size else 0)
    ]
    p = f.pauses
    n_pvc = int(np.isin(f.label, ["V", "F"]).sum())
    n_pac = int((f.label == "S").sum())
    vr = f.v_runs
    runs3 = vr.n_beats >= 3
    af_s = f.af.offset_s - f.af.onset_s
    longest_af = int(np.argmax(af_s)) if af_s.size else -1
    par = f.params
    return {
        "duration_s": round(f.duration_s, 1),
        "analysed_s": round(analysed_s, 1),
        "noise_pct": round(100.0 * f.noise_fraction, 2),
        "total_beats": n,
        "hr_mean_bpm": round(60.0 * n / analysed_s, 1) if analysed_s > 0 and n else None,
        "hr_min_bpm": round(float(np.nanmin(rate)), 1) if has_rate else None,
        "hr_min_at_s": float(t_min[int(np.nanargmin(rate))]) if has_rate else None,
        "hr_max_bpm": round(float(np.nanmax(rate)), 1) if has_rate else None,
        "hr_max_at_s": float(t_min[int(np.nanargmax(rate))]) if has_rate else None,
        "hourly_hr_bpm": hourly,
        "pauses": {
            "longest_s": round(float(p.rr_s.max()), 2) if p.rr_s.size else None,
            "longest_at_s": round(float(p.onset_s[int(np.argmax(p.rr_s))]), 2)
            if p.rr_s.size
            else None,
            f"count_ge_{par.pause_min_s:g}s": int((p.rr_s >= par.pause_min_s).sum()),
            f"count_ge_{par.asystole_min_s:g}s": int((p.rr_s >= par.asystole_min_s).sum()),
        },
        "pvc": {
            "count": n_pvc,
            "burden_pct": round(100.0 * n_pvc / n, 3) if n else 0.0,
            "couplets": int((vr.n_beats == 2).sum()),
            "runs_ge3": int(runs3.sum()),
            "bigeminy_episodes": int(f.bigeminy.first.size),
            "trigeminy_episodes": int(f.trigeminy.first.size),
            "morphologies": int(np.unique(f.pvc_family[f.pvc_family >= 0]).size),
        },
        "pac": {
            "count": n_pac,
            "burden_pct": round(100.0 * n_pac / n, 3) if n else 0.0,
            "svt_runs": int(f.s_runs.first.size),
        },
        "vt": {
            "runs": int(runs3.sum()),
            "longest_beats": int(vr.n_beats[runs3].max()) if runs3.any() else 0,
            "fastest_bpm": round(float(np.nanmax(vr.rate_bpm[runs3])), 1) if runs3.any() else None,
        },
        "vf_episodes": int(f.vf_onset_s.size),
        "af": {
            "burden_pct": round(100.0 * float(af_s.sum()) / f.duration_s, 2)
            if f.duration_s
            else 0.0,
            "episodes": int(af_s.size),
            "longest_s": round(float(af_s[longest_af]), 1) if longest_af >= 0 else None,
            "longest_at_s": round(float(f.af.onset_s[longest_af]), 1) if longest_af >= 0 else None,
        },
        "hrv": {
            k: (round(v, 1) if np.isfinite(v) else None)
            for k, v in hrv_time_domain(f.t_beat_s, f.label).items()
        },
        "episode_counts": {
            k: int(sum(1 for e in episodes if e.type == k))
            for k in sorted({e.type for e in episodes})
        },
    }
