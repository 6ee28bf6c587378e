"""Per-beat P waves: the median P wave matched against every beat's PR region.

For rhythm analysis (AV block, P-QRS relation) the median P wave of the dominant beats
(all leads) is slid over a +-120 ms range around its median position before each QRS;
a beat has a P wave where the normalised cross-correlation and the fitted gain are
plausible. Without a median P wave (e.g. atrial fibrillation) every beat has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ecg_core.delineation.delineate import Delineation, delineate_record
from ecg_core.delineation.median_beat import DelineationParams

__all__ = ["PWaves", "detect_p_waves", "p_waves_from_delineation"]

#: Lag search half-range around the median P position, s.
_LAG_S = 0.12
#: Acceptance: correlation with the median P wave, and fitted gain range.
_MIN_CORR = 0.6
_GAIN_RANGE = (0.35, 3.0)
#: Template margin either side of the median P wave, s.
_MARGIN_S = 0.02


@dataclass(frozen=True)
class PWaves:
    """P wave of every beat.

    Attributes
    ----------
    present : ndarray of bool, shape (n_beats,)
        True where a P wave matching the median P wave precedes the QRS.
    onset_idx, peak_idx, offset_idx : ndarray of intp, shape (n_beats,)
        Sample indices, -1 where absent.
    pr_ms : ndarray of float64, shape (n_beats,)
        P onset to QRS onset, ms; NaN where absent.
    corr : ndarray of float64, shape (n_beats,)
        Best correlation with the median P wave (NaN when no median P wave).
    """

    present: NDArray[np.bool_]
    onset_idx: NDArray[np.intp]
    peak_idx: NDArray[np.intp]
    offset_idx: NDArray[np.intp]
    pr_ms: NDArray[np.float64]
    corr: NDArray[np.float64]


def _absent(n: int) -> PWaves:
    neg = np.full(n, -1, dtype=np.intp)
    nan = np.full(n, np.nan)
    return PWaves(np.zeros(n, dtype=bool), neg, neg.copy(), neg.copy(), nan, nan.copy())


def p_waves_from_delineation(d: Delineation) -> PWaves:
    """Per-beat P waves of an existing delineation.

    Parameters
    ----------
    d : Delineation
        Output of :func:`ecg_core.delineation.delineate_record`.

    Returns
    -------
    PWaves
        One entry per beat of ``d.r_idx``.
    """
    fid, med, fs = d.fiducials, d.median, d.fs_hz
    n_beats = d.r_idx.size
    if fid.p_on is None or fid.p_off is None or fid.p_peak is None:
        return _absent(n_beats)
    margin = int(_MARGIN_S * fs)
    t0 = med.r_pos + fid.p_on - margin
    t1 = med.r_pos + fid.p_off + margin
    t0 = max(0, t0)
    tmpl = med.beat_mv[:, t0:t1]
    tmpl = tmpl - tmpl.mean(axis=1, keepdims=True)
    m = tmpl.shape[1]
    step = max(1, int(0.004 * fs))
    lags = np.arange(-int(_LAG_S * fs), int(_LAG_S * fs) + 1, step)
    n = d.filtered_mv.shape[-1]
    starts = d.r_idx + (t0 - med.r_pos)
    first = starts[:, None] + lags[None, :]  # (n_beats, n_lags) window starts
    valid = (first >= 0) & (first + m - 1 < n)
    # a P wave must end before its own QRS onset
    valid &= (first + m - 1 - margin) < (d.r_idx + fid.qrs_on)[:, None]
    # one contiguous region per beat covers every lag; windows are strided views of it
    span = m + int(lags[-1] - lags[0])
    region = d.filtered_mv[:, np.clip(first[:, :1] + np.arange(span)[None, :], 0, n - 1)]
    win = sliding_window_view(region, m, axis=-1)[:, :, ::step, :]  # (k, b, lags, m)
    # the template is zero-mean per lead, so the window mean drops out of the dot product
    dot = np.einsum("kblm,km->bl", win, tmpl)
    zero = np.zeros((*region.shape[:-1], 1))  # running sums start at 0 (np.pad is slower)
    c1 = np.cumsum(np.concatenate([zero, region], axis=-1), axis=-1)
    c2 = np.cumsum(np.concatenate([zero, region * region], axis=-1), axis=-1)
    s1 = (c1[..., m:] - c1[..., :-m])[..., ::step]
    s2 = (c2[..., m:] - c2[..., :-m])[..., ::step]
    seg_norm = np.sqrt(np.maximum((s2 - s1 * s1 / m).sum(axis=0), 0.0))
    t_norm = float(np.sqrt(np.sum(tmpl * tmpl)))
    corr = dot / (seg_norm * t_norm + 1e-12)
    gain = dot / (t_norm**2 + 1e-12)
    ok = valid & (gain >= _GAIN_RANGE[0]) & (gain <= _GAIN_RANGE[1])
    score = np.where(ok, corr, -np.inf)
    best = np.argmax(score, axis=1)
    rows = np.arange(n_beats)
    best_corr = score[rows, best]
    present = best_corr >= _MIN_CORR
    onset = starts + lags[best] + (med.r_pos + fid.p_on - t0)
    peak = onset + (fid.p_peak - fid.p_on)
    offset = onset + (fid.p_off - fid.p_on)
    qrs_on = d.qrs_on_idx
    pr_ms = np.where(present & (qrs_on >= 0), (qrs_on - onset) * 1000.0 / fs, np.nan)
    neg = np.intp(-1)
    return PWaves(
        present=present,
        onset_idx=np.where(present, onset, neg).astype(np.intp),
        peak_idx=np.where(present, peak, neg).astype(np.intp),
        offset_idx=np.where(present, offset, neg).astype(np.intp),
        pr_ms=pr_ms,
        corr=np.where(np.isfinite(best_corr), best_corr, np.nan),
    )


def detect_p_waves(
    signal_mv: NDArray[np.float64],
    *,
    fs_hz: float,
    r_idx: NDArray[np.intp],
    labels: NDArray[np.str_] | None = None,
    params: DelineationParams | None = None,
) -> PWaves:
    """Per-beat P-wave presence and onset for a given lead set.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG of the leads to use (e.g. II and V1 for atrial activity), mV.
    fs_hz : float
        Sampling rate, Hz.
    r_idx : ndarray of intp, shape (n_beats,)
        Beat positions from the QRS detector.
    labels : ndarray of str, shape (n_beats,), optional
        AAMI labels; only ``N`` beats form the median P wave.
    params : DelineationParams, optional
        Technical constants of the delineator.

    Returns
    -------
    PWaves
        One entry per beat, in the order of ``r_idx``.
    """
    d = delineate_record(signal_mv, fs_hz=fs_hz, r_idx=r_idx, labels=labels, params=params)
    return p_waves_from_delineation(d)
