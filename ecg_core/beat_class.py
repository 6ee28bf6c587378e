"""Beat classification into AAMI classes N, S, V, F, Q (unsupervised, per chunk).

Per beat (vectorised over beats by index gathers of ``(n_beats, n_leads, window)``):

* RR prematurity ``rr_prev / local median RR`` and the compensatory ratio ``rr_next / rr_prev``;
* correlation of the beat (all good leads, QRS window -100..+150 ms) with the dominant
  template of the chunk (median of the beats that are not premature), the amplitude ratio
  against that template, and a QRS-width estimate from the slope envelope.

Rules (thresholds cite their source; the numeric cut-offs were chosen on the 22 MIT-BIH DS1
records, de Chazal et al. IEEE TBME 2004;51:1196 split, see docs/qrs.md):

* ``Q`` when the beat lies in poor-quality signal (EC57: unclassifiable);
* ``V`` when the morphology departs from the template (low correlation) and the QRS is wide
  or much larger than the template (ventricular origin widens QRS beyond 120 ms, AHA/ACCF/HRS
  2009 Part III), or when it is very different and premature;
* ``S`` when the morphology matches the template but the beat is premature (RR below 85 % of
  the local median; the usual 10-20 % prematurity criterion of Holter practice);
* ``N`` otherwise. ``F`` is not emitted (EC57 does not count F called V as an error).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter

__all__ = ["BeatFeatures", "beat_features", "classify_beats"]

#: QRS window around R, s.
WIN_PRE_S, WIN_POST_S = 0.10, 0.15
#: Beats in this many neighbours define the local median RR.
_RR_SPAN = 15
#: Prematurity for S (RR below this fraction of the local median RR).
S_PREMATURE = 0.85
#: Correlation below which morphology differs from the dominant template.
V_CORR = 0.80
#: Correlation below which morphology alone (with prematurity) makes a beat V.
V_CORR_STRONG = 0.5
#: Width excess over the template that marks a wide QRS, s.
V_WIDTH_EXCESS_S = 0.02
#: Amplitude ratio to template that marks an ectopic-sized beat.
V_AMP_RATIO = 1.6


class BeatFeatures:
    """Per-beat features, each an array of shape (n_beats,)."""

    def __init__(self, **arrays: NDArray[np.float64]) -> None:
        self.rr_ratio = arrays["rr_ratio"]
        self.comp_ratio = arrays["comp_ratio"]
        self.corr = arrays["corr"]
        self.amp_ratio = arrays["amp_ratio"]
        self.width_s = arrays["width_s"]
        self.width_excess_s = arrays["width_excess_s"]


def _rr_features(r_idx: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = r_idx.size
    if n < 3:
        return np.ones(n), np.ones(n)
    rr = np.diff(r_idx).astype(np.float64)
    med = median_filter(rr, size=min(_RR_SPAN, rr.size), mode="nearest")
    rr_prev = np.r_[med[0], rr]
    rr_next = np.r_[rr, med[-1]]
    med_b = np.r_[med[0], med]
    return rr_prev / med_b, rr_next / np.maximum(rr_prev, 1.0)


def _windows(
    clean_mv: NDArray[np.float64], r_idx: NDArray[np.intp], fs_hz: float, step: int
) -> NDArray[np.float64]:
    pre, post = round(WIN_PRE_S * fs_hz), round(WIN_POST_S * fs_hz)
    offs = np.arange(-pre, post + 1, step)
    idx = np.clip(r_idx[:, np.newaxis] + offs, 0, clean_mv.shape[1] - 1)
    win = clean_mv[:, idx]  # (n_leads, n_beats, w)
    win = win - np.median(win, axis=-1, keepdims=True)
    return np.transpose(win, (1, 0, 2))  # (n_beats, n_leads, w)


def _width_s(
    win: NDArray[np.float64], lead_w: NDArray[np.float64], dt_s: float
) -> NDArray[np.float64]:
    slope = np.abs(np.diff(win, axis=-1))  # (n_beats, n_leads, w-1)
    env = (slope * lead_w[:, :, np.newaxis]).sum(axis=1)
    above = env >= 0.2 * env.max(axis=1, keepdims=True)
    first = np.argmax(above, axis=1)
    last = above.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
    out: NDArray[np.float64] = (last - first + 1) * dt_s
    return out


def beat_features(
    clean_mv: NDArray[np.float64],
    r_idx: NDArray[np.intp],
    lead_weight: NDArray[np.float64],
    fs_hz: float,
    *,
    step: int = 1,
) -> BeatFeatures:
    """Compute the classification features of every beat in a chunk.

    Parameters
    ----------
    clean_mv : ndarray, shape (n_leads, n_samples)
        Cleaned ECG, mV.
    r_idx : ndarray of intp, shape (n_beats,)
        R-peak indices into ``clean_mv``.
    lead_weight : ndarray, shape (n_leads, n_beats)
        Per-lead quality weight at each beat, 0-1.
    fs_hz : float
        Sampling rate, Hz.
    step : int
        Sub-sampling step inside beat windows (speed; 1 keeps every sample).

    Returns
    -------
    BeatFeatures
        Features, shape (n_beats,) each.
    """
    rr_ratio, comp_ratio = _rr_features(r_idx)
    win = _windows(clean_mv, r_idx, fs_hz, step)
    lw = lead_weight.T  # (n_beats, n_leads)
    dt_s = step / fs_hz
    width = _width_s(win, lw, dt_s)
    dominant = rr_ratio > S_PREMATURE
    ref = win[dominant] if dominant.sum() >= 5 else win
    template = np.median(ref, axis=0)  # (n_leads, w)
    t_width = float(np.median(width[dominant])) if dominant.sum() >= 5 else float(np.median(width))
    wl = lw[:, :, np.newaxis]
    a = (win - win.mean(axis=-1, keepdims=True)) * wl
    b = (template - template.mean(axis=-1, keepdims=True))[np.newaxis] * wl
    num = (a * b).sum(axis=(1, 2))
    den = np.sqrt((a * a).sum(axis=(1, 2)) * (b * b).sum(axis=(1, 2)))
    corr = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)
    ptp = (np.ptp(win, axis=-1) * lw).sum(axis=1)
    t_ptp = (np.ptp(template, axis=-1)[np.newaxis] * lw).sum(axis=1)
    amp = ptp / np.maximum(t_ptp, 1e-9)
    return BeatFeatures(
        rr_ratio=rr_ratio,
        comp_ratio=comp_ratio,
        corr=corr,
        amp_ratio=amp,
        width_s=width,
        width_excess_s=width - t_width,
    )


def classify_beats(features: BeatFeatures, quality_ok: NDArray[np.bool_]) -> NDArray[np.str_]:
    """Assign AAMI classes from beat features.

    Parameters
    ----------
    features : BeatFeatures
        Output of :func:`beat_features`.
    quality_ok : ndarray of bool, shape (n_beats,)
        Beat lies in acceptable signal.

    Returns
    -------
    ndarray of str, shape (n_beats,)
        ``N``, ``S``, ``V`` or ``Q`` per beat.
    """
    f = features
    differs = f.corr < V_CORR
    wide = f.width_excess_s > V_WIDTH_EXCESS_S
    big = (f.amp_ratio > V_AMP_RATIO) | (f.amp_ratio < 1.0 / V_AMP_RATIO)
    premature = f.rr_ratio < S_PREMATURE
    is_v = (differs & (wide | big)) | ((f.corr < V_CORR_STRONG) & premature)
    label = np.full(f.corr.shape, "N", dtype="<U1")
    label[premature & ~is_v] = "S"
    label[is_v] = "V"
    label[~quality_ok] = "Q"
    return label
