"""Median beat per lead and its global fiducials (P, QRS, T on/offsets across leads).

Beats are aligned on the spatial-velocity peak, a median beat is formed per lead, and
global fiducials are found on multi-lead curves:

* QRS onset / offset (J point): the spatial velocity falls below a fraction of its QRS
  maximum for a sustained run (slope-threshold method on the multi-lead velocity, as
  in the CSE-style global delineation of Laguna et al., Comput Biomed Res 1994;27:45).
* T peak / offset: dominant principal component of the ST-T segment; offset by the
  trapezium-area method of Zhang et al., IEEE TBME 2006;53:2544 (vasquez-like, robust
  to T morphology).
* P wave: dominant principal component of the PR region after linear detrending; onset
  and offset where it falls below a fraction of its peak.

The fractions below are technical detection constants calibrated on the public LUDB
training half (figures in docs/twelve_lead.md), not clinical thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import uniform_filter1d

from ecg_core.delineation.preprocess import spatial_velocity

__all__ = [
    "DelineationParams",
    "Fiducials",
    "MedianBeat",
    "build_median_beat",
    "delineate_beat",
    "median_over_beats",
    "pooled_windows",
    "qrs_t_bounds",
    "qrst_dispersion_mv",
]


#: The T wave ends before this fraction of the RR interval after R (QT < RR).
_T_END_MAX_RR = 0.72


@dataclass(frozen=True)
class DelineationParams:
    """Technical constants of the delineator (not clinical thresholds).

    Attributes
    ----------
    qrs_on_frac, qrs_off_frac : float
        Fraction of (QRS velocity peak - floor) under which the QRS has started / ended.
    run_s : float
        The velocity must stay below threshold this long, s.
    t_area_window_s : float
        Window of the Zhang trapezium-area T-offset detector, s.
    p_frac : float
        P onset/offset where the P component falls below this fraction of its peak.
    p_min_mv : float
        Smallest P-wave component amplitude accepted as a P wave, mV.
    t_lead_min_mv : float
        A lead whose T wave is smaller than this takes the global T fiducials, mV.
    lead_off_frac : float
        Fraction of a lead's own (QRS slope peak - floor) under which that lead's QRS
        has ended (its own J point, never before the global QRS offset).
    lead_off_max_s : float
        A lead's J point is at most this long after the global QRS offset, s.
    """

    qrs_on_frac: float = 0.07
    qrs_off_frac: float = 0.10
    run_s: float = 0.012
    t_area_window_s: float = 0.09
    p_frac: float = 0.12
    p_min_mv: float = 0.03
    t_lead_min_mv: float = 0.05
    lead_off_frac: float = 0.10
    lead_off_max_s: float = 0.04


@dataclass(frozen=True)
class Fiducials:
    """Global fiducials as sample offsets from the aligned R (negative before R).

    ``None`` when the wave was not found (P absent, T not found). ``t_peak_lead`` and
    ``t_off_lead`` hold each lead's own T peak and offset (the global ones where a lead's
    T wave is too small to delineate), empty when no T wave was found. ``qrs_off_lead``
    holds each lead's own QRS end (J point): the first point at or after the global QRS
    offset where that lead's slope has settled, at most ``lead_off_max_s`` later.
    """

    qrs_on: int
    qrs_off: int
    p_on: int | None = None
    p_peak: int | None = None
    p_off: int | None = None
    t_peak: int | None = None
    t_off: int | None = None
    p_amp_mv: float = 0.0
    t_peak_lead: tuple[int, ...] = ()
    t_off_lead: tuple[int, ...] = ()
    qrs_off_lead: tuple[int, ...] = ()


@dataclass(frozen=True)
class MedianBeat:
    """Median beat of every lead.

    Attributes
    ----------
    beat_mv : ndarray, shape (n_leads, n_window)
        Median over beats of the band-passed ECG, mV.
    r_pos : int
        Index of the aligned R inside the window.
    fs_hz : float
        Sampling rate, Hz.
    n_beats : int
        Beats in the median.
    residual_rms_mv : ndarray, shape (n_leads,)
        Median over beats of the RMS difference beat - median beat (noise estimate), mV.
    """

    beat_mv: NDArray[np.float64]
    r_pos: int
    fs_hz: float
    n_beats: int
    residual_rms_mv: NDArray[np.float64]


def beat_windows(
    filtered_mv: NDArray[np.float64], r_idx: NDArray[np.intp], pre: int, post: int
) -> NDArray[np.float64]:
    """Stack of beat windows ``[r - pre, r + post)``; caller ensures they fit.

    Parameters
    ----------
    filtered_mv : ndarray, shape (n_leads, n_samples)
        Band-passed ECG, mV.
    r_idx : ndarray of intp, shape (n_beats,)
        Aligned R indices with ``pre <= r`` and ``r + post <= n_samples``.
    pre, post : int
        Samples before and after R.

    Returns
    -------
    ndarray, shape (n_beats, n_leads, pre + post)
        Beat windows, mV.
    """
    idx = r_idx[:, None] + np.arange(-pre, post)[None, :]
    return np.transpose(filtered_mv[:, idx], (1, 0, 2))


#: Up to this many beats the median is taken with a sorting network of element-wise
#: minima / maxima (n passes of odd-even transposition), faster than ``np.sort`` along a
#: strided axis for the few beats of a 10 s record (4 beats: 0.04 vs 0.33 ms for 12 leads x
#: 700 samples; break-even near 13).
_NETWORK_MAX_BEATS = 12


def median_over_beats(wins: NDArray[np.float64]) -> NDArray[np.float64]:
    """Median along the first axis of finite data, equal to ``np.median(wins, axis=0)``.

    The same order statistics (the middle value, or the mean of the two middle values
    ``(a + b) / 2`` as ``np.median`` computes it), taken from a sorting network of
    element-wise minima and maxima for up to :data:`_NETWORK_MAX_BEATS` beats, else from
    a sort along the beat axis: for the few beats of a resting ECG this is 2-10 times
    faster than ``np.median``'s partition over a strided axis.

    Parameters
    ----------
    wins : ndarray, shape (n_beats, ...)
        Finite values (NaN would not propagate as in ``np.median``), ``n_beats >= 1``.

    Returns
    -------
    ndarray, shape (...)
        Median over beats.
    """
    n = wins.shape[0]
    if n == 0:
        out0: NDArray[np.float64] = np.median(wins, axis=0)
        return out0
    k = n // 2
    if n <= _NETWORK_MAX_BEATS:
        rows = [wins[i] for i in range(n)]
        for p in range(n):  # odd-even transposition sort: n passes sort n values
            for i in range(p % 2, n - 1, 2):
                a, b = rows[i], rows[i + 1]
                rows[i], rows[i + 1] = np.minimum(a, b), np.maximum(a, b)
        lo, hi = rows[k - 1], rows[k]
    else:
        srt = np.sort(wins, axis=0)
        lo, hi = srt[k - 1], srt[k]
    out: NDArray[np.float64] = np.array(hi, dtype=np.float64) if n % 2 else (lo + hi) / 2.0
    return out


def pooled_windows(
    filtered_mv: NDArray[np.float64], r_idx: NDArray[np.intp], pre: int, post: int
) -> NDArray[np.float64]:
    """Windows of the beats that fit in the record (the first beat, edge-padded, if none).

    Parameters
    ----------
    filtered_mv : ndarray, shape (n_leads, n_samples)
        Band-passed ECG, mV.
    r_idx : ndarray of intp, shape (n_beats,)
        Aligned R indices, n_beats >= 1.
    pre, post : int
        Window samples before and after R.

    Returns
    -------
    ndarray, shape (n_fitting, n_leads, pre + post)
        Beat windows, mV.
    """
    n = filtered_mv.shape[-1]
    ok = (r_idx >= pre) & (r_idx + post <= n)
    use = r_idx[ok] if ok.any() else r_idx[:0]
    if use.size == 0:  # not one whole window: pad the record instead
        padded = np.pad(filtered_mv, ((0, 0), (pre, post)), mode="edge")
        return beat_windows(padded, np.asarray(r_idx[:1] + pre, dtype=np.intp), pre, post)
    return beat_windows(filtered_mv, use, pre, post)


def build_median_beat(
    filtered_mv: NDArray[np.float64],
    r_idx: NDArray[np.intp],
    *,
    fs_hz: float,
    pre: int,
    post: int,
) -> MedianBeat:
    """Median beat of the beats whose window fits in the record.

    Parameters
    ----------
    filtered_mv : ndarray, shape (n_leads, n_samples)
        Band-passed ECG, mV.
    r_idx : ndarray of intp, shape (n_beats,)
        Aligned R indices of the beats to pool (dominant morphology only), n_beats >= 1.
    fs_hz : float
        Sampling rate, Hz.
    pre, post : int
        Window samples before and after R.

    Returns
    -------
    MedianBeat
        Median beat and residual noise per lead.
    """
    wins = pooled_windows(filtered_mv, r_idx, pre, post)
    med = median_over_beats(wins)
    resid = np.sqrt(np.mean((wins - med[None]) ** 2, axis=-1))
    return MedianBeat(
        beat_mv=med,
        r_pos=pre,
        fs_hz=fs_hz,
        n_beats=int(wins.shape[0]),
        residual_rms_mv=np.median(resid, axis=0),
    )


#: The noise span starts this long before QRS onset: the PR baseline (20-4 ms before
#: onset) that every ST level is measured against, s.
_NOISE_PRE_ONSET_S = 0.02
#: Without a T offset, the span ends this long after the QRS offset, s.
_NOISE_NO_T_S = 0.30
#: A beat whose own span (clipped at its neighbours) is shorter than this is not used, s.
_NOISE_MIN_SPAN_S = 0.10


def qrst_dispersion_mv(
    filtered_mv: NDArray[np.float64],
    r_all: NDArray[np.intp],
    pooled: NDArray[np.bool_],
    median: MedianBeat,
    fid: Fiducials,
) -> NDArray[np.float64]:
    """Per-lead noise: beat-to-median RMS over each beat's own PR-ST-T, median over beats.

    Noise is what differs between repeated beats of one morphology where the beat is
    measured. The span of beat *i* runs from 20 ms before its QRS onset (the PR baseline
    of the ST levels) to its T offset, clipped after the previous beat's T offset and
    before the next beat's QRS onset. A fixed window around R would also hold the
    neighbouring beats' QRS and ST-T at positions that move with RR: in atrial
    fibrillation or flutter a large, stable ST-T (e.g. an acute ST elevation) would then
    read as noise, and so would a clean lead with a tall QRS next to a premature beat.
    The QRS itself (onset to offset) is left out: there the residual is the QRS slope
    times the beats' alignment jitter of a sample or two (0.1-0.2 mV on a 5 mV QRS at
    500 Hz) and respiratory amplitude change, not noise; muscle, mains or motion noise
    cover the whole beat and show in the PR and ST-T samples. The median over beats of
    the per-beat RMS is robust to a few artefact beats (breakdown point 50 %).

    Parameters
    ----------
    filtered_mv : ndarray, shape (n_leads, n_samples)
        Band-passed ECG, mV.
    r_all : ndarray of intp, shape (n_beats,)
        Aligned R of every beat (the neighbours that clip the spans), increasing.
    pooled : ndarray of bool, shape (n_beats,)
        Beats pooled into ``median`` (the ones whose dispersion is measured).
    median : MedianBeat
        Median beat of the pooled beats.
    fid : Fiducials
        Fiducials of the median beat (offsets from R).

    Returns
    -------
    ndarray, shape (n_leads,)
        Noise per lead, mV; ``median.residual_rms_mv`` (the whole-window residual) when no
        beat has a usable span.
    """
    fs = median.fs_hz
    pre = median.r_pos
    post = median.beat_mv.shape[-1] - pre
    n = filtered_mv.shape[-1]
    t_end = fid.t_off if fid.t_off is not None else fid.qrs_off + int(_NOISE_NO_T_S * fs)
    lo0 = max(-pre, fid.qrs_on - int(_NOISE_PRE_ONSET_S * fs))
    hi0 = min(post, t_end + 1)
    idx = np.flatnonzero(pooled & (r_all >= pre) & (r_all + post <= n))
    if idx.size == 0 or hi0 <= lo0:
        return median.residual_rms_mv
    r = r_all[idx]
    prev_end = np.where(idx > 0, r_all[np.maximum(idx - 1, 0)] - r + t_end + 1, lo0)
    nxt = np.minimum(idx + 1, r_all.size - 1)
    next_on = np.where(idx + 1 < r_all.size, r_all[nxt] - r + fid.qrs_on, hi0)
    lo = np.maximum(lo0, prev_end)
    hi = np.minimum(hi0, next_on)
    ok = (hi - lo) >= int(_NOISE_MIN_SPAN_S * fs)
    if not ok.any():
        return median.residual_rms_mv
    r, lo, hi = r[ok], lo[ok], hi[ok]
    offs = np.arange(lo0, hi0)
    outside_qrs = (offs < fid.qrs_on) | (offs > fid.qrs_off)
    mask = (offs[None, :] >= lo[:, None]) & (offs[None, :] < hi[:, None]) & outside_qrs[None, :]
    wins = beat_windows(filtered_mv, r, -lo0, hi0)  # (beats, leads, m)
    ref = median.beat_mv[:, pre + lo0 : pre + hi0]
    sq = ((wins - ref[None]) ** 2) * mask[:, None, :]
    rms = np.sqrt(sq.sum(axis=-1) / mask.sum(axis=-1)[:, None])  # (beats, leads)
    out: NDArray[np.float64] = np.median(rms, axis=0)
    return out


def _sustained_below(below: NDArray[np.bool_], run: int) -> NDArray[np.bool_]:
    """True at i when below[i : i + run] are all True."""
    c = np.concatenate([[0], np.cumsum(below.astype(np.int64))])
    n = below.size
    out = np.zeros(n, dtype=bool)
    if run <= n:
        out[: n - run + 1] = (c[run:] - c[: n - run + 1]) == run
    return out


def _qrs_bounds(
    beat_mv: NDArray[np.float64], r_pos: int, fs_hz: float, prm: DelineationParams
) -> tuple[int, int]:
    v = spatial_velocity(beat_mv, fs_hz=fs_hz)
    n = v.size
    lo = max(0, r_pos - int(0.16 * fs_hz))
    hi = min(n, r_pos + int(0.20 * fs_hz))
    core = slice(max(0, r_pos - int(0.05 * fs_hz)), min(n, r_pos + int(0.05 * fs_hz)))
    vmax = float(v[core].max())
    floor = float(np.percentile(v, 10))
    run = max(2, round(prm.run_s * fs_hz))
    thr_on = floor + prm.qrs_on_frac * (vmax - floor)
    thr_off = floor + prm.qrs_off_frac * (vmax - floor)
    # onset: last sustained sub-threshold run ending before R
    below_on = _sustained_below(v[lo:r_pos] < thr_on, run)
    cand = np.flatnonzero(below_on)
    on = lo + int(cand[-1]) + run - 1 if cand.size else lo
    below_off = _sustained_below(v[r_pos:hi] < thr_off, run)
    cand = np.flatnonzero(below_off)
    off = r_pos + int(cand[0]) if cand.size else hi - 1
    return on, off


def _lead_qrs_ends(
    beat_mv: NDArray[np.float64], on: int, off: int, fs_hz: float, prm: DelineationParams
) -> NDArray[np.intp]:
    """Each lead's J point: its slope stays under its own threshold from there on.

    The global offset ends the QRS of the lead that ends first only when all leads end
    together; a lead whose terminal QRS is still returning to the ST level (e.g. a slow
    terminal S) would be measured on the QRS, not the ST segment.
    """
    d = np.abs(np.diff(beat_mv, axis=-1, prepend=beat_mv[:, :1])) * fs_hz
    d = uniform_filter1d(d, max(1, int(0.008 * fs_hz)), axis=-1)
    vmax = d[:, on : off + 1].max(axis=1)
    floor = np.percentile(d, 10, axis=1)
    thr = floor + prm.lead_off_frac * (vmax - floor)
    run = max(2, round(prm.run_s * fs_hz))
    cap = int(prm.lead_off_max_s * fs_hz)
    seg = d[:, off : min(d.shape[1], off + cap + run)] < thr[:, None]
    c = np.concatenate([np.zeros((seg.shape[0], 1), np.int64), np.cumsum(seg, axis=1)], axis=1)
    m = seg.shape[1] - run + 1
    if m <= 0:
        return np.full(beat_mv.shape[0], off, dtype=np.intp)
    settled = (c[:, run : run + m] - c[:, :m]) == run
    first = np.where(settled.any(axis=1), np.argmax(settled, axis=1), min(cap, m - 1))
    out: NDArray[np.intp] = (off + first).astype(np.intp)
    return out


def _principal(segment: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit lead-weight vector of the dominant component of (n_leads, m) data."""
    u, _, _ = np.linalg.svd(segment, full_matrices=False)
    w: NDArray[np.float64] = u[:, 0]
    return w


