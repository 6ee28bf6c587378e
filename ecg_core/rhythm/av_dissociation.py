"""Third-degree (complete) AV block from AV dissociation: P waves that march through.

In complete heart block the atria and ventricles beat independently: regular P waves at
the sinus rate, a slower regular escape rhythm, and a PR interval that changes from beat
to beat (AHA/ACCF/HRS 2009 part III; Surawicz & Knilans, Chou's Electrocardiography).
P waves are therefore detected here *independently of the QRS*, which
:func:`ecg_core.delineation.detect_p_waves` (QRS-locked template) cannot do:

1. Candidate windows (``window_s``, from the beat series, cheap): >= 4 beats, slow
   (median ventricular rate < ``max_ventricular_bpm``) and regular ventricular rhythm
   (median |RR - median RR| <= ``max_rr_dispersion`` x median RR), no unclassifiable
   beat. Only these windows reach the signal, which keeps 24 h recordings cheap.
2. QRST cancellation: the median beat of the window (R-0.30 .. R+0.55 s, per lead,
   1-15 Hz band) is scaled to each beat and subtracted; P waves at random positions
   relative to the QRS average out of the median and survive in the residual, while
   conducted P waves (locked to the QRS, within 0.30 s before it) are removed. The
   QRS itself (R-0.06 .. R+0.08 s) is blanked (cancellation errors are largest there).
3. Atrial activity: peaks of the smoothed residual envelope (all leads) above
   ``p_min_fraction`` of its 98th percentile and ``p_min_mv``, >= 0.3 s apart.
4. Third degree when the P waves are one repeating wave (shape and size agree), regular
   (PP dispersion <= ``max_pp_dispersion``), the atrial rate exceeds the ventricular
   rate by ``min_rate_ratio``, and the PR interval (last P before each QRS) is not
   constant (s.d. >= ``min_pr_sd_ms``): a 2:1 or fixed-ratio block has a constant PR
   and is *not* dissociation.

The numbers are algorithm parameters (``AvDissociationParams``); the clinical rule
(third-degree block is critical, CRITICAL_VALUES.md A ``SEVERE_BRADY`` item) is in the
profile (``av-block-3``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.signal as ss
from numpy.typing import NDArray

from ecg_core.delineation.median_beat import median_over_beats
from ecg_core.types import BeatSeries

__all__ = ["AvDissociationParams", "ThirdDegree", "third_degree_block"]


@dataclass(frozen=True)
class AvDissociationParams:
    """Algorithm parameters of the AV-dissociation detector (see module docstring).

    Attributes
    ----------
    window_s : float
        Analysis window, s (a resting ECG is one window).
    max_ventricular_bpm : float
        Escape rhythms are slow: junctional 40-60, ventricular 20-40 /min.
    max_rr_dispersion, max_pp_dispersion : float
        Median absolute deviation of RR / PP over their median: regular rhythms.
    min_rate_ratio : float
        Atrial rate / ventricular rate at least this.
    min_pr_sd_ms : float
        PR standard deviation at least this (a conducted rhythm varies by < 20 ms).
    p_min_fraction, p_min_mv : float
        P-wave peak detection: fraction of the 98th percentile of the residual envelope,
        and an absolute floor (P waves are 0.05-0.25 mV), mV.
    min_p_corr, min_p_consistent, max_p_amp_cv : float
        The detected P waves must be one repeating wave: a share ``min_p_consistent``
        of them (the rest may hide in a QRS or T wave) correlates >= ``min_p_corr`` with
        their median shape (+-60 ms, all leads), and the peak-to-peak amplitudes of
        those vary by at most ``max_p_amp_cv`` (noise bumps and T-wave cancellation
        residue do not).
    max_windows : int
        Candidate windows analysed per record, evenly spread when more qualify (~2 ms
        each: 720 windows = 2 h of slow regular rhythm costs ~1.5 s on a 24 h Holter; a
        persistent block is still found, a short one may fall between sampled windows).
    """

    window_s: float = 10.0
    max_ventricular_bpm: float = 60.0
    max_rr_dispersion: float = 0.08
    max_pp_dispersion: float = 0.10
    min_rate_ratio: float = 1.25
    min_pr_sd_ms: float = 60.0
    p_min_fraction: float = 0.45
    p_min_mv: float = 0.04
    min_p_corr: float = 0.8
    min_p_consistent: float = 0.6
    max_p_amp_cv: float = 0.3
    max_windows: int = 720


@dataclass(frozen=True)
class ThirdDegree:
    """Windows with AV dissociation.

    Attributes
    ----------
    onset_s, offset_s : ndarray, shape (n,)
        Window bounds (first and last beat of the window), s.
    atrial_bpm, ventricular_bpm : ndarray, shape (n,)
        Atrial (P) and ventricular (QRS) rates, /min.
    pr_sd_ms : ndarray, shape (n,)
        Standard deviation of the PR interval, ms.
    """

    onset_s: NDArray[np.float64]
    offset_s: NDArray[np.float64]
    atrial_bpm: NDArray[np.float64]
    ventricular_bpm: NDArray[np.float64]
    pr_sd_ms: NDArray[np.float64]


def _empty() -> ThirdDegree:
    e = np.zeros(0)
    return ThirdDegree(e, e.copy(), e.copy(), e.copy(), e.copy())


def _candidate_windows(beats: BeatSeries, p: AvDissociationParams) -> list[tuple[int, int, float]]:
    """(first beat, last beat + 1, median RR in s) of slow, regular windows."""
    fs = beats.fs_hz
    t = beats.r_idx.astype(np.float64) / fs
    if t.size < 4:
        return []
    edges = np.arange(t[0], t[-1] + 1e-9, p.window_s)
    lo = np.searchsorted(t, edges)
    hi = np.searchsorted(t, edges + p.window_s)
    if t[-1] - t[0] < p.window_s:  # short record: one window over all beats
        lo, hi = np.array([0]), np.array([t.size])
    out: list[tuple[int, int, float]] = []
    bad = (beats.label == "Q") | ~beats.quality_ok
    for a, b in zip(lo, hi, strict=True):
        if b - a < 4 or bad[a:b].any():
            continue
        rr = np.diff(t[a:b])
        med = float(np.median(rr))
        if 60.0 / med >= p.max_ventricular_bpm:
            continue
        if np.median(np.abs(rr - med)) > p.max_rr_dispersion * med:
            continue
        out.append((int(a), int(b), med))
    if len(out) > p.max_windows:
        keep = np.linspace(0, len(out) - 1, p.max_windows).round().astype(int)
        out = [out[k] for k in keep]
    return out


@lru_cache(maxsize=32)
def _band_plan(fs_hz: float) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """1-15 Hz order-2 Butterworth SOS, its steady-state initial state, edge length.

    A pure function of the rate, cached: designing the filter (``butter``) and solving its
    initial state (``sosfilt_zi``) cost ~0.8 ms per candidate window. The edge is
    ``sosfiltfilt``'s default odd-extension length (3 x the number of taps).
    """
    sos = np.asarray(ss.butter(2, [1.0, 15.0], btype="band", fs=fs_hz, output="sos"))
    n_sec = sos.shape[0]
    ntaps = 2 * n_sec + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    zi = np.asarray(ss.sosfilt_zi(sos), dtype=np.float64).reshape(n_sec, 1, 2)
    zi.flags.writeable = False  # (scipy's sosfilt wants a writeable sos; it does not write it)
    return sos, zi, 3 * ntaps


def _band_filtfilt(seg: NDArray[np.float64], fs: float) -> NDArray[np.float64]:
    """``sosfiltfilt`` of the 1-15 Hz band along the last axis of a 2-D array.

    The same operations as ``scipy.signal.sosfiltfilt(sos, seg, axis=-1)`` (odd extension,
    steady-state initial conditions scaled by the first sample, forward then backward
    pass), bit for bit, with the design and initial state cached per rate.
    """
    sos, zi, edge = _band_plan(float(fs))
    if seg.shape[-1] <= edge:  # too short to pad: let scipy raise its own error
        return np.asarray(ss.sosfiltfilt(sos, seg, axis=-1), dtype=np.float64)
    ext = np.concatenate(
        [
            2.0 * seg[:, :1] - seg[:, edge:0:-1],
            seg,
            2.0 * seg[:, -1:] - seg[:, -2 : -edge - 2 : -1],
        ],
        axis=-1,
    )
    y, _ = ss.sosfilt(sos, ext, axis=-1, zi=zi * ext[:, :1])
    y, _ = ss.sosfilt(sos, y[:, ::-1], axis=-1, zi=zi * y[:, -1:])
    out: NDArray[np.float64] = y[:, ::-1][:, edge:-edge]  # the same view as scipy returns
    return out


def _residual_envelope(
    seg: NDArray[np.float64], r_rel: NDArray[np.intp], fs: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """QRST-cancelled, QRS-blanked residual (n_leads, n) and its smoothed envelope (n,)."""
    y = _band_filtfilt(seg, fs)
    pre, post = int(0.30 * fs), int(0.55 * fs)
    n = y.shape[-1]
    ok = (r_rel >= pre) & (r_rel + post < n)
    if ok.sum() >= 3:
        idx = r_rel[ok][:, None] + np.arange(-pre, post)[None, :]  # (n_beats, n_win)
        beats = y[:, idx]  # (n_leads, n_beats, n_win)
        med = median_over_beats(np.moveaxis(beats, 1, 0))  # (n_leads, n_win), = np.median
        gain = np.einsum("lbw,lw->lb", beats, med) / (np.sum(med**2, axis=-1)[:, None] + 1e-12)
        y[:, idx] = beats - gain[..., None] * med[:, None, :]
    q0, q1 = int(0.06 * fs), int(0.08 * fs)
    blank = np.clip(r_rel[:, None] + np.arange(-q0, q1)[None, :], 0, n - 1)
    y[:, blank] = 0.0
    env = np.sqrt(np.mean(y**2, axis=0))
    k = max(1, int(0.04 * fs))
    return y, np.convolve(env, np.ones(k) / k, mode="same")


def _consistent_p(
    y: NDArray[np.float64], pk: NDArray[np.intp], fs: float, p: AvDissociationParams
) -> bool:
    """The peaks are one repeating wave (P), not noise: shape and size agree."""
    h = int(0.06 * fs)
    pk = pk[(pk >= h) & (pk + h < y.shape[-1])]
    if pk.size < 4:
        return False
    segs = y[:, pk[:, None] + np.arange(-h, h)[None, :]]  # (n_leads, n_p, 2h)
    flat = np.moveaxis(segs, 1, 0).reshape(pk.size, -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    med = median_over_beats(flat)  # = np.median(flat, axis=0)
    corr = flat @ med / (np.linalg.norm(flat, axis=1) * np.linalg.norm(med) + 1e-12)
    alike = corr >= p.min_p_corr
    if np.mean(alike) < p.min_p_consistent or alike.sum() < 3:
        return False
    amp = np.ptp(flat[alike], axis=1)  # P waves hidden in a QRS or T differ: not counted
    return bool(np.std(amp) <= p.max_p_amp_cv * np.mean(amp))


def third_degree_block(
    signal_mv: NDArray[np.float64],
    beats: BeatSeries,
    *,
    params: AvDissociationParams | None = None,
) -> ThirdDegree:
    """Windows showing AV dissociation (third-degree AV block).

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG, mV (usable leads, no NaN).
    beats : BeatSeries
        Detected, labelled beats.
    params : AvDissociationParams, optional
        Detector parameters.

    Returns
    -------
    ThirdDegree
        One entry per window with dissociation (empty for most records).
    """
    p = params or AvDissociationParams()
    x = np.atleast_2d(signal_mv)
    fs = beats.fs_hz
    rows: list[tuple[float, float, float, float, float]] = []
    margin = int(0.6 * fs)
    for a, b, rr_s in _candidate_windows(beats, p):
        r = beats.r_idx[a:b]
        s0, s1 = max(0, int(r[0]) - margin), min(x.shape[-1], int(r[-1]) + margin)
        y, env = _residual_envelope(x[:, s0:s1], (r - s0).astype(np.intp), fs)
        core = env[int(r[0]) - s0 : int(r[-1]) - s0]
        if core.size == 0:
            continue
        height = max(p.p_min_mv, p.p_min_fraction * float(np.percentile(core, 98)))
        pk, _ = ss.find_peaks(env, height=height, distance=max(1, int(0.3 * fs)))
        pk = pk[(pk >= int(r[0]) - s0 - int(rr_s * fs)) & (pk <= int(r[-1]) - s0)]
        if pk.size < 4:
            continue
        pp = np.diff(pk) / fs
        pp_med = float(np.median(pp))
        if np.median(np.abs(pp - pp_med)) > p.max_pp_dispersion * pp_med:
            continue
        if rr_s / pp_med < p.min_rate_ratio or not _consistent_p(y, pk, fs, p):
            continue
        # PR: last P peak before each QRS (within one PP cycle)
        pos = np.searchsorted(pk, r - s0) - 1
        valid = pos >= 0
        pr_s = ((r - s0)[valid] - pk[pos[valid]]) / fs
        pr_s = pr_s[pr_s <= pp_med * 1.5]
        if pr_s.size < 3:
            continue
        pr_sd_ms = float(np.std(pr_s) * 1000.0)
        if pr_sd_ms < p.min_pr_sd_ms:
            continue
        rows.append((r[0] / fs, r[-1] / fs, 60.0 / pp_med, 60.0 / rr_s, pr_sd_ms))
    if not rows:
        return _empty()
    arr = np.asarray(rows, dtype=np.float64)
    return ThirdDegree(*(arr[:, k].copy() for k in range(5)))
