"""Whole-record delineation: median-beat global fiducials mapped back onto every beat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecg_core.delineation.median_beat import (
    DelineationParams,
    Fiducials,
    MedianBeat,
    beat_windows,
    build_median_beat,
    delineate_beat,
    median_over_beats,
    pooled_windows,
    qrs_t_bounds,
    qrst_dispersion_mv,
)
from ecg_core.delineation.preprocess import (
    align_r_idx,
    alignment_envelope,
    as_leads_samples,
    bandpass,
    locate_beats,
)
from models.errors import AnalysisError

__all__ = ["Delineation", "delineate_record", "median_qt_bounds"]

#: Beats whose QRS correlates below this with the median QRS are delineated on their own.
_DOMINANT_CORR = 0.85
#: Window limits around R, s, further limited by the median RR interval.
_PRE_MAX_S = 0.45
_POST_MAX_S = 0.70


@dataclass(frozen=True)
class Delineation:
    """Delineation of one record.

    Attributes
    ----------
    filtered_mv : ndarray, shape (n_leads, n_samples)
        Band-passed ECG the fiducials refer to, mV.
    fs_hz : float
        Sampling rate, Hz.
    r_idx : ndarray of intp, shape (n_beats,)
        Aligned beat fiducial (spatial-velocity peak) per beat.
    dominant : ndarray of bool, shape (n_beats,)
        True for beats pooled into the median beat.
    median : MedianBeat
        Median beat of the dominant beats.
    fiducials : Fiducials
        Global fiducials of the median beat (offsets from R).
    qrs_on_idx, qrs_off_idx, t_peak_idx, t_off_idx : ndarray of intp, shape (n_beats,)
        Per-beat fiducial sample indices; -1 where not found.
    t_off_lead_idx : ndarray of intp, shape (n_leads, n_beats)
        Per-lead, per-beat T offset (each lead's own median-beat T end); -1 where none.
    rr_median_ms : float
        Median RR interval, ms (NaN with fewer than two beats).
    envelope : ndarray, shape (n_samples,) or None
        The alignment envelope of ``filtered_mv`` (kept so that a second delineation of
        the same signal, e.g. :func:`median_qt_bounds`, does not compute it again).
    lead_noise_mv : ndarray, shape (n_leads,) or None
        Per-lead noise over each dominant beat's own QRS-T span
        (:func:`~ecg_core.delineation.median_beat.qrst_dispersion_mv`), mV: what the
        12-lead stage's noisy-lead check reads.
    """

    filtered_mv: NDArray[np.float64]
    fs_hz: float
    r_idx: NDArray[np.intp]
    dominant: NDArray[np.bool_]
    median: MedianBeat
    fiducials: Fiducials
    qrs_on_idx: NDArray[np.intp]
    qrs_off_idx: NDArray[np.intp]
    t_peak_idx: NDArray[np.intp]
    t_off_idx: NDArray[np.intp]
    t_off_lead_idx: NDArray[np.intp]
    rr_median_ms: float
    envelope: NDArray[np.float64] | None = None
    lead_noise_mv: NDArray[np.float64] | None = None


def _window(rr_ms: float, fs_hz: float) -> tuple[int, int]:
    rr_s = rr_ms / 1000.0 if np.isfinite(rr_ms) else 1.0
    pre = int(min(_PRE_MAX_S, max(0.25, 0.6 * rr_s)) * fs_hz)
    post = int(min(_POST_MAX_S, max(0.35, 0.9 * rr_s)) * fs_hz)
    return pre, post


def _dominant_mask(
    filtered_mv: NDArray[np.float64],
    r_idx: NDArray[np.intp],
    candidates: NDArray[np.bool_],
    fs_hz: float,
) -> NDArray[np.bool_]:
    half = int(0.06 * fs_hz)
    n = filtered_mv.shape[-1]
    fits = (r_idx >= half) & (r_idx + half <= n)
    pool = candidates & fits
    if pool.sum() < 2:
        return candidates.copy()
    wins = beat_windows(filtered_mv, r_idx[fits], half, half)
    flat = wins.reshape(wins.shape[0], -1)
    ref = median_over_beats(beat_windows(filtered_mv, r_idx[pool], half, half)).ravel()
    flat = flat - flat.mean(axis=1, keepdims=True)
    ref = ref - ref.mean()
    corr = flat @ ref / (np.linalg.norm(flat, axis=1) * np.linalg.norm(ref) + 1e-12)
    out = np.zeros(r_idx.size, dtype=bool)
    out[np.flatnonzero(fits)] = corr >= _DOMINANT_CORR
    out &= candidates
    return out if out.any() else pool


def _shift(r_idx: NDArray[np.intp], off: int | None, n: int) -> NDArray[np.intp]:
    if off is None:
        return np.full(r_idx.size, -1, dtype=np.intp)
    out = r_idx + off
    return np.where((out >= 0) & (out < n), out, -1).astype(np.intp)


def delineate_record(
    signal_mv: NDArray[np.float64],
    *,
    fs_hz: float,
    r_idx: NDArray[np.intp] | None = None,
    labels: NDArray[np.str_] | None = None,
    params: DelineationParams | None = None,
    median_only: bool = False,
    filtered_mv: NDArray[np.float64] | None = None,
) -> Delineation:
    """Delineate a multi-lead resting ECG.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG in millivolts (any lead set; global fiducials use all leads given).
    fs_hz : float
        Sampling rate, Hz.
    r_idx : ndarray of intp, shape (n_beats,), optional
        Beat positions from the QRS detector; located on the spatial velocity if omitted.
    labels : ndarray of str, shape (n_beats,), optional
        AAMI beat labels; only ``N`` beats (or all when omitted) may enter the median.
    params : DelineationParams, optional
        Technical constants.
    median_only : bool
        Delineate the median beat only: non-dominant beats are not delineated one by
        one (their per-beat fiducials are the median's, shifted).
    filtered_mv : ndarray, shape (n_leads, n_samples), optional
        The band-passed ``signal_mv`` when the caller has it already
        (``Delineation.filtered_mv`` of an earlier call on the same signal); skips the
        filtering.

    Returns
    -------
    Delineation
        Median beat, global fiducials and per-beat fiducials.

    Raises
    ------
    AnalysisError
        No beat found.
    """
    x = as_leads_samples(signal_mv, fs_hz=fs_hz)
    filt = bandpass(x, fs_hz=fs_hz) if filtered_mv is None else filtered_mv
    n = x.shape[-1]
    raw = locate_beats(filt, fs_hz=fs_hz) if r_idx is None else np.asarray(r_idx, dtype=np.intp)
    if raw.size == 0:
        raise AnalysisError("delineation: no beat found in the record")
    env = alignment_envelope(filt, fs_hz=fs_hz)
    r, rr_ms, pre, post, dom = _pool(filt, raw, labels, fs_hz, env)
    med = build_median_beat(filt, r[dom], fs_hz=fs_hz, pre=pre, post=post)
    noise = float(np.median(med.residual_rms_mv))
    rr_s = rr_ms / 1000.0
    fid = delineate_beat(
        med.beat_mv, med.r_pos, fs_hz=fs_hz, rr_s=rr_s, noise_mv=noise, params=params
    )
    on = _shift(r, fid.qrs_on, n)
    off = _shift(r, fid.qrs_off, n)
    tp = _shift(r, fid.t_peak, n)
    te = _shift(r, fid.t_off, n)
    if fid.t_off_lead:
        te_lead = np.stack([_shift(r, o, n) for o in fid.t_off_lead])
    else:
        te_lead = np.full((x.shape[0], r.size), -1, dtype=np.intp)
    fits = (r >= pre) & (r + post <= n)
    alone = ~dom & fits & (not median_only)
    for i in np.flatnonzero(alone):  # few non-dominant beats: delineate each alone
        single = filt[:, r[i] - pre : r[i] + post]
        # delineate_beat's QRS and T fiducials (its P wave and per-lead parts are not used)
        b_on, b_off, b_tp, b_te = qrs_t_bounds(single, pre, fs_hz=fs_hz, rr_s=rr_s, params=params)
        on[i], off[i] = r[i] + b_on, r[i] + b_off
        tp[i] = -1 if b_tp is None else r[i] + b_tp
        te[i] = -1 if b_te is None else r[i] + b_te
        te_lead[:, i] = te[i]
    return Delineation(
        filtered_mv=filt,
        fs_hz=fs_hz,
        r_idx=r,
        dominant=dom,
        median=med,
        fiducials=fid,
        qrs_on_idx=on,
        qrs_off_idx=off,
        t_peak_idx=tp,
        t_off_idx=te,
        t_off_lead_idx=te_lead,
        rr_median_ms=rr_ms,
        envelope=env,
        lead_noise_mv=qrst_dispersion_mv(filt, r, dom, med, fid),
    )


def median_qt_bounds(
    d: Delineation,
    labels: NDArray[np.str_],
    *,
    params: DelineationParams | None = None,
) -> tuple[int, int | None]:
    """QRS onset and T offset of the median beat of the beats ``labels`` marks ``N``.

    Equal to ``fiducials.qrs_on`` and ``fiducials.t_off`` of ``delineate_record(signal,
    fs_hz=d.fs_hz, r_idx=d.r_idx, labels=labels, median_only=True,
    filtered_mv=d.filtered_mv)`` on the signal ``d`` was delineated from (the same
    alignment, dominant beats, median beat and QRS / T steps), without the signal check,
    the residual noise, the per-lead T waves, P wave and J points that QT does not use.

    Parameters
    ----------
    d : Delineation
        Delineation of the whole record.
    labels : ndarray of str, shape (n_beats,)
        Labels of ``d.r_idx``; the ``N`` beats (all when none) may enter the median.
    params : DelineationParams, optional
        Technical constants.

    Returns
    -------
    (int, int or None)
        QRS onset and T offset, samples from R (T offset None when no T wave is found).
    """
    filt, fs_hz = d.filtered_mv, d.fs_hz
    env = d.envelope if d.envelope is not None else alignment_envelope(filt, fs_hz=fs_hz)
    r, rr_ms, pre, post, dom = _pool(filt, d.r_idx, labels, fs_hz, env)
    beat = median_over_beats(pooled_windows(filt, r[dom], pre, post))
    qrs_on, _, _, t_off = qrs_t_bounds(beat, pre, fs_hz=fs_hz, rr_s=rr_ms / 1000.0, params=params)
    return qrs_on, t_off


def _pool(
    filt: NDArray[np.float64],
    raw: NDArray[np.intp],
    labels: NDArray[np.str_] | None,
    fs_hz: float,
    env: NDArray[np.float64],
) -> tuple[NDArray[np.intp], float, int, int, NDArray[np.bool_]]:
    """Aligned beats, median RR (ms), window and the dominant beats pooled in the median."""
    r = align_r_idx(filt, raw, fs_hz=fs_hz, envelope=env)
    rr_ms = float(np.median(np.diff(r))) * 1000.0 / fs_hz if r.size > 1 else float("nan")
    pre, post = _window(rr_ms, fs_hz)
    cand = np.ones(r.size, dtype=bool) if labels is None else np.asarray(labels) == "N"
    if not cand.any():
        cand = np.ones(r.size, dtype=bool)
    dom = _dominant_mask(filt, r, cand, fs_hz)
    return r, rr_ms, pre, post, dom
