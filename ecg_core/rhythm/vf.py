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

Features are averaged over leads, so noise in one lead does not raise the alarm on its
own. The comparison of such features by Amann, Tratnig & Unterkofler (BioMed Eng OnLine
2005;4:60) showed that single features are weak and combinations with short windows do
better; the thresholds below were set on the MIT-BIH vfdb subset in ../shared/ecg-data
(see docs/rhythm.md for the measured figures) and are algorithm parameters, not clinical
thresholds (the clinical rule is "VF present, any duration", in the rule profile).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal as ss
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ecg_core.rhythm.intervals import close_gaps, drop_short, true_runs

__all__ = ["VfParams", "VfTrace", "quiet_episodes", "vf_episodes", "vf_trace"]

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
        lead, is organised (VT-like), not VF/VFL (VF amplitude is mostly < 1 mV).
    min_episode_s, merge_gap_s : float
        Episodes shorter than this are dropped; gaps up to this are bridged.
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
    conc, hf, tcsc, acmin, acmax, df_hz, amp_mv : ndarray, shape (n_windows,)
        Features (see module docstring); ``amp_mv`` is the smallest lead amplitude.
        Spectral features are NaN where the cheap screen (TCSC, amplitude) already
        rules VF out.
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
    vf_like: NDArray[np.bool_]
    vt_like: NDArray[np.bool_]
    step_s: float
    quiet_s: NDArray[np.bool_]


def _decimate(signal_mv: NDArray[np.float64], fs_hz: float) -> tuple[NDArray[np.float64], float]:
    k = max(1, round(fs_hz / _TARGET_FS_HZ))
    x = ss.resample_poly(signal_mv, 1, k, axis=-1) if k > 1 else signal_mv
    fs2 = fs_hz / k
    sos = ss.butter(2, [1.0, min(20.0, 0.45 * fs2)], btype="band", fs=fs2, output="sos")
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
    x, fs2 = _decimate(np.atleast_2d(np.asarray(signal_mv, dtype=np.float64)), fs_hz)
    n_win = round(p.window_s * fs2)
    step = max(1, round(p.step_s * fs2))
    keys = ("conc", "hf", "tcsc", "acmin", "acmax", "df_hz", "amp_mv")
    if x.shape[-1] < n_win:
        e = np.zeros(0)
        no = np.zeros(0, dtype=bool)
        return VfTrace(e, e, e, e, e, e, e, e, no, no, p.step_s, _quiet_seconds(x, fs2, p))
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
    organised = ((f["acmax"] >= p.vt_min_acmax) & (f["df_hz"] <= p.vt_max_df_hz)) | (
        f["amp_mv"] >= p.vt_min_amp_mv
    )
    vt_like = oscillating & (organised | (f["df_hz"] < p.min_df_hz))
    return VfTrace(
        t_s=t_s,
        **f,
        vf_like=oscillating & ~vt_like,
        vt_like=vt_like,
        step_s=step / fs2,
        quiet_s=_quiet_seconds(x, fs2, p),
    )


def _quiet_seconds(x: NDArray[np.float64], fs2: float, p: VfParams) -> NDArray[np.bool_]:
    """Per 1-s block: no QRS-like slope in any lead and not dead flat."""
    k = int(fs2)
    n = x.shape[-1] // k
    if n == 0:
        return np.zeros(0, dtype=bool)
    # slope above asys_highpass_hz only: the exponential baseline recovery after a
    # defibrillation shock or electrode motion is slow; QRS complexes are not
    sos = ss.butter(2, p.asys_highpass_hz, btype="highpass", fs=fs2, output="sos")
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
    vf = trace.vf_like
    if p.vote_windows > 1 and vf.size >= p.vote_windows:
        vf = ss.medfilt(vf.astype(np.float64), p.vote_windows) > 0.5
    s_idx, e_idx = true_runs(vf)
    if s_idx.size == 0:
        return np.zeros(0), np.zeros(0)
    half = trace.step_s / 2
    on = trace.t_s[s_idx] - half
    off = trace.t_s[e_idx - 1] + half
    on, off = close_gaps(on, off, max_gap=p.merge_gap_s)
    return drop_short(on, off, min_len=p.min_episode_s)


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