def _t_wave(
    base_mv: NDArray[np.float64], off: int, limit: int, fs_hz: float, prm: DelineationParams
) -> tuple[int | None, int | None]:
    start = off + int(0.04 * fs_hz)
    end = min(base_mv.shape[-1] - 1, limit)
    if end - start < int(0.12 * fs_hz):
        return None, None
    seg = base_mv[:, start:end]
    w = _principal(seg)
    t_sig = w @ seg
    if abs(t_sig.min()) > abs(t_sig.max()):
        t_sig = -t_sig
    peak_lo = int(0.04 * fs_hz)  # T peak not in the first 80 ms after J
    peak = peak_lo + int(
        np.argmax(t_sig[peak_lo : max(peak_lo + 1, t_sig.size - int(0.05 * fs_hz))])
    )
    win = max(2, int(prm.t_area_window_s * fs_hz))
    stop = min(t_sig.size, peak + int(0.30 * fs_hz))
    cs = np.concatenate([[0.0], np.cumsum(t_sig)])
    tt = np.arange(peak + 1, stop)
    left = np.maximum(tt - win + 1, peak)
    area = (cs[tt + 1] - cs[left]) - (tt - left + 1) * t_sig[tt]
    if tt.size == 0:
        return start + peak, None
    t_end = int(tt[int(np.argmax(area))])
    return start + peak, start + t_end


