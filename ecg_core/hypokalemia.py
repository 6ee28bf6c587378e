"""U waves on the resting 12-lead median beat, for the hypokalaemia pattern.

ECG of hypokalaemia (Surawicz & Knilans, *Chou's Electrocardiography in Clinical
Practice*, 6th ed., 2008, ch. 22; Diercks et al., J Emerg Med 2004;27:153): T waves
flatten, the U wave grows (>= 0.1 mV, and taller than the T wave of the same lead in
marked hypokalaemia), most visibly in V2-V3; T and U fuse into a long QT(U); ectopy
and tachyarrhythmias follow (PVCs, VT, torsades). The U wave is a positive deflection
after the end of T and before the next P wave (AHA/ACCF/HRS 2009 part IV, Rautaharju
et al., Circulation 2009;119:e241: U amplitude and the QT(U) are reported where a U
wave is distinct).

This module measures, per lead of the median beat: the baseline (PR segment), the T
amplitude, and the largest positive hump in the window from T end (the earlier of the
lead's own and the global one) + 40 ms to the next P onset (at most :data:`MAX_PR_S`
before the next QRS) or T end + 280 ms, that rises from and falls back towards the
baseline (a slope running into the next P wave or a drifting baseline is not a U wave).
The rule (:mod:`ecg_core.rules.hypokalemia_rules`) decides with thresholds from the
profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecg_core.delineation import Delineation, delineate_record

__all__ = ["UWaves", "measure_u_waves", "u_waves"]

#: The U search starts this long after the lead's T end, s (the descending T limb).
U_START_AFTER_T_S = 0.04
#: ... and ends at most this long after it, s (U peaks ~90 ms and ends ~200 ms after
#: the T end at normal rates; Rautaharju et al. 2009 part IV).
U_MAX_AFTER_T_S = 0.28
#: ... and this long before the next P onset (or QRS onset - 80 ms without P), s.
U_END_BEFORE_P_S = 0.02
#: A hump must fall on each side to at most this share of its height inside the
#: window to count as a wave (technical constant).
U_VALLEY_FRACTION = 0.7
#: Longest PR taken at face value when bounding the U search by the next P onset, s
#: (first-degree block is PR > 200 ms; beyond 300 ms the delineator's "P" is more likely
#: the previous beat's U wave; AHA/ACCF/HRS 2009 part III).
MAX_PR_S = 0.30
#: PR assumed when the P onset is unknown or implausible, s (within 120-200 ms, normal).
TYPICAL_PR_S = 0.20
#: PR-segment baseline window before QRS onset, s (start, end) -- as the ST levels.
BASELINE_S = (0.020, 0.004)


@dataclass(frozen=True)
class UWaves:
    """U waves of the median beat; ``ctx.features["u_wave"]``.

    Attributes
    ----------
    leads : tuple of str
        Leads measured (per-lead arrays follow this order).
    u_mv : ndarray, shape (n_leads,)
        Height of the U wave above the PR baseline (at most its prominence over the
        signal beside it), mV (NaN where none was found).
    t_mv : ndarray, shape (n_leads,)
        Signed T amplitude against the same baseline, mV (NaN where no T).
    u_peak_ms : ndarray, shape (n_leads,)
        U peak after QRS onset, ms.
    qu_ms : ndarray, shape (n_leads,)
        QRS onset to the U end (return to a quarter of its height), ms.
    qt_ms : float or None
        QT of the median beat (global QRS onset to latest T end), ms.
    rr_ms : float
        Median RR, ms.
    noise_mv : ndarray, shape (n_leads,)
        Residual RMS of the beats about the median beat, mV.
    n_beats : int
        Beats in the median beat.
    """

    leads: tuple[str, ...]
    u_mv: NDArray[np.float64]
    t_mv: NDArray[np.float64]
    u_peak_ms: NDArray[np.float64]
    qu_ms: NDArray[np.float64]
    qt_ms: float | None
    rr_ms: float
    noise_mv: NDArray[np.float64]
    n_beats: int

    def per_lead(self, name: str) -> dict[str, float]:
        """One per-lead array (e.g. ``"u_mv"``) as ``{lead: value}``."""
        values: NDArray[np.float64] = getattr(self, name)
        return {lead: float(v) for lead, v in zip(self.leads, values, strict=True)}


def _hump(y: NDArray[np.float64]) -> tuple[int, float] | None:
    """Largest positive hump of ``y`` (baseline 0) that falls on both sides; (index, height).

    The height is the smaller of the peak above the baseline and the peak above the
    lowest point after it in the window (the U wave comes back down before the next P),
    so a hump riding on a raised TP segment or a baseline offset is not counted at full
    height. The valley before it may be shallow (T and U partly fused).
    """
    if y.size < 3:
        return None
    k = int(np.argmax(y))
    h = float(y[k])
    if h <= 0 or k == 0 or k == y.size - 1:
        return None
    left, right = float(y[:k].min()), float(y[k + 1 :].min())
    if left > U_VALLEY_FRACTION * h or right > U_VALLEY_FRACTION * h:
        return None
    return k, min(h, h - right)


def measure_u_waves(d: Delineation, leads: tuple[str, ...]) -> UWaves:
    """U-wave measures of a delineated record.

    Parameters
    ----------
    d : Delineation
        Delineation of the resting ECG (median beat and global / per-lead fiducials).
    leads : tuple of str
        Names of the rows of the median beat.

    Returns
    -------
    UWaves
        Per-lead U and T amplitudes, U timing and QU; NaN where not measurable.
    """
    med = d.median
    fs = med.fs_hz
    beat = med.beat_mv
    n_leads, n_win = beat.shape
    fid = d.fiducials
    r = med.r_pos
    nan = np.full(n_leads, np.nan)
    u_mv, t_mv, u_pk, qu = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    on = r + fid.qrs_on
    b0, b1 = on - round(BASELINE_S[0] * fs), on - round(BASELINE_S[1] * fs)
    rr_ms = float(d.rr_median_ms)
    qt_ms = None if fid.t_off is None else (fid.t_off - fid.qrs_on) * 1000.0 / fs
    if fid.t_off is not None and b0 >= 0 and np.isfinite(rr_ms):
        rr = round(rr_ms * fs / 1000.0)
        # next P onset; a "P" more than MAX_PR_S before the QRS is taken for what it
        # likely is -- the previous beat's U wave -- and the bound falls back to a
        # typical PR before the next QRS
        typical = fid.qrs_on - round(TYPICAL_PR_S * fs)
        implausible = fid.p_on is None or fid.qrs_on - fid.p_on > round(MAX_PR_S * fs)
        nxt = r + rr + (typical if implausible or fid.p_on is None else fid.p_on)
        for k in range(n_leads):  # 12 leads
            base = float(np.median(beat[k, b0:b1]))
            y = beat[k] - base
            # the earlier of the lead's own and the global T end: where U is taller than
            # T, a lead's own T end can land after the U (T and U read as one wave)
            t_off = r + min(fid.t_off_lead[k] if fid.t_off_lead else fid.t_off, fid.t_off)
            t_pk = r + (fid.t_peak_lead[k] if fid.t_peak_lead else (fid.t_peak or fid.t_off))
            if 0 <= t_pk < n_win:
                t_mv[k] = y[t_pk]
            a = t_off + round(U_START_AFTER_T_S * fs)
            b = min(t_off + round(U_MAX_AFTER_T_S * fs), nxt - round(U_END_BEFORE_P_S * fs), n_win)
            found = _hump(y[a:b]) if a >= 0 else None
            if found is None:
                continue
            i, h = found
            u_mv[k] = h
            u_pk[k] = (a + i - on) * 1000.0 / fs
            tail = np.flatnonzero(y[a + i : b] <= 0.25 * h)
            end = a + i + (int(tail[0]) if tail.size else b - 1 - a - i)
            qu[k] = (end - on) * 1000.0 / fs
    return UWaves(
        leads=leads,
        u_mv=u_mv,
        t_mv=t_mv,
        u_peak_ms=u_pk,
        qu_ms=qu,
        qt_ms=qt_ms,
        rr_ms=rr_ms,
        noise_mv=np.asarray(med.residual_rms_mv, dtype=np.float64),
        n_beats=int(med.n_beats),
    )


def u_waves(
    signal_mv: NDArray[np.float64],
    leads: tuple[str, ...],
    *,
    fs_hz: float,
    r_idx: NDArray[np.intp] | None = None,
    labels: NDArray[np.str_] | None = None,
) -> UWaves:
    """Delineate the median beat and measure its U waves.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        Resting ECG, mV.
    leads : tuple of str
        Lead names of the rows.
    fs_hz : float
        Sampling rate, Hz.
    r_idx, labels : ndarray, optional
        Beats and their AAMI labels from the QRS stage (only ``N`` beats enter the
        median beat).

    Returns
    -------
    UWaves
        See :func:`measure_u_waves`.
    """
    d = delineate_record(signal_mv, fs_hz=fs_hz, r_idx=r_idx, labels=labels, median_only=True)
    return measure_u_waves(d, leads)
