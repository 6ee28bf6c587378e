"""Atrial flutter (AFL) from the atrial residual after QRS blanking.

Typical (cavotricuspid-isthmus) atrial flutter is a macro-reentrant atrial rhythm with
regular atrial activity at 240-340 /min (4-5.7 Hz; atypical flutter 200-350 /min),
seen as a "sawtooth" without isoelectric baseline in II, III, aVF and V1, conducted
to the ventricles at a fixed (2:1, 4:1) or variable ratio (ESC 2019 SVT guideline,
Brugada et al., Eur Heart J 2020;41:655; ACC/AHA/HRS 2015 SVT guideline, Page et al.,
Circulation 2016;133:e506). A regular 2:1 flutter at 150 /min or 4:1 at 75 /min has a
regular ventricular response, so RR-based AF detection cannot see it.

Method (frequency-domain analysis of the atrial activity left after the ventricular
activity is removed: dominant atrial frequency, Holm, Pehrson, Ingemansson et al.,
Cardiovasc Res 1998;38:69; QRST removal, Stridh & Sornmo, IEEE TBME 2001;48:105):

1. Each lead is decimated to ~50 Hz (block means); after step 2 it is band-passed 1-20 Hz.
2. The QRS complexes (R - 50 ms .. R + 80 ms) are blanked and bridged linearly (before
   the band-pass, so the filter does not ring after each QRS). The QRS
   is removed by blanking, not by subtracting a median beat: with fixed 2:1 or 4:1
   conduction the flutter waves are locked to the QRS and a median-beat template would
   cancel them too (Stridh & Sornmo 2001).
3. Windows of ``window_s`` (8 s, every 4 s): Hann-windowed spectrum of the residual;
   the dominant peak in ``min_rate_hz``-``max_rate_hz`` (F), its *concentration* (share
   of the 1-20 Hz power within +-0.35 Hz of F and of its 2nd harmonic: the sawtooth is
   not sinusoidal) and its *dominance* (peak power over the largest power elsewhere,
   away from F and 2F). AF's fibrillatory waves give a broad spectrum (low
   concentration); sinus rhythm leaves P and T waves whose power sits at the heart
   rate and below.
4. A window is flutter-like when at least ``min_leads`` leads (every lead of a record
   with fewer) agree on F within ``max_lead_freq_diff_hz`` with concentration and
   dominance above their limits (a maximum on the band edge is no peak), the atrial
   rate is at least ``min_av_ratio`` x the ventricular rate (no 1:1 conduction:
   ventricular activity at the atrial rate is not flutter waves; it is left to the
   VF/VT and SVT detectors) and ``min_conducted_fraction`` of its beats are N/S.
5. Episodes: runs of >= ``min_windows`` flutter-like windows whose F stays within
   ``max_freq_sd_hz`` (stability), or every window of a record too short for that
   run (a 10 s 12-lead ECG has one window); AF, VF and noise spans are taken out
   (AF takes precedence over AFL, see :func:`flutter_episodes`).

Thresholds are algorithm parameters (:class:`FlutterParams`), set by looking at LUDB
(public half), MIT-BIH and CPSC 2021 (docs/rhythm.md, "Atrial flutter"); the clinical
rule is in the profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.signal as ss
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ecg_core.rhythm.intervals import close_gaps, drop_short, true_runs
from ecg_core.types import BeatSeries

__all__ = [
    "FlutterEpisodes",
    "FlutterParams",
    "FlutterTrace",
    "flutter_episodes",
    "flutter_trace",
    "subtract_spans",
]

_BLOCK_WINDOWS = 512  # windows per FFT block (bounded memory on 24 h records)


@dataclass(frozen=True)
class FlutterParams:
    """Algorithm parameters of the flutter detector.

    Attributes
    ----------
    target_fs_hz : float
        Sampling rate of the residual (flutter waves lie below 12 Hz with their 2nd
        harmonic).
    blank_before_ms, blank_after_ms : float
        QRS blanking around each R peak, ms (a narrow QRS plus the 20 ms decimation
        blocks). Short on purpose: at 2:1 conduction every blanked interval also removes
        flutter waves (R-60..+100 ms blanks 40 % of a 400 ms RR and the bridges'
        distortion, at the ventricular rate, outweighed the flutter peak on LUDB 35 and on
        synthetic 2:1 flutter; R-50..+80 ms and R-40..+70 ms find it, with the same false
        calls on LUDB, MIT-BIH and CPSC 2021: none). Wide QRS remnants are kept out by
        ``min_conducted_fraction`` only for V beats; bundle-branch block beats are not.
    window_s, step_s : float
        Spectral window and step, s (8 s: 0.125 Hz resolution, >= 32 flutter cycles).
    min_rate_hz, max_rate_hz : float
        Band searched for the flutter peak: 3.3-6.2 Hz = 200-370 /min (atypical flutter
        200-350 /min, ESC 2019 SVT guideline, with margin for the spectral resolution).
    peak_halfwidth_hz : float
        Half-width of the peak (and of its 2nd harmonic) for the concentration.
    min_concentration, min_dominance : float
        Limits a lead must reach (multi-lead records).
    single_lead_min_concentration, single_lead_min_dominance : float
        Stricter limits when the record has a single lead (no agreement between leads
        to lean on).
    min_leads : int
        Leads that must agree (capped at the number of leads).
    max_lead_freq_diff_hz : float
        Agreeing leads' F within this of the best lead's, Hz.
    min_av_ratio : float
        Atrial rate / ventricular rate at least this (2:1 = 2; 1:1 conduction, or
        ventricular activity at the "atrial" rate, excluded).
    min_conducted_fraction : float
        Share of the window's beats that must be supraventricular or normal (``N``,
        ``S``); windows of ventricular (``V``, ``F``) or unclassifiable (``Q``) beats
        are not judged: a wide QRS outlasts the blanking and its remnant repeats at the
        ventricular rate, with harmonics in the flutter band.
    min_windows : int
        Consecutive flutter-like windows for an episode (3 windows = 16 s).
    max_freq_sd_hz : float
        Standard deviation of F over an episode's windows at most this, Hz (flutter's
        cycle length is stable, AF's dominant frequency wanders).
    merge_gap_s, min_episode_s : float
        Gaps bridged and shortest episode kept, s (as the AF detector; a record shorter
        than ``min_episode_s`` keeps an episode over >= 80 % of it).
    """

    target_fs_hz: float = 50.0
    blank_before_ms: float = 50.0
    blank_after_ms: float = 80.0
    window_s: float = 8.0
    step_s: float = 4.0
    min_rate_hz: float = 3.3
    max_rate_hz: float = 6.2
    peak_halfwidth_hz: float = 0.35
    min_concentration: float = 0.4
    min_dominance: float = 2.5
    single_lead_min_concentration: float = 0.5
    single_lead_min_dominance: float = 3.5
    min_leads: int = 2
    max_lead_freq_diff_hz: float = 0.25
    min_av_ratio: float = 1.5
    min_conducted_fraction: float = 0.8
    min_windows: int = 3
    max_freq_sd_hz: float = 0.25
    merge_gap_s: float = 4.0
    min_episode_s: float = 10.0


@dataclass(frozen=True)
class FlutterTrace:
    """Per-window flutter statistics of one record.

    Attributes
    ----------
    t_s : ndarray, shape (n_windows,)
        Window start times, s (each window lasts ``window_s``).
    window_s : float
        Window length, s.
    f_hz : ndarray, shape (n_windows,)
        Dominant atrial frequency of the best lead, Hz.
    n_leads : ndarray of intp, shape (n_windows,)
        Leads agreeing on a flutter peak.
    concentration, dominance : ndarray, shape (n_windows,)
        Values of the best lead.
    ventricular_bpm : ndarray, shape (n_windows,)
        Median ventricular rate in the window, /min (NaN with < 2 beats).
    flutter_like : ndarray of bool, shape (n_windows,)
        Window meets the per-window criteria.
    """

    t_s: NDArray[np.float64]
    window_s: float
    f_hz: NDArray[np.float64]
    n_leads: NDArray[np.intp]
    concentration: NDArray[np.float64]
    dominance: NDArray[np.float64]
    ventricular_bpm: NDArray[np.float64]
    flutter_like: NDArray[np.bool_]


@dataclass(frozen=True)
class FlutterEpisodes:
    """AFL episodes with their rates.

    Attributes
    ----------
    onset_s, offset_s : ndarray, shape (n,)
        Episode bounds, s.
    atrial_bpm, ventricular_bpm : ndarray, shape (n,)
        Median flutter (atrial) and ventricular rates over the episode, /min.
    conduction_ratio : ndarray, shape (n,)
        Atrial / ventricular rate (2 for 2:1 conduction; non-integer: variable).
    """

    onset_s: NDArray[np.float64]
    offset_s: NDArray[np.float64]
    atrial_bpm: NDArray[np.float64]
    ventricular_bpm: NDArray[np.float64]
    conduction_ratio: NDArray[np.float64]


def _empty_trace(window_s: float) -> FlutterTrace:
    z = np.zeros(0)
    return FlutterTrace(z, window_s, z, np.zeros(0, np.intp), z, z, z, np.zeros(0, bool))


@lru_cache(maxsize=16)
def _band_sos(fs_hz: float) -> NDArray[np.float64]:
    """Order-2 Butterworth band-pass 1-20 Hz, cached per rate.

    Designing it costs more than filtering a 10 s record.
    """
    sos = ss.butter(2, [1.0, min(20.0, 0.45 * fs_hz)], btype="band", fs=fs_hz, output="sos")
    return np.asarray(sos, dtype=np.float64)


def _residual(
    signal_mv: NDArray[np.float64], r_idx: NDArray[np.intp], fs_hz: float, p: FlutterParams
) -> tuple[NDArray[np.float64], float]:
    """Decimated, band-passed signal with the QRS complexes blanked (linear bridges)."""
    k = max(1, round(fs_hz / p.target_fs_hz))
    n = signal_mv.shape[1] // k
    # block means of k samples: a cheap anti-alias low-pass (first null at fs/k, ~50 Hz;
    # what folds back is QRS energy, which is blanked below); ~10x cheaper than a
    # polyphase FIR on 24 h records
    x = signal_mv[:, 0 : n * k : k].copy()
    for j in range(1, k):  # k strided adds: faster than a reshaped mean over a short axis
        x += signal_mv[:, j : n * k : k]
    x /= k
    fs2 = fs_hz / k
    if n < 16:
        return np.asarray(x, dtype=np.float64), fs2
    r = np.round(r_idx / k).astype(np.int64)
    a = round(p.blank_before_ms * fs2 / 1000.0)
    b = round(p.blank_after_ms * fs2 / 1000.0) + 1
    delta = np.zeros(n + 1, dtype=np.int32)
    np.add.at(delta, np.clip(r - a, 0, n), 1)
    np.add.at(delta, np.clip(r + b, 0, n), -1)
    blank = np.cumsum(delta)[:n] > 0
    keep = np.flatnonzero(~blank)
    if keep.size < 2:
        return np.zeros_like(x), fs2
    gap = np.flatnonzero(blank)
    for lead in x:  # loop over leads: bridge the blanked samples linearly
        lead[gap] = np.interp(gap, keep, lead[keep])
    # band-pass after blanking: filtering the 1 mV QRS first would leave a slow undershoot
    # (the 1 Hz high-pass) locked to every beat, with harmonics at the ventricular rate.
    # Causal (spectra need no zero phase), started from the first sample (no DC step).
    sos = _band_sos(fs2)
    for i in range(x.shape[0]):  # per lead, in place: no second copy of a 24 h record
        x[i] = ss.sosfilt(sos, x[i] - x[i, 0])
    return np.asarray(x, dtype=np.float64), fs2


def flutter_trace(
    signal_mv: NDArray[np.float64],
    beats: BeatSeries,
    *,
    params: FlutterParams | None = None,
) -> FlutterTrace:
    """Spectral flutter statistics of the QRS-blanked residual, per window.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG in mV (no NaN).
    beats : BeatSeries
        Detected beats (R peaks are blanked; the ventricular rate is taken from them).
    params : FlutterParams, optional
        Detector parameters.

    Returns
    -------
    FlutterTrace
        Per-window values (empty when the record is shorter than 4 s).
    """
    p = params or FlutterParams()
    x = np.atleast_2d(np.asarray(signal_mv, dtype=np.float64))
    fs = beats.fs_hz
    if x.shape[1] < 4.0 * fs:
        return _empty_trace(p.window_s)
    res, fs2 = _residual(x, beats.r_idx, fs, p)
    n_leads, n = res.shape
    w = min(round(p.window_s * fs2), n)
    step = max(1, round(p.step_s * fs2))
    win_s = w / fs2
    starts = np.arange(0, n - w + 1, step)
    nfft = 1 << int(np.ceil(np.log2(max(w, 8 * fs2))))  # >= 0.125 Hz bins
    df = fs2 / nfft
    n_bins = nfft // 2 + 1
    lo_b = int(np.ceil(1.0 / df))  # the 1-20 Hz slice of the spectrum
    hi_b = min(int(20.0 / df), n_bins - 1)
    b_lo = int(np.ceil(p.min_rate_hz / df)) - lo_b  # flutter band, within the slice
    b_hi = min(int(p.max_rate_hz / df), hi_b) - lo_b
    h = max(1, round(p.peak_halfwidth_hz / df))
    m = hi_b - lo_b + 1
    hann = np.hanning(w)
    # (lead, window, w): basic slicing keeps it a view (an index array would copy ~200 MB
    # on 24 h x 3 leads)
    views = sliding_window_view(res, w, axis=1)[:, ::step, :]
    n_win = starts.size
    f_lead = np.zeros((n_leads, n_win))
    conc = np.zeros((n_leads, n_win))
    dom = np.zeros((n_leads, n_win))
    for b0 in range(0, n_win, _BLOCK_WINDOWS):  # blocks of windows, bounded memory
        seg = views[:, b0 : b0 + _BLOCK_WINDOWS, :]
        nb = seg.shape[1]
        seg = seg - seg.mean(axis=-1, keepdims=True)
        pw = np.abs(np.fft.rfft(seg * hann, nfft, axis=-1)[..., lo_b : hi_b + 1]) ** 2
        pk = np.argmax(pw[..., b_lo : b_hi + 1], axis=-1) + b_lo  # (lead, win), slice index
        cs = np.concatenate((np.zeros((*pw.shape[:-1], 1)), np.cumsum(pw, axis=-1)), axis=-1)
        # F and its 2nd harmonic (2 f = (2 pk + lo_b) df in slice bins)
        harm = _band_sum(cs, pk, h) + _band_sum(cs, 2 * pk + lo_b, h)
        conc[:, b0 : b0 + nb] = harm / (cs[..., -1] + 1e-18)
        # dominance: the peak over the largest bin away from F and 2F (+-2 half-widths)
        off = np.arange(-2 * h, 2 * h + 1)
        near = np.concatenate((pk[..., None] + off, (2 * pk + lo_b)[..., None] + off), axis=-1)
        rest = pw.copy()
        np.put_along_axis(rest, np.clip(near, 0, m - 1), 0.0, axis=-1)
        peak = np.take_along_axis(pw, pk[..., None], axis=-1)[..., 0]
        dom[:, b0 : b0 + nb] = peak / (rest.max(axis=-1) + 1e-18)
        f_lead[:, b0 : b0 + nb] = (pk + lo_b) * df
        # a maximum on the band edge is the slope of a peak outside the band: no flutter peak
        edge = (pk == b_lo) | (pk == b_hi)
        conc[:, b0 : b0 + nb][edge] = 0.0
    single = n_leads == 1
    c_min = p.single_lead_min_concentration if single else p.min_concentration
    d_min = p.single_lead_min_dominance if single else p.min_dominance
    ok_lead = (conc >= c_min) & (dom >= d_min)
    score = np.minimum(conc / c_min, dom / d_min)
    best = np.argmax(score, axis=0)
    cols = np.arange(n_win)
    f_best = f_lead[best, cols]
    agree = ok_lead & (np.abs(f_lead - f_best[None, :]) <= p.max_lead_freq_diff_hz)
    n_agree = agree.sum(axis=0).astype(np.intp)
    vent, conducted = _window_rates(beats, starts / fs2, win_s)
    ratio = f_best * 60.0 / vent
    # unknown ventricular rate (< 2 beats in 8 s: noise, asystole) is not flutter
    like = (n_agree >= min(p.min_leads, n_leads)) & (np.nan_to_num(ratio) >= p.min_av_ratio)
    like &= conducted >= p.min_conducted_fraction
    return FlutterTrace(
        t_s=np.asarray(starts / fs2, dtype=np.float64),
        window_s=win_s,
        f_hz=f_best,
        n_leads=n_agree,
        concentration=conc[best, cols],
        dominance=dom[best, cols],
        ventricular_bpm=vent,
        flutter_like=np.asarray(like, dtype=bool),
    )


def _band_sum(cs: NDArray[np.float64], c: NDArray[np.intp], h: int) -> NDArray[np.float64]:
    """Power in bins ``c - h .. c + h`` from the cumulative spectrum ``cs`` (leading 0)."""
    m = cs.shape[-1] - 1
    a = np.clip(c - h, 0, m)[..., None]
    z = np.clip(c + h + 1, 0, m)[..., None]
    return np.asarray((np.take_along_axis(cs, z, -1) - np.take_along_axis(cs, a, -1))[..., 0])


def _window_rates(
    beats: BeatSeries, start_s: NDArray[np.float64], win_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean ventricular rate (RRs inside / their span, /min) and share of N/S beats."""
    t = beats.r_idx.astype(np.float64) / beats.fs_hz
    if t.size < 2:
        return np.full(start_s.size, np.nan), np.zeros(start_s.size)
    lo = np.searchsorted(t, start_s)
    hi = np.searchsorted(t, start_s + win_s, side="right") - 1  # beats lo .. hi inside
    n_rr = hi - lo
    span = t[np.clip(hi, 0, t.size - 1)] - t[np.clip(lo, 0, t.size - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = 60.0 * n_rr / span
    ok = np.concatenate(([0], np.cumsum(np.isin(beats.label, ["N", "S"]))))
    n_beats = np.maximum(n_rr + 1, 1)
    conducted = (ok[np.clip(hi + 1, 0, t.size)] - ok[np.clip(lo, 0, t.size)]) / n_beats
    rate = np.where((n_rr >= 1) & (span > 0), rate, np.nan)
    return np.asarray(rate, dtype=np.float64), np.asarray(conducted, dtype=np.float64)


def subtract_spans(
    on: NDArray[np.float64],
    off: NDArray[np.float64],
    cut_on: NDArray[np.float64],
    cut_off: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Intervals ``[on, off]`` minus the union of ``[cut_on, cut_off]`` (sorted output)."""
    pieces: list[tuple[float, float]] = []
    order = np.argsort(cut_on)
    cuts = list(zip(cut_on[order].tolist(), cut_off[order].tolist(), strict=True))
    for a, b in zip(on.tolist(), off.tolist(), strict=True):  # few episodes and cuts
        cur = a
        for ca, cb in cuts:
            if cb <= cur or ca >= b:
                continue
            if ca > cur:
                pieces.append((cur, ca))
            cur = max(cur, cb)
        if cur < b:
            pieces.append((cur, b))
    pieces.sort()
    arr = np.asarray(pieces, dtype=np.float64).reshape(-1, 2)
    return arr[:, 0].copy(), arr[:, 1].copy()


def flutter_episodes(
    trace: FlutterTrace,
    *,
    duration_s: float,
    exclude_on: NDArray[np.float64] | None = None,
    exclude_off: NDArray[np.float64] | None = None,
    params: FlutterParams | None = None,
) -> FlutterEpisodes:
    """AFL episodes from the per-window decisions.

    Precedence: spans in ``exclude_on``/``exclude_off`` (the caller passes AF, VF and
    noise) are taken out of the flutter episodes. AF wins over AFL because the AF
    detector's evidence (irregular response, no P-wave locking) is the validated one
    (docs/rhythm.md); flutter with variable conduction that it calls AF stays AF (the
    same anticoagulation decision, ESC 2020), and AFL claims the regular spans it leaves.

    Parameters
    ----------
    trace : FlutterTrace
        Output of :func:`flutter_trace`.
    duration_s : float
        Record duration, s.
    exclude_on, exclude_off : ndarray, optional
        Spans that cannot be flutter, s.
    params : FlutterParams, optional
        Episode parameters.

    Returns
    -------
    FlutterEpisodes
        Episodes with median atrial and ventricular rates.
    """
    p = params or FlutterParams()
    z = np.zeros(0)
    like = trace.flutter_like
    if like.size == 0 or not like.any():
        return FlutterEpisodes(z, z, z, z, z)
    s, e = true_runs(like)  # runs of windows s .. e - 1
    short_record = like.size < p.min_windows
    on_l, off_l = [], []
    for a, b in zip(s.tolist(), (e - 1).tolist(), strict=True):  # few runs
        n = b - a + 1
        if n < p.min_windows and not (short_record and n == like.size):
            continue
        if n >= 2 and float(np.std(trace.f_hz[a : b + 1])) > p.max_freq_sd_hz:
            continue
        if short_record:  # every window of a short record (10 s ECG): the whole record
            on_l.append(0.0)
            off_l.append(duration_s)
            continue
        on_l.append(float(trace.t_s[a]))
        off_l.append(min(float(trace.t_s[b]) + trace.window_s, duration_s))
    on, off = np.asarray(on_l), np.asarray(off_l)
    on, off = close_gaps(on, off, max_gap=p.merge_gap_s)
    if exclude_on is not None and exclude_off is not None and exclude_on.size and on.size:
        on, off = subtract_spans(on, off, exclude_on, exclude_off)
    on, off = drop_short(on, off, min_len=min(p.min_episode_s, 0.8 * duration_s))
    atr, ven = np.full(on.size, np.nan), np.full(on.size, np.nan)
    mid = trace.t_s + trace.window_s / 2
    for i in range(on.size):  # few episodes
        inside = like & (mid >= on[i]) & (mid <= off[i])
        if not inside.any():
            inside = like & (trace.t_s < off[i]) & (trace.t_s + trace.window_s > on[i])
        atr[i] = 60.0 * float(np.median(trace.f_hz[inside]))
        v = trace.ventricular_bpm[inside]
        ven[i] = float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan
    return FlutterEpisodes(on, off, atr, ven, atr / ven)
