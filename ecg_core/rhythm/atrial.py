"""Atrial activity before each QRS: P waves locked to the beats, or not.

A P wave precedes each conducted sinus beat at a fixed PR interval, so the average of
the pre-QRS segments of a few consecutive beats keeps it. In AF the fibrillatory waves
are not locked to the QRS and average out (signal-averaging idea of the P-wave
"PR-segment correlation" AF criteria, e.g. Ladavich & Ghoraani, Biomed Signal Process
Control 2015;18:274; Couceiro et al., CinC 2008). The score of a window of ``k`` beats is

    coherence = var(mean of segments) / mean(var of each segment)

about 1 when every segment has the same P wave, about ``1/k`` for unlocked activity.
Segments are linearly detrended (baseline wander), no filtering of the whole record is
needed; beats are processed in blocks to bound memory on 24 h recordings.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ecg_core.types import BeatSeries

__all__ = ["p_wave_coherence"]

_BLOCK_BEATS = 8192


def _segments(
    lead: NDArray[np.float64], r_idx: NDArray[np.intp], start: int, stop: int
) -> NDArray[np.float64]:
    offs = np.arange(start, stop)
    idx = np.clip(r_idx[:, None] + offs[None, :], 0, lead.size - 1)
    seg = lead[idx]
    # remove mean and slope of every segment (vectorised least squares on a fixed design)
    x = offs - offs.mean()
    seg = seg - seg.mean(axis=1, keepdims=True)
    slope = (seg @ x) / float(x @ x)
    return np.asarray(seg - slope[:, None] * x[None, :], dtype=np.float64)


def p_wave_coherence(
    signal_mv: NDArray[np.float64],
    beats: BeatSeries,
    *,
    window_beats: int = 8,
    seg_start_ms: float = -280.0,
    seg_stop_ms: float = -60.0,
    min_prev_rr_ms: float = 550.0,
) -> NDArray[np.float64]:
    """Per-beat P-wave coherence (best lead), centred on each beat.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG in mV.
    beats : BeatSeries
        Beats (only ``N`` beats of good quality enter the averages).
    window_beats : int
        Beats per average.
    seg_start_ms, seg_stop_ms : float
        Pre-QRS segment relative to the R peak, ms (P wave and PR segment; PR 120-200 ms,
        AHA/ACCF/HRS 2009).
    min_prev_rr_ms : float
        Beats after a shorter RR are not used: the previous T wave (QT up to ~400 ms)
        would fall inside the segment. Above ~110 /min AF rests on RR irregularity alone.

    Returns
    -------
    ndarray, shape (n_beats,)
        Coherence in [0, 1]; NaN where fewer than ``window_beats`` usable beats exist or
        the nearest judged beat is more than ``window_beats`` beats away.
    """
    x = np.atleast_2d(np.asarray(signal_mv, dtype=np.float64))
    n = len(beats)
    out = np.full(n, np.nan)
    prev_rr_ms = np.concatenate(([np.inf], beats.rr_ms))
    # at fast rates the previous beat's QRS-T falls inside the segment: not judged
    use = (beats.label == "N") & beats.quality_ok & (prev_rr_ms >= min_prev_rr_ms)
    idx_use = np.flatnonzero(use)
    k = window_beats
    if idx_use.size < k:
        return out
    start = round(seg_start_ms * beats.fs_hz / 1000.0)
    stop = round(seg_stop_ms * beats.fs_hz / 1000.0)
    best = np.zeros(idx_use.size - k + 1)
    for lead in x:
        scores = []
        for b0 in range(0, idx_use.size, _BLOCK_BEATS):  # blocks of beats, bounded memory
            sel = idx_use[max(0, b0 - k + 1) : b0 + _BLOCK_BEATS]
            seg = _segments(lead, beats.r_idx[sel], start, stop)
            csum = np.concatenate((np.zeros((1, seg.shape[1])), np.cumsum(seg, axis=0)))
            mean_k = (csum[k:] - csum[:-k]) / k
            pw = np.concatenate(([0.0], np.cumsum(np.mean(seg**2, axis=1))))
            mean_var = (pw[k:] - pw[:-k]) / k
            scores.append(np.mean(mean_k**2, axis=1) / (mean_var + 1e-12))
        best = np.maximum(best, np.concatenate(scores)[: best.size])
    centre = idx_use[k // 2 : k // 2 + best.size]
    out[centre] = best
    # carry the score to beats in between (e.g. ectopic beats) from the previous judged beat
    filled = np.flatnonzero(~np.isnan(out))
    pos = np.clip(np.searchsorted(filled, np.arange(n), side="right") - 1, 0, None)
    near = np.abs(np.arange(n) - filled[pos]) <= k
    return np.where(np.isnan(out) & near, out[filled[pos]], out)
