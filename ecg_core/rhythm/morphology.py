"""Beat morphology on the signal: PVC morphologies (multifocal PVCs) and T-wave alternans.

- PVC morphologies: QRS segments (+-80 ms) of the ventricular beats, normalised, are
  grouped greedily by correlation with a family template (>= ``min_corr`` is the same
  family; the usual template-matching rule of Holter analysers, e.g. Hamilton's
  open-source detector and the Lagerholm clustering). Beats are correlated against a few
  templates at a time, vectorised over beats.
- T-wave alternans: T amplitude of consecutive sinus beats (mean over R+150..R+350 ms
  against the PR baseline at R-80 ms), alternation = |mean of even - mean of odd| beats
  over windows of ``window_beats``; reported as the largest sustained (median over the
  windows) value, mV (visible TWA, Narayan, JACC 2006;47:269).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ecg_core.types import BeatSeries

__all__ = ["correlation_with_normal", "pvc_families", "t_wave_alternans_mv"]

_MAX_FAMILIES = 8
_MAX_PVCS = 20000  # families are learnt from at most this many PVCs (even subsample)


def _qrs_segments(
    signal_mv: NDArray[np.float64], r_idx: NDArray[np.intp], fs_hz: float
) -> NDArray[np.float64]:
    half = round(0.08 * fs_hz)
    offs = np.arange(-half, half + 1)
    n = signal_mv.shape[-1]
    idx = np.clip(r_idx[:, None] + offs[None, :], 0, n - 1)
    seg = signal_mv[:, idx]  # (n_leads, n_beats, n_off)
    seg = np.transpose(seg, (1, 0, 2)).reshape(r_idx.size, -1)
    seg = seg - seg.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(seg, axis=1, keepdims=True)
    return np.asarray(seg / np.maximum(norm, 1e-9), dtype=np.float64)


def pvc_families(
    signal_mv: NDArray[np.float64],
    beats: BeatSeries,
    v_idx: NDArray[np.intp],
    *,
    min_corr: float = 0.8,
) -> NDArray[np.intp]:
    """Morphology family of each ventricular beat.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG, mV.
    beats : BeatSeries
        Beats.
    v_idx : ndarray of intp, shape (n_v,)
        Indices (into ``beats``) of the ventricular beats.
    min_corr : float
        Correlation with a family template for membership.

    Returns
    -------
    ndarray of intp, shape (n_v,)
        Family number per PVC (0 = most common); -1 when not assigned.
    """
    fam = np.full(v_idx.size, -1, dtype=np.intp)
    if v_idx.size == 0:
        return fam
    x = np.atleast_2d(signal_mv)
    seg = _qrs_segments(x, beats.r_idx[v_idx], beats.fs_hz)
    left = np.arange(v_idx.size)
    if left.size > _MAX_PVCS:
        left = left[:: int(np.ceil(left.size / _MAX_PVCS))]
    for k in range(_MAX_FAMILIES):  # a few families; each step vectorised over beats
        if left.size == 0:
            break
        corr_all = seg[left] @ seg[left].T if left.size <= 2000 else None
        if corr_all is not None:
            seed = left[int(np.argmax((corr_all >= min_corr).sum(axis=1)))]
        else:
            seed = left[0]
        template = seg[left[seg[left] @ seg[seed] >= min_corr]].mean(axis=0)
        template /= max(float(np.linalg.norm(template)), 1e-9)
        member = (seg @ template >= min_corr) & (fam < 0)
        fam[member] = k
        left = left[fam[left] < 0]
    # renumber by size
    ids, counts = np.unique(fam[fam >= 0], return_counts=True)
    order = ids[np.argsort(-counts, kind="stable")]
    remap = np.full(_MAX_FAMILIES, -1, dtype=np.intp)
    remap[order] = np.arange(order.size)
    return np.where(fam >= 0, remap[np.maximum(fam, 0)], -1).astype(np.intp)


def t_wave_alternans_mv(
    signal_mv: NDArray[np.float64],
    beats: BeatSeries,
    *,
    window_beats: int = 16,
    k_score: float = 4.0,
) -> tuple[float, int]:
    """Sustained T-wave alternans magnitude and the beat where it is largest.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG, mV.
    beats : BeatSeries
        Beats; runs of consecutive ``N`` beats are used.
    window_beats : int
        Beats per alternans window (even).
    k_score : float
        A window counts only when its alternation is this many standard errors above the
        beat-to-beat noise (lag-2 differences); otherwise it contributes 0.

    Returns
    -------
    alternans_mv : float
        Median over windows of the largest-lead alternation, mV (NaN if not measurable:
        fewer than ``window_beats`` consecutive sinus beats).
    at_beat : int
        Beat index at the centre of the strongest window (-1 if not measurable).
    """
    x = np.atleast_2d(signal_mv)
    n = len(beats)
    if n < window_beats + 2:
        return float("nan"), -1
    fs = beats.fs_hz
    last = x.shape[-1] - 1
    t_off = np.arange(int(0.15 * fs), int(0.35 * fs))
    idx = np.clip(beats.r_idx[:, None] + t_off[None, :], 0, last)
    # PR baseline (mean of 20 ms at R-80 ms) of this beat and of the next one, linearly
    # interpolated to the T window: baseline wander and respiration, which change at
    # about half the beat rate, would otherwise look like alternation
    pr = np.arange(-int(0.09 * fs), -int(0.07 * fs) + 1)
    base = x[:, np.clip(beats.r_idx[:, None] + pr[None, :], 0, last)].mean(axis=-1)
    nxt = np.concatenate([base[:, 1:], base[:, -1:]], axis=-1)
    gap = np.maximum(np.diff(beats.r_idx, append=beats.r_idx[-1] + 1), 1)
    frac = np.clip((0.25 * fs + 0.08 * fs) / gap, 0.0, 1.0)
    t_amp = x[:, idx].mean(axis=-1) - (base + frac * (nxt - base))  # (n_leads, n_beats)
    good = (beats.label == "N") & beats.quality_ok
    win_ok = sliding_window_view(good, window_beats).all(axis=1)
    if not win_ok.any():
        return float("nan"), -1
    sign = np.where(np.arange(window_beats) % 2 == 0, 1.0, -1.0) * (2.0 / window_beats)
    wins = sliding_window_view(t_amp, window_beats, axis=-1)  # (n_leads, n_win, w)
    alt = np.abs(wins @ sign)  # (n_leads, n_win): |mean(even) - mean(odd)|
    # beat-to-beat noise from lag-2 differences (alternans cancels there); the alternans
    # must exceed its standard error ``k_score`` times (spectral-method k-score idea,
    # Rosenbaum et al., NEJM 1994;330:235)
    lag2 = np.median(np.abs(wins[..., 2:] - wins[..., :-2]), axis=-1) / (0.6745 * np.sqrt(2.0))
    se = 2.0 * lag2 / np.sqrt(window_beats)
    alt = np.where(alt >= k_score * se, alt, 0.0).max(axis=0)
    alt = np.where(win_ok, alt, np.nan)
    best = int(np.nanargmax(alt))
    return float(np.nanmedian(alt)), best + window_beats // 2


def correlation_with_normal(
    signal_mv: NDArray[np.float64], beats: BeatSeries, idx: NDArray[np.intp]
) -> NDArray[np.float64]:
    """QRS correlation of beats ``idx`` with the median sinus (``N``) beat.

    A ventricular beat differs from the sinus QRS; a beat labelled ``V`` that matches the
    sinus template (>= 0.9) is more likely a mislabelled sinus beat. Up to 2000 ``N``
    beats spread over the record form the template.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG, mV.
    beats : BeatSeries
        Beats.
    idx : ndarray of intp, shape (n,)
        Beat indices to compare.

    Returns
    -------
    ndarray, shape (n,)
        Correlation in [-1, 1]; NaN without sinus beats.
    """
    x = np.atleast_2d(signal_mv)
    normal = np.flatnonzero((beats.label == "N") & beats.quality_ok)
    if normal.size == 0 or idx.size == 0:
        return np.full(idx.size, np.nan)
    normal = normal[:: max(1, normal.size // 2000)]
    template = np.median(_qrs_segments(x, beats.r_idx[normal], beats.fs_hz), axis=0)
    template /= max(float(np.linalg.norm(template)), 1e-9)
    return np.asarray(_qrs_segments(x, beats.r_idx[idx], beats.fs_hz) @ template, dtype=np.float64)