def _zhang_end(
    sig: NDArray[np.float64], peak: NDArray[np.intp], win: int, reach: int
) -> NDArray[np.intp]:
    """Trapezium-area T end per row of ``sig`` (n_rows, m) after ``peak`` (n_rows,)."""
    rows, m = sig.shape
    cs = np.concatenate([np.zeros((rows, 1)), np.cumsum(sig, axis=1)], axis=1)
    tt = peak[:, None] + 1 + np.arange(reach)[None, :]
    valid = tt < m
    tt = np.minimum(tt, m - 1)
    left = np.maximum(tt - win + 1, peak[:, None])
    r_ix = np.arange(rows)[:, None]
    area = (cs[r_ix, tt + 1] - cs[r_ix, left]) - (tt - left + 1) * sig[r_ix, tt]
    area = np.where(valid, area, -np.inf)
    return np.asarray(tt[np.arange(rows), np.argmax(area, axis=1)], dtype=np.intp)


def _lead_t_waves(
    base_mv: NDArray[np.float64],
    off: int,
    limit: int,
    fs_hz: float,
    prm: DelineationParams,
    t_peak: int,
    t_off: int,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    start = off + int(0.04 * fs_hz)
    end = min(base_mv.shape[-1] - 1, limit)
    seg = base_mv[:, start:end]
    # each lead's T extreme within +-80 ms of the global T peak
    h = int(0.08 * fs_hz)
    gp = t_peak - start
    lo, hi = max(0, gp - h), min(seg.shape[1], gp + h + 1)
    pick = lo + np.argmax(np.abs(seg[:, lo:hi]), axis=1)
    sign = np.sign(seg[np.arange(seg.shape[0]), pick])
    amp = np.abs(seg[np.arange(seg.shape[0]), pick])
    ends = _zhang_end(
        seg * sign[:, None], pick, max(2, int(prm.t_area_window_s * fs_hz)), int(0.3 * fs_hz)
    )
    # a lead's own T end is kept only near the global one (single-lead ends are fragile)
    small = (amp < prm.t_lead_min_mv) | (np.abs(start + ends - t_off) > int(0.04 * fs_hz))
    peaks_out = np.where(small, t_peak, start + pick)
    ends_out = np.where(small, t_off, start + ends)
    return tuple(int(v) for v in peaks_out), tuple(int(v) for v in ends_out)


def _p_wave(
    beat_mv: NDArray[np.float64],
    on: int,
    earliest: int,
    fs_hz: float,
    prm: DelineationParams,
    noise_mv: float,
) -> tuple[int | None, int | None, int | None, float]:
    end = on - int(0.01 * fs_hz)
    start = max(0, on - int(0.40 * fs_hz), earliest)
    if end - start < int(0.08 * fs_hz):
        return None, None, None, 0.0
    seg = beat_mv[:, start:end]
    edge = max(1, int(0.01 * fs_hz))
    a = seg[:, :edge].mean(axis=1, keepdims=True)
    b = seg[:, -edge:].mean(axis=1, keepdims=True)
    ramp = np.linspace(0.0, 1.0, seg.shape[1])[None, :]
    det = seg - (a + (b - a) * ramp)
    w = _principal(det)
    p_sig = w @ det
    if abs(p_sig.min()) > abs(p_sig.max()):
        p_sig = -p_sig
    peak = int(np.argmax(p_sig))
    amp = float(p_sig[peak])
    if amp < max(prm.p_min_mv, 3.0 * noise_mv):
        return None, None, None, amp
    reach = int(0.12 * fs_hz)  # P half-widths are < 120 ms
    left = p_sig[max(0, peak - reach) : peak + 1]
    right = p_sig[peak : peak + reach + 1]
    lvl_l = left.min() + prm.p_frac * (amp - left.min())
    lvl_r = right.min() + prm.p_frac * (amp - right.min())
    before = np.flatnonzero(left < lvl_l)
    after = np.flatnonzero(right < lvl_r)
    p_on = peak - left.size + 1 + (int(before[-1]) + 1 if before.size else 0)
    p_off = peak + int(after[0]) - 1 if after.size else peak + right.size - 1
    dur_s = (p_off - p_on) / fs_hz
    if not 0.03 <= dur_s <= 0.20:
        return None, None, None, amp
    return start + p_on, start + peak, start + p_off, amp


@dataclass(frozen=True)
class _QrsT:
    """QRS bounds and global T wave of a beat (window indices).

    The first steps of :func:`delineate_beat`.
    """

    on: int
    off: int
    base_mv: NDArray[np.float64]
    rr: int | None
    t_limit: int
    t_peak: int | None
    t_off: int | None


def _qrs_and_t(
    beat_mv: NDArray[np.float64],
    r_pos: int,
    fs_hz: float,
    rr_s: float | None,
    prm: DelineationParams,
) -> _QrsT:
    on, off = _qrs_bounds(beat_mv, r_pos, fs_hz, prm)
    k = max(1, int(0.01 * fs_hz))
    base = beat_mv - beat_mv[:, max(0, on - 2 * k) : max(1, on - k // 2)].mean(
        axis=1, keepdims=True
    )
    n = beat_mv.shape[-1]
    rr = int(rr_s * fs_hz) if rr_s is not None and np.isfinite(rr_s) else None
    t_limit = n - 1 if rr is None else r_pos + int(_T_END_MAX_RR * rr)
    t_peak, t_off = _t_wave(base, off, t_limit, fs_hz, prm)
    return _QrsT(on, off, base, rr, t_limit, t_peak, t_off)


def qrs_t_bounds(
    beat_mv: NDArray[np.float64],
    r_pos: int,
    *,
    fs_hz: float,
    rr_s: float | None = None,
    params: DelineationParams | None = None,
) -> tuple[int, int, int | None, int | None]:
    """QRS onset and offset, global T peak and offset of a beat, as :func:`delineate_beat`.

    The same computation as those fields of :func:`delineate_beat` (which does this
    first), without the per-lead T waves, P wave and per-lead J points.

    Parameters
    ----------
    beat_mv : ndarray, shape (n_leads, n_window)
        Band-passed beat, mV, R at ``r_pos``.
    r_pos : int
        Index of R in the window.
    fs_hz : float
        Sampling rate, Hz.
    rr_s : float, optional
        Median RR interval, s (bounds the T search).
    params : DelineationParams, optional
        Technical constants.

    Returns
    -------
    (int, int, int or None, int or None)
        ``qrs_on, qrs_off, t_peak, t_off``, samples from R (T fiducials None when no T
        wave is found).
    """
    qt = _qrs_and_t(beat_mv, r_pos, fs_hz, rr_s, params or DelineationParams())
    return (
        qt.on - r_pos,
        qt.off - r_pos,
        None if qt.t_peak is None else qt.t_peak - r_pos,
        None if qt.t_off is None else qt.t_off - r_pos,
    )


def delineate_beat(
    beat_mv: NDArray[np.float64],
    r_pos: int,
    *,
    fs_hz: float,
    rr_s: float | None = None,
    noise_mv: float = 0.0,
    params: DelineationParams | None = None,
) -> Fiducials:
    """Global fiducials of one (median or single) multi-lead beat.

    Parameters
    ----------
    beat_mv : ndarray, shape (n_leads, n_window)
        Band-passed beat, mV, R at ``r_pos``.
    r_pos : int
        Index of R in the window.
    fs_hz : float
        Sampling rate, Hz.
    rr_s : float, optional
        Median RR interval, s: bounds the T search (up to 72 % of RR after R) and the
        P search (after the previous beat's T offset).
    noise_mv : float
        Noise level (residual RMS) below which no P wave is accepted, mV.
    params : DelineationParams, optional
        Technical constants (defaults calibrated on LUDB).

    Returns
    -------
    Fiducials
        Offsets from R in samples.
    """
    prm = params or DelineationParams()
    qt = _qrs_and_t(beat_mv, r_pos, fs_hz, rr_s, prm)
    on, off, base, rr, t_limit = qt.on, qt.off, qt.base_mv, qt.rr, qt.t_limit
    t_peak, t_off = qt.t_peak, qt.t_off
    t_peak_lead: tuple[int, ...] = ()
    t_off_lead: tuple[int, ...] = ()
    if t_peak is not None and t_off is not None:
        t_peak_lead, t_off_lead = _lead_t_waves(base, off, t_limit, fs_hz, prm, t_peak, t_off)
    earliest = 0
    if rr is not None:
        prev_t_end = (t_off if t_off is not None else r_pos + int(0.6 * rr)) - rr
        earliest = prev_t_end + int(0.02 * fs_hz)
    p_on, p_peak, p_off, p_amp = _p_wave(beat_mv, on, earliest, fs_hz, prm, noise_mv)
    lead_off = _lead_qrs_ends(beat_mv, on, off, fs_hz, prm)

    def rel(i: int | None) -> int | None:
        return None if i is None else i - r_pos

    return Fiducials(
        qrs_on=on - r_pos,
        qrs_off=off - r_pos,
        p_on=rel(p_on),
        p_peak=rel(p_peak),
        p_off=rel(p_off),
        t_peak=rel(t_peak),
        t_off=rel(t_off),
        p_amp_mv=p_amp,
        t_peak_lead=tuple(i - r_pos for i in t_peak_lead),
        t_off_lead=tuple(i - r_pos for i in t_off_lead),
        qrs_off_lead=tuple(int(i) - r_pos for i in lead_off),
    )
