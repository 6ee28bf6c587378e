"""Ventricular flutter / fibrillation detection from the signal itself (not from QRS detection).

QRS detectors fail in VF, so this stage looks at short windows of the raw signal. The
signal is band-passed (1-20 Hz) and decimated to ~50 Hz (VF energy lies in 2-10 Hz),
then cut into windows of ``window_s`` (4 s, step 1 s) per lead. Per window and lead:

- ``conc``: spectral concentration, power within +-1 Hz of the dominant 2.5-9 Hz peak over
  the 1-20 Hz power (idea of the VF filter leakage, Kuo & Dillman 1978, and of spectral
  analysis, Barro et al. 1989): VF/VFL are near-sinusoidal, sinus rhythm has harmonics.
- ``hf``: share of 1-20 Hz power above 10 Hz: sharp QRS complexes and muscle noise have
  it, VF has almost none (Barro et al. 1989, "A2" high-frequency ratio).
- ``tcsc``: threshold-crossing sample count, share of samples with ``|x|`` above 30 % of
  the window's 95th percentile of ``|x|`` (Arafat, Chowdhury & Hasan, Med Biol Eng
  Comput 2011;49:1009): VF is busy all the time, sinus rhythm is mostly baseline.
- ``acmin``: depth of the first autocorrelation trough (0-0.4 s lag): strongly negative
  for oscillating VF/VT, shallow for QRS-T-baseline cycles (Chen et al., "VF detection
  by autocorrelation", IEEE TBME 1987).
- ``acmax``: highest autocorrelation at 0.15-0.7 s lag: a repeating organised complex
  (monomorphic VT) scores high, VF lower; used to tell VT from VF.
- ``cycle_cv``, ``cycle_hz`` (oscillating windows of candidate episodes): coefficient
  of variation and rate of the wave-to-wave intervals (peaks of the 1-20 Hz signal, the
  more regular polarity, the most regular lead). VF is chaotic; monomorphic VT keeps its
  cycle length within a few per cent (the cycle-length "stability" that ICD
  discriminators use to tell VT from irregular rhythms, Swerdlow et al., J Am Coll
  Cardiol 1994). Ventricular flutter is regular too: only a regular oscillation slower
  than any flutter (< 180 /min; flutter is usually quoted at 250-350 /min, and the
  MIT-BIH annotators call regular sine waves of 190-215 /min VFL, mitdb 207) is taken
  for VT.
- ``sharpness`` (same windows): steepest slope of the 1-40 Hz signal at the
  full sampling rate (99th percentile) over that of a sine wave of the same rate and
  peak-to-peak amplitude, smallest over leads. VF has no discrete QRS complexes (its
  definition), its waves are rounded (~1.5-2 x a sine); organised beats have a steep
  QRS followed by a slow T wave and score higher.

Features are averaged over leads, so noise in one lead does not raise the alarm on its
own. The comparison of such features by Amann, Tratnig & Unterkofler (BioMed Eng OnLine
2005;4:60) showed that single features are weak and combinations with short windows do
better; the thresholds below were set on the MIT-BIH vfdb subset in ../shared/ecg-data
(see docs/rhythm.md for the measured figures) and are algorithm parameters, not clinical
thresholds (the clinical rule is "VF present, any duration", in the rule profile).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.signal as ss
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ecg_core.rhythm.intervals import close_gaps, drop_short, true_runs

__all__ = [
    "VfParams",
    "VfTrace",
    "episode_organisation",
    "organised_vt_episodes",
    "quiet_episodes",
    "vf_episodes",
    "vf_trace",
]

_TARGET_FS_HZ = 50.0
_CHUNK_WINDOWS = 2048  # windows per block: bounds memory on 24 h recordings


@dataclass(frozen=True)
class VfParams:
    """Algorithm parameters of the VF detector (set on vfdb; see module docstring).

    Attributes
    ----------
    window_s, step_s : float
        Analysis window and step, s.
    min_amp_mv : float
        Below this 95th-percentile amplitude a window is too small for VF (fine VF /
        asystole boundary, AHA: fine VF < 0.1-0.2 mV is rarely seen on surface ECGs).
    max_hf, min_tcsc, max_acmin, min_conc : float
        VF-like window: little high-frequency power, busy, oscillating, concentrated.
    min_df_hz : float
        Oscillations slower than this (< 150 /min) are not VF/VFL (VF dominant
        frequency 3-10 Hz, Clayton et al., Cardiovasc Res 1993).
    vt_min_acmax, vt_max_df_hz, vt_min_amp_mv : float
        An oscillating window this periodic and this slow, or this large in every
        lead, is organised (VT-like), not VF/VFL (VF amplitude is mostly < 1 mV) --
        unless the large window is flutter (see ``vfl_max_sharpness``).
    vfl_max_sharpness : float
        A large window that is regular (``cycle_cv`` < ``vt_max_cycle_cv``), at least
        ``vfl_min_rate_hz`` fast and rounded (``sharpness`` below this) is the large
        sine wave of ventricular flutter, "no discernible QRS or T wave" (Goldberger,
        Clinical Electrocardiography), and stays VF/VFL whatever its amplitude (vfdb
        609: 1.9-2.1 mV flutter at 190-200 /min, sharpness 1.6-1.7; set on vfdb).
    min_episode_s, merge_gap_s : float
        Episodes shorter than this are dropped; gaps up to this are bridged.
    vt_max_cycle_cv, vfl_min_rate_hz : float
        An episode whose windows are regular (median ``cycle_cv`` below this) and slower
        than ventricular flutter (median ``cycle_hz`` below ``vfl_min_rate_hz``, 180 /min)
        is monomorphic VT, not VF/VFL (set on vfdb: its (VT episodes have a median
        cycle CV of 0.03-0.07, its (VF/(VFIB 0.13-0.27; regular VFL exists -- mitdb 207,
        vfdb 430, cycle CV 0.04-0.08 at 3.1-3.6 Hz -- hence the rate condition).
    vf_max_sharpness : float
        An episode whose median ``sharpness`` reaches this holds discrete, steep QRS
        complexes in every lead: an organised rhythm, not VF (set on vfdb: detected
        episodes over reference VF/VFL have a median of 1.3-2.4, except one of 2.7,
        wide-complex "N" bursts of 418 and high-grade ectopy of 430 up to 2.8, 428 4.2).
    vote_windows : int
        Odd length of the majority vote (median filter) over window decisions.
    asys_highpass_hz, asys_max_slope_mv_s, asys_min_sd_mv : float
        A 1-s block is quiet (no QRS, no VF) when the steepest slope of the
        ``asys_highpass_hz``-20 Hz signal stays below this in every lead (QRS complexes
        have > 10 mV/s, P waves ~2-3 mV/s; baseline recovery after a shock is slower
        than 5 Hz; set on vfdb ``(ASYS`` vs other rhythms, and no quiet 3 s on 1,458
        CinC 2017 N/A/O records, mitdb or cpsc2021), and not dead flat (standard
        deviation >= ``asys_min_sd_mv``: an exactly flat trace is lead-off).
    """

    window_s: float = 4.0
    step_s: float = 1.0
    min_amp_mv: float = 0.1
    max_hf: float = 0.05
    min_tcsc: float = 0.48
    max_acmin: float = -0.45
    min_conc: float = 0.45
    min_df_hz: float = 2.5
    vt_min_acmax: float = 0.8
    vt_max_df_hz: float = 3.2
    vt_min_amp_mv: float = 1.0
    min_episode_s: float = 2.0
    merge_gap_s: float = 2.0
    vt_max_cycle_cv: float = 0.08
    vfl_min_rate_hz: float = 3.0
    vf_max_sharpness: float = 2.5
    vfl_max_sharpness: float = 2.0
    vote_windows: int = 3
    asys_highpass_hz: float = 5.0
    asys_max_slope_mv_s: float = 2.5
    asys_min_sd_mv: float = 0.003


@dataclass(frozen=True)
class VfTrace:
    """Per-window VF features of one record (lead-averaged).

    Attributes
    ----------
    t_s : ndarray, shape (n_windows,)
        Window centre times, s.
    conc, hf, tcsc, acmin, acmax, df_hz, amp_mv, cycle_cv, cycle_hz, sharpness : ndarray
        Features (see module docstring); ``amp_mv`` is the smallest lead amplitude.
        Spectral features are NaN where the cheap screen (TCSC, amplitude) already
        rules VF out, the cycle and sharpness features NaN outside the oscillating
        windows of candidate VF episodes; shape (n_windows,).
    vf_like : ndarray of bool, shape (n_windows,)
        Window looks like VF/VFL (disorganised ventricular oscillation).
    vt_like : ndarray of bool, shape (n_windows,)
        Window is an organised ventricular oscillation (fast monomorphic VT).
    step_s : float
        Window step, s.
    quiet_s : ndarray of bool, shape (n_seconds,)
        Second ``k`` (from ``k`` to ``k + 1`` s) holds no QRS-like slope in any lead.
    """

    t_s: NDArray[np.float64]
    conc: NDArray[np.float64]
    hf: NDArray[np.float64]
    tcsc: NDArray[np.float64]
    acmin: NDArray[np.float64]
    acmax: NDArray[np.float64]
    df_hz: NDArray[np.float64]
    amp_mv: NDArray[np.float64]
    cycle_cv: NDArray[np.float64]
    cycle_hz: NDArray[np.float64]
    sharpness: NDArray[np.float64]
    vf_like: NDArray[np.bool_]
    vt_like: NDArray[np.bool_]
    step_s: float
    quiet_s: NDArray[np.bool_]


@lru_cache(maxsize=64)
def _butter_sos(low_hz: float | None, high_hz: float | None, fs_hz: float) -> NDArray[np.float64]:
    """Order-2 Butterworth SOS: band-pass, or high-pass when ``high_hz`` is None.

    Cached per rate (a pure function of hashable arguments): designing it cost ~9 % of
    the QRS stage when the VF check ran on many short spans.
    """
    if high_hz is None:
        sos = ss.butter(2, low_hz, btype="highpass", fs=fs_hz, output="sos")
    else:
        sos = ss.butter(2, [low_hz, high_hz], btype="band", fs=fs_hz, output="sos")
    return np.asarray(sos, dtype=np.float64)


@lru_cache(maxsize=16)
def _decimation_filter(k: int) -> tuple[NDArray[np.float64], int]:
    """Anti-alias FIR of ``resample_poly(x, 1, k)`` (zero-padded in front) and its delay.

    The same design as ``scipy.signal.resample_poly`` with its defaults (``firwin`` of
    ``20 k + 1`` taps, cut-off ``1 / k`` of Nyquist, Kaiser window beta 5), cached per
    factor instead of designed on every call.
    """
    half_len = 10 * k
    h = np.asarray(ss.firwin(2 * half_len + 1, 1.0 / k, window=("kaiser", 5.0)), dtype=np.float64)
    n_pre_pad = k - half_len % k
    h = np.concatenate((np.zeros(n_pre_pad), h))
    h.flags.writeable = False
    return h, (half_len + n_pre_pad) // k


def _downsample(x: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """``scipy.signal.resample_poly(x, 1, k, axis=-1)``, the same operations bit for bit.

    The polyphase filter (``upfirdn``, zero padding) with the cached design of
    :func:`_decimation_filter`; ``resample_poly`` spent ~10 % of its time designing it.
    """
    h, n_pre_remove = _decimation_filter(k)
    n_in = x.shape[-1]
    n_out = n_in // k + bool(n_in % k)
    n_post_pad = 0  # as resample_poly: enough filter length for every output sample
    while ((n_in - 1) + h.shape[0] + n_post_pad - 1) // k + 1 < n_out + n_pre_remove:
        n_post_pad += 1
    if n_post_pad:
        h = np.concatenate((h, np.zeros(n_post_pad)))
    y = ss.upfirdn(h, x, 1, k, axis=-1, mode="constant", cval=0)
    out: NDArray[np.float64] = y[..., n_pre_remove : n_pre_remove + n_out]
    return out


def _decimate(signal_mv: NDArray[np.float64], fs_hz: float) -> tuple[NDArray[np.float64], float]:
    k = max(1, round(fs_hz / _TARGET_FS_HZ))
    x = _downsample(signal_mv, k) if k > 1 else signal_mv
    fs2 = fs_hz / k
    sos = _butter_sos(1.0, min(20.0, 0.45 * fs2), fs2)
    return np.asarray(ss.sosfilt(sos, x, axis=-1), dtype=np.float64), fs2


def _time_features(w: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cheap time-domain features (amplitude, TCSC) of windows (n_leads, n_windows, n_win)."""
    a = np.abs(w - w.mean(axis=-1, keepdims=True))
    k = int(0.95 * (a.shape[-1] - 1))
    amp = np.partition(a, k, axis=-1)[..., k]  # 95th percentile without interpolation
    tcsc = (a > 0.3 * amp[..., None]).mean(axis=-1)
    return amp, tcsc


def _window_features(w: NDArray[np.float64], fs2: float) -> dict[str, NDArray[np.float64]]:
    """Spectral and autocorrelation features of windows ``w`` (n_leads, n_windows, n_win)."""
    n_win = w.shape[-1]
    w = (w - w.mean(axis=-1, keepdims=True)).astype(np.float32)
    max_lag = int(np.ceil(0.7 * fs2)) + 1
    # zero padding >= max_lag keeps the circular autocorrelation exact up to max_lag
    nfft = int(2 ** np.ceil(np.log2(n_win + max_lag)))
    f = np.fft.rfftfreq(nfft, 1.0 / fs2)
    spec = np.fft.rfft(w * np.hanning(n_win).astype(np.float32), n=nfft, axis=-1)
    power = spec.real**2 + spec.imag**2
    total = power[..., (f >= 1.0) & (f <= 20.0)].sum(axis=-1) + 1e-12
    band = (f >= 1.5) & (f <= 9.0)
    df_hz = f[np.where(band, power, 0.0).argmax(axis=-1)]
    near = np.abs(f - df_hz[..., None]) <= 1.0
    conc = (power * near).sum(axis=-1) / total
    hf = power[..., (f >= 10.0) & (f <= 20.0)].sum(axis=-1) / total
    raw = np.fft.rfft(w, n=nfft, axis=-1)
    ac = np.fft.irfft(raw.real**2 + raw.imag**2, n=nfft, axis=-1)[..., :max_lag]
    ac = ac / (ac[..., :1] + 1e-12)
    lag_s = np.arange(max_lag) / fs2
    acmin = ac[..., (lag_s > 0) & (lag_s <= 0.4)].min(axis=-1)
    acmax = ac[..., (lag_s >= 0.15) & (lag_s <= 0.7)].max(axis=-1)
    return {
        "conc": conc.mean(axis=0),
        "hf": hf.mean(axis=0),
        "acmin": acmin.mean(axis=0),
        "acmax": acmax.mean(axis=0),
        "df_hz": np.median(df_hz, axis=0),
    }


def vf_trace(
    signal_mv: NDArray[np.float64], *, fs_hz: float, params: VfParams | None = None
) -> VfTrace:
    """Compute per-window VF features and decisions.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG in mV (usable leads only, no NaN).
    fs_hz : float
        Sampling rate, Hz.
    params : VfParams, optional
        Detector parameters.

    Returns
    -------
    VfTrace
        Features per window; empty when the record is shorter than one window.
    """
    p = params or VfParams()
    raw = np.atleast_2d(np.asarray(signal_mv, dtype=np.float64))
    x, fs2 = _decimate(raw, fs_hz)
    n_win = round(p.window_s * fs2)
    step = max(1, round(p.step_s * fs2))
    keys = ("conc", "hf", "tcsc", "acmin", "acmax", "df_hz", "amp_mv")
    if x.shape[-1] < n_win:
        e = np.zeros(0)
        no = np.zeros(0, dtype=bool)
        return VfTrace(e, e, e, e, e, e, e, e, e, e, e, no, no, p.step_s, _quiet_seconds(x, fs2, p))
    views = sliding_window_view(x, n_win, axis=-1)[:, ::step]
    n_windows = views.shape[1]
    f = {k: np.full(n_windows, np.nan) for k in keys}
    for start in range(0, n_windows, _CHUNK_WINDOWS):  # loop over blocks of windows
        stop = min(start + _CHUNK_WINDOWS, n_windows)
        amp, tcsc = _time_features(views[:, start:stop])
        f["amp_mv"][start:stop] = amp.min(axis=0)
        f["tcsc"][start:stop] = tcsc.mean(axis=0)
        # spectral features only where VF is still possible (busy, large enough): most
        # sinus-rhythm windows stop here, which keeps 24 h recordings cheap
        cand = start + np.flatnonzero(
            (f["tcsc"][start:stop] >= p.min_tcsc) & (f["amp_mv"][start:stop] >= p.min_amp_mv)
        )
        if cand.size:
            feats = _window_features(views[:, cand], fs2)
            for k, v in feats.items():
                f[k][cand] = v
    t_s = np.asarray((np.arange(n_windows) * step + n_win / 2) / fs2, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # NaN features (not computed) compare False
        oscillating = _oscillating(f, p)
    periodic = (f["acmax"] >= p.vt_min_acmax) & (f["df_hz"] <= p.vt_max_df_hz)
    slow = f["df_hz"] < p.min_df_hz
    large = oscillating & (f["amp_mv"] >= p.vt_min_amp_mv) & ~periodic & ~slow
    vt_like = oscillating & (periodic | slow | large)
    vf_like = oscillating & ~vt_like
    # shape features only inside candidate VF episodes (all the vetoes look at; large
    # windows may be flutter): cheap on long recordings with many VT-like windows
    c_on, c_off = _candidate_episodes(vf_like | large, t_s, step / fs2, p)
    k_ep = np.searchsorted(c_on, t_s, side="right") - 1  # last candidate starting before
    in_cand = (k_ep >= 0) & (t_s <= c_off[np.maximum(k_ep, 0)]) if c_on.size else k_ep >= 0
    osc_idx = np.flatnonzero(oscillating & in_cand)
    cycle_cv, cycle_hz = _cycle_regularity(views, osc_idx, fs2)
    rate_hz = np.where(np.isfinite(cycle_hz), cycle_hz, f["df_hz"])
    dec = fs_hz / fs2  # decimation factor
    starts = np.asarray(osc_idx * (step * dec), dtype=np.float64)
    sharp = _sharpness(raw, fs_hz, osc_idx, rate_hz, start_idx=starts, n=n_win * dec)
    with np.errstate(invalid="ignore"):
        # a large, regular, rounded sine wave faster than any VT called here is flutter
        flutter = (
            large
            & (cycle_cv < p.vt_max_cycle_cv)
            & (cycle_hz >= p.vfl_min_rate_hz)
            & (sharp < p.vfl_max_sharpness)
        )
    vf_like |= flutter
    vt_like &= ~flutter
    return VfTrace(
        t_s=t_s,
        **f,
        cycle_cv=cycle_cv,
        cycle_hz=cycle_hz,
        sharpness=sharp,
        vf_like=vf_like,
        vt_like=vt_like,
        step_s=step / fs2,
        quiet_s=_quiet_seconds(x, fs2, p),
    )


def _cycle_regularity(
    views: NDArray[np.float64], idx: NDArray[np.intp], fs2: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wave-to-wave interval CV and rate of windows ``idx`` (NaN elsewhere).

    Per lead and polarity, peaks at least 0.12 s apart (< 8.3 Hz) with a prominence of
    40 % of the window's 95th-percentile amplitude; at least 4 peaks. The polarity with
    the lower CV per lead, then the most regular lead. Loops over oscillating windows
    only (few in ordinary recordings), not over samples.
    """
    n_windows = views.shape[1]
    cv_out = np.full(n_windows, np.nan)
    hz_out = np.full(n_windows, np.nan)
    dist = max(1, int(0.12 * fs2))
    for i in idx.tolist():
        w = views[:, i] - views[:, i].mean(axis=-1, keepdims=True)
        amp = np.percentile(np.abs(w), 95, axis=-1)
        best_cv, best_hz = np.inf, np.nan
        for lead in range(w.shape[0]):
            for s in (w[lead], -w[lead]):
                pk, _ = ss.find_peaks(s, distance=dist, prominence=0.4 * amp[lead])
                if pk.size < 4:
                    continue
                ii = np.diff(pk).astype(np.float64)
                cv = float(ii.std() / ii.mean())
                if cv < best_cv:
                    best_cv, best_hz = cv, fs2 / float(ii.mean())
        if np.isfinite(best_cv):
            cv_out[i], hz_out[i] = best_cv, best_hz
    return cv_out, hz_out


def _sharpness(
    raw: NDArray[np.float64],
    fs_hz: float,
    idx: NDArray[np.intp],
    rate_hz: NDArray[np.float64],
    *,
    start_idx: NDArray[np.float64],
    n: float,
) -> NDArray[np.float64]:
    """Steepest slope over that of a sine of the same rate and amplitude (min over leads).

    Windows ``idx`` only (NaN elsewhere); each window's raw samples are band-passed
    1-40 Hz (zero phase, 0.5 s padding) at the full rate. Loops over oscillating
    windows only.
    """
    out = np.full(rate_hz.size, np.nan)
    if idx.size == 0:
        return out
    sos = _butter_sos(1.0, min(40.0, 0.45 * fs_hz), fs_hz)
    pad = int(0.5 * fs_hz)
    n_samples = raw.shape[-1]
    for i, a0 in zip(idx.tolist(), start_idx.tolist(), strict=True):
        a, b = int(a0), min(n_samples, int(a0 + n))
        lo, hi = max(0, a - pad), min(n_samples, b + pad)
        y = ss.sosfiltfilt(sos, raw[:, lo:hi], axis=-1)[:, a - lo : b - lo]
        pp = np.percentile(y, 97, axis=-1) - np.percentile(y, 3, axis=-1)
        slope = np.percentile(np.abs(np.diff(y, axis=-1)), 99, axis=-1) * fs_hz
        out[i] = float(np.min(slope / (np.pi * rate_hz[i] * pp + 1e-9)))
    return out


def _quiet_seconds(x: NDArray[np.float64], fs2: float, p: VfParams) -> NDArray[np.bool_]:
    """Per 1-s block: no QRS-like slope in any lead and not dead flat."""
    k = int(fs2)
    n = x.shape[-1] // k
    if n == 0:
        return np.zeros(0, dtype=bool)
    # slope above asys_highpass_hz only: the exponential baseline recovery after a
    # defibrillation shock or electrode motion is slow; QRS complexes are not
    sos = _butter_sos(p.asys_highpass_hz, None, fs2)
    x = np.asarray(ss.sosfilt(sos, x, axis=-1), dtype=np.float64)
    blocks = x[:, : n * k].reshape(x.shape[0], n, k)
    slope = np.abs(np.diff(blocks, axis=-1)).max(axis=-1) * fs2  # mV/s, (n_leads, n)
    sd = blocks.std(axis=-1)
    return np.asarray(
        (slope.max(axis=0) < p.asys_max_slope_mv_s) & (sd.min(axis=0) >= p.asys_min_sd_mv)
    )


def _oscillating(f: dict[str, NDArray[np.float64]], p: VfParams) -> NDArray[np.bool_]:
    return np.asarray(
        (f["amp_mv"] >= p.min_amp_mv)
        & (f["hf"] <= p.max_hf)
        & (f["tcsc"] >= p.min_tcsc)
        & (f["acmin"] <= p.max_acmin)
        & (f["conc"] >= p.min_conc)
    )


def vf_episodes(
    trace: VfTrace, *, params: VfParams | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Turn VF-like windows into episodes.

    Parameters
    ----------
    trace : VfTrace
        Output of :func:`vf_trace`.
    params : VfParams, optional
        Detector parameters (episode length, gap bridging).

    Returns
    -------
    onset_s, offset_s : ndarray, shape (n_episodes,)
        VF/VFL episodes, s.
    """
    p = params or VfParams()
    on, off = _candidate_episodes(trace.vf_like, trace.t_s, trace.step_s, p)
    keep = ~_organised_episodes(trace, on, off, p)
    return on[keep], off[keep]


def _candidate_episodes(
    vf_like: NDArray[np.bool_], t_s: NDArray[np.float64], step_s: float, p: VfParams
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """VF-like windows -> episodes: majority vote, gaps bridged, short ones dropped."""
    vf = vf_like
    if not vf.any():  # no VF-like window (most records): no episode, the vote changes nothing
        return np.zeros(0), np.zeros(0)
    k = p.vote_windows
    if k > 1 and vf.size >= k:
        if k % 2:  # median of k zero-padded 0/1 values = more than k // 2 ones (as medfilt)
            votes = np.convolve(vf.astype(np.int64), np.ones(k, dtype=np.int64), mode="same")
            vf = votes > k // 2
        else:  # medfilt's own error for an even kernel
            vf = ss.medfilt(vf.astype(np.float64), k) > 0.5
    s_idx, e_idx = true_runs(vf)
    if s_idx.size == 0:
        return np.zeros(0), np.zeros(0)
    half = step_s / 2
    on = t_s[s_idx] - half
    off = t_s[e_idx - 1] + half
    on, off = close_gaps(on, off, max_gap=p.merge_gap_s)
    return drop_short(on, off, min_len=p.min_episode_s)


def episode_organisation(
    trace: VfTrace, onset_s: NDArray[np.float64], offset_s: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Median wave-to-wave rate, cycle CV and sharpness of each episode's windows.

    The measures the organised-rhythm checks of :func:`vf_episodes` read (see the module
    docstring: ``cycle_cv``, ``cycle_hz``, ``sharpness``); also used by the vfdb
    evaluation to describe false VF episodes (regular fast reference VT vs flutter).

    Parameters
    ----------
    trace : VfTrace
        Output of :func:`vf_trace`.
    onset_s, offset_s : ndarray, shape (n_episodes,)
        Episode bounds, s (candidate or detected VF episodes: the cycle and sharpness
        features exist only inside candidate episodes).

    Returns
    -------
    rate_bpm, cycle_cv, sharpness : ndarray, shape (n_episodes,)
        Medians over the episode's windows where the feature was computed; NaN when none.
    """
    n = np.asarray(onset_s).size
    rate = np.full(n, np.nan)
    cv = np.full(n, np.nan)
    sharp = np.full(n, np.nan)
    for k in range(n):  # loop over episodes (few)
        span = (trace.t_s >= onset_s[k]) & (trace.t_s <= offset_s[k])
        cyc = span & np.isfinite(trace.cycle_cv)
        if cyc.any():
            cv[k] = float(np.median(trace.cycle_cv[cyc]))
            rate[k] = 60.0 * float(np.median(trace.cycle_hz[cyc]))
        sh = span & np.isfinite(trace.sharpness)
        if sh.any():
            sharp[k] = float(np.median(trace.sharpness[sh]))
    return rate, cv, sharp


def _organisation(
    trace: VfTrace, on: NDArray[np.float64], off: NDArray[np.float64], p: VfParams
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64]]:
    """Per candidate episode: regular-and-slow, sharp (QRS-like), dominant rate (/min)."""
    rate, cv, sharpness = episode_organisation(trace, on, off)
    with np.errstate(invalid="ignore"):  # NaN (feature not computed) compares False
        regular = (cv < p.vt_max_cycle_cv) & (rate < 60.0 * p.vfl_min_rate_hz)
        sharp = sharpness >= p.vf_max_sharpness
    return np.asarray(regular), np.asarray(sharp), rate


def _organised_episodes(
    trace: VfTrace, on: NDArray[np.float64], off: NDArray[np.float64], p: VfParams
) -> NDArray[np.bool_]:
    """Episodes of an organised rhythm, not VF.

    Regular and slower than flutter throughout (monomorphic VT), or with steep, discrete
    QRS complexes in every lead (median sharpness >= ``vf_max_sharpness``).
    """
    regular, sharp, _ = _organisation(trace, on, off, p)
    return regular | sharp


def organised_vt_episodes(
    trace: VfTrace, *, params: VfParams | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """VF-like episodes set aside as monomorphic VT: regular, slower than flutter, rounded.

    :func:`vf_episodes` drops them from VF; they are still a ventricular tachycardia (a
    critical value), seen on the signal where the QRS stage may find no run of V beats
    (sinusoidal VT has no discrete QRS to classify). Episodes dropped for steep QRS-like
    complexes are not returned: those can be a fast supraventricular rhythm (vfdb 418).

    Parameters
    ----------
    trace : VfTrace
        Output of :func:`vf_trace`.
    params : VfParams, optional
        Detector parameters.

    Returns
    -------
    onset_s, offset_s, rate_bpm : ndarray, shape (n_episodes,)
        Episode bounds (s) and dominant rate (/min).
    """
    p = params or VfParams()
    on, off = _candidate_episodes(trace.vf_like, trace.t_s, trace.step_s, p)
    regular, sharp, rate = _organisation(trace, on, off, p)
    keep = regular & ~sharp
    return on[keep], off[keep], rate[keep]


def quiet_episodes(
    trace: VfTrace, *, min_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Asystole from the signal: runs of quiet seconds at least ``min_s`` long.

    Independent of QRS detection, which may find "beats" on baseline wander or P waves
    during ventricular standstill.

    Parameters
    ----------
    trace : VfTrace
        Output of :func:`vf_trace`.
    min_s : float
        Shortest asystole, s (profile rule ``ASYSTOLE``).

    Returns
    -------
    onset_s, offset_s : ndarray, shape (n,)
        Quiet spans, s.
    """
    s_idx, e_idx = true_runs(trace.quiet_s)
    on, off = s_idx.astype(np.float64), e_idx.astype(np.float64)
    return drop_short(on, off, min_len=min_s)
