"""Intervals, QTc, frontal axis and per-lead amplitudes / ST levels of a delineated record.

ST levels are measured per beat against the isoelectric PR segment of the same beat
(the 20-4 ms before QRS onset) at each lead's own J point (never before the global QRS
offset), J+60 ms and J+80 ms, then the median over the
dominant (clean) beats is taken (4th UDMI, Thygesen et al. JACC 2018;72:2231). QTc
formulas follow AHA/ACCF/HRS 2009 part IV (Rautaharju et al., Circulation
2009;119:e241): QT in ms, RR in s, HR in bpm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from ecg_core.delineation import Delineation, PWaves
from models.errors import RuleProfileError

__all__ = ["QTC_FORMULAS", "LeadMeasures", "QtcFormula", "measure_leads", "qtc_ms"]

QtcFormula = Literal["bazett", "fridericia", "framingham", "hodges"]
QTC_FORMULAS: tuple[QtcFormula, ...] = get_args(QtcFormula)

#: PR-segment baseline window before QRS onset, s (start, end).
_BASELINE_S = (0.020, 0.004)
#: Terminal / initial QRS portion used for conduction-pattern vectors, s.
_TERMINAL_S = 0.04
#: Half-width of the per-lead T-amplitude search around the global T peak, s.
_T_SEARCH_S = 0.06
#: Smallest deflection counted as a wave when timing the initial Q wave, mV (the
#: Minnesota Code's 25 uV wave threshold; Prineas et al., The Minnesota Code Manual, 2010).
_WAVE_MIN_MV = 0.025
#: A Q wave starts where the lead leaves the PR level by more than this, mV.
_Q_START_MV = 0.01


def qtc_ms(qt_ms: float, rr_ms: float, formula: str) -> float:
    """Heart-rate-corrected QT.

    Parameters
    ----------
    qt_ms : float
        QT interval, ms.
    rr_ms : float
        RR interval, ms.
    formula : {"bazett", "fridericia", "framingham", "hodges"}
        Bazett QT/RR^0.5, Fridericia QT/RR^(1/3), Framingham QT + 154 (1 - RR),
        Hodges QT + 1.75 (HR - 60); RR in s, HR in bpm.

    Returns
    -------
    float
        QTc, ms.

    Raises
    ------
    RuleProfileError
        Unknown formula name.

    Examples
    --------
    >>> round(qtc_ms(400.0, 1000.0, "bazett"), 1), round(qtc_ms(360.0, 640.0, "fridericia"), 1)
    (400.0, 418.6)
    """
    rr_s = rr_ms / 1000.0
    if formula == "bazett":
        return float(qt_ms / np.sqrt(rr_s))
    if formula == "fridericia":
        return float(qt_ms / np.cbrt(rr_s))
    if formula == "framingham":
        return qt_ms + 154.0 * (1.0 - rr_s)
    if formula == "hodges":
        return qt_ms + 1.75 * (60.0 / rr_s - 60.0)
    raise RuleProfileError(f"qtc_formula must be one of {QTC_FORMULAS}, got {formula!r}")


@dataclass(frozen=True)
class LeadMeasures:
    """Global intervals and per-lead measures of one record.

    Intervals are in ms (None when the wave was not found); per-lead arrays have shape
    ``(n_leads,)`` in mV, in the order of the analysed leads.

    Attributes
    ----------
    hr_bpm, rr_ms : float
        Heart rate and median RR.
    pr_ms, qrs_ms, qt_ms : float or None
        Median-beat intervals (global fiducials across all leads).
    qtc_ms : dict
        QTc by each formula, ms.
    axis_deg : float or None
        Frontal QRS axis from the net QRS areas of I and aVF, degrees (-180, 180].
    p_present_fraction : float
        Share of beats with a P wave.
    pr_beats_ms : ndarray, shape (n_beats,)
        Per-beat PR, NaN where no P wave.
    st_j_mv, st_j60_mv, st_j80_mv : ndarray
        ST level at J, J+60 ms, J+80 ms against the same beat's PR baseline; median over
        dominant beats.
    r_mv, s_mv : ndarray
        Largest positive / negative (as depth >= 0) QRS deflection of the median beat.
    q_mv : ndarray
        Depth of a negative deflection before the R peak (0 when none).
    t_mv, p_mv : ndarray
        Signed T and P amplitudes (P NaN when no P wave).
    qrs_net_mv : ndarray
        ``r_mv - s_mv``.
    qrs_area_mv_ms : ndarray
        Net QRS area, mV*ms.
    qrs_terminal_mv : ndarray
        Mean of the last 40 ms of the QRS (conduction-delay vector).
    s_after_r_mv : ndarray
        Depth of the negative deflection after the R peak (S wave), mV.
    r_time_ms, s_time_ms : ndarray
        Time of the largest positive / negative QRS deflection after QRS onset, ms.
    q_ms : ndarray
        Duration of the initial negative deflection (Q wave; the whole QRS for a QS
        complex), ms; 0 when the QRS starts with an R wave.
    noise_mv : ndarray
        Residual RMS of beats around the median beat.
    """

    hr_bpm: float
    rr_ms: float
    pr_ms: float | None
    qrs_ms: float
    qt_ms: float | None
    qtc_ms: dict[str, float]
    axis_deg: float | None
    p_present_fraction: float
    pr_beats_ms: NDArray[np.float64]
    st_j_mv: NDArray[np.float64]
    st_j60_mv: NDArray[np.float64]
    st_j80_mv: NDArray[np.float64]
    r_mv: NDArray[np.float64]
    s_mv: NDArray[np.float64]
    q_mv: NDArray[np.float64]
    t_mv: NDArray[np.float64]
    p_mv: NDArray[np.float64]
    qrs_net_mv: NDArray[np.float64]
    qrs_area_mv_ms: NDArray[np.float64]
    qrs_terminal_mv: NDArray[np.float64]
    s_after_r_mv: NDArray[np.float64]
    r_time_ms: NDArray[np.float64]
    s_time_ms: NDArray[np.float64]
    q_ms: NDArray[np.float64]
    noise_mv: NDArray[np.float64]


def _st_levels(d: Delineation) -> tuple[NDArray[np.float64], ...]:
    fs = d.fs_hz
    x = d.filtered_mv
    n_leads, n = x.shape
    r = d.r_idx[d.dominant]
    fid = d.fiducials
    lead_off = np.asarray(fid.qrs_off_lead or (fid.qrs_off,) * n_leads, dtype=np.intp)
    on = r + fid.qrs_on
    j = r[None, :] + lead_off[:, None]  # (n_leads, n_beats): each lead's own J point
    b0, b1 = (round(s * fs) for s in _BASELINE_S)
    offs = [0, round(0.06 * fs), round(0.08 * fs)]
    ok = (on - b0 >= 0) & (j.max(axis=0) + offs[-1] < n)
    if not ok.any():
        ok = np.ones_like(ok)
    on, j = np.clip(on[ok], b0, n - 1), j[:, ok]
    base_idx = on[:, None] - np.arange(b1, b0 + 1)[None, :]
    base = x[:, base_idx].mean(axis=-1)  # (n_leads, n_beats)
    rows = np.arange(n_leads)[:, None]
    levels = [np.median(x[rows, np.clip(j + o, 0, n - 1)] - base, axis=1) for o in offs]
    return levels[0], levels[1], levels[2]


def _q_duration_ms(qrs_mv: NDArray[np.float64], fs_hz: float) -> NDArray[np.float64]:
    """Initial negative deflection (Q / QS) duration per lead of a baseline-corrected QRS."""
    out = np.zeros(qrs_mv.shape[0])
    for k, q in enumerate(qrs_mv):  # one pass per lead (<= 15), vectorised within
        big = np.flatnonzero(np.abs(q) > _WAVE_MIN_MV)
        if big.size == 0 or q[big[0]] > 0:
            continue  # starts with an R wave (or no wave at all)
        first = int(big[0])
        near = np.flatnonzero(q[:first] > -_Q_START_MV)
        start = int(near[-1]) + 1 if near.size else 0
        back = np.flatnonzero(q[first:] >= 0.0)
        end = first + int(back[0]) if back.size else q.size
        out[k] = (end - start) * 1000.0 / fs_hz
    return out


def _amplitudes(d: Delineation) -> dict[str, NDArray[np.float64]]:
    med, fid, fs = d.median, d.fiducials, d.fs_hz
    beat = med.beat_mv
    rp = med.r_pos
    on, off = rp + fid.qrs_on, rp + fid.qrs_off
    b0, b1 = (round(s * fs) for s in _BASELINE_S)
    base = beat[:, max(0, on - b0) : max(1, on - b1 + 1)].mean(axis=1, keepdims=True)
    bc = beat - base
    qrs = bc[:, on : off + 1]
    r_mv = np.maximum(qrs.max(axis=1), 0.0)
    s_mv = np.maximum(-qrs.min(axis=1), 0.0)
    r_at = np.argmax(qrs, axis=1)
    pre_r = np.where(np.arange(qrs.shape[1])[None, :] <= r_at[:, None], qrs, 0.0)
    q_mv = np.maximum(-pre_r.min(axis=1), 0.0)
    s_at = np.argmin(qrs, axis=1)
    post_r = np.where(np.arange(qrs.shape[1])[None, :] >= r_at[:, None], qrs, 0.0)
    s_after_r_mv = np.maximum(-post_r.min(axis=1), 0.0)
    term = max(1, int(_TERMINAL_S * fs))
    t_mv = np.zeros(beat.shape[0])
    if fid.t_peak is not None:
        h = int(_T_SEARCH_S * fs)
        tw = bc[:, max(off, rp + fid.t_peak - h) : rp + fid.t_peak + h + 1]
        pick = np.argmax(np.abs(tw), axis=1)
        t_mv = tw[np.arange(tw.shape[0]), pick]
    p_mv = np.full(beat.shape[0], np.nan)
    if fid.p_peak is not None:
        p_mv = bc[:, rp + fid.p_peak]
    return {
        "r_mv": r_mv,
        "s_mv": s_mv,
        "q_mv": q_mv,
        "t_mv": t_mv,
        "p_mv": p_mv,
        "qrs_net_mv": r_mv - s_mv,
        "qrs_area_mv_ms": qrs.sum(axis=1) * 1000.0 / fs,
        "qrs_terminal_mv": qrs[:, -term:].mean(axis=1),
        "s_after_r_mv": s_after_r_mv,
        "r_time_ms": r_at * 1000.0 / fs,
        "s_time_ms": s_at * 1000.0 / fs,
        "q_ms": _q_duration_ms(qrs, fs),
    }


def measure_leads(d: Delineation, p_waves: PWaves, leads: tuple[str, ...]) -> LeadMeasures:
    """Intervals, axis, amplitudes and ST levels from a delineation.

    Parameters
    ----------
    d : Delineation
        Delineation of the analysed leads.
    p_waves : PWaves
        Per-beat P waves of the same delineation.
    leads : tuple of str
        Names of the rows of ``d.filtered_mv`` (for the axis: ``I`` and ``aVF``).

    Returns
    -------
    LeadMeasures
        Everything the 12-lead rules read.
    """
    fs, fid = d.fs_hz, d.fiducials
    ms = 1000.0 / fs
    rr = d.rr_median_ms if np.isfinite(d.rr_median_ms) else float("nan")
    qrs = (fid.qrs_off - fid.qrs_on) * ms
    qt = None if fid.t_off is None else (fid.t_off - fid.qrs_on) * ms
    pr = None
    if fid.p_on is not None:
        pr = (fid.qrs_on - fid.p_on) * ms
    qtc: dict[str, float] = (
        {} if qt is None or not np.isfinite(rr) else {f: qtc_ms(qt, rr, f) for f in QTC_FORMULAS}
    )
    amp = _amplitudes(d)
    axis = None
    if "I" in leads and "aVF" in leads:
        a_i = amp["qrs_area_mv_ms"][leads.index("I")]
        a_f = amp["qrs_area_mv_ms"][leads.index("aVF")]
        if abs(a_i) + abs(a_f) > 0:
            axis = float(np.degrees(np.arctan2(a_f, a_i)))
    st_j, st_60, st_80 = _st_levels(d)
    n_beats = max(1, p_waves.present.size)
    return LeadMeasures(
        hr_bpm=60000.0 / rr if np.isfinite(rr) and rr > 0 else float("nan"),
        rr_ms=rr,
        pr_ms=pr,
        qrs_ms=qrs,
        qt_ms=qt,
        qtc_ms=qtc,
        axis_deg=axis,
        p_present_fraction=float(p_waves.present.sum()) / n_beats,
        pr_beats_ms=p_waves.pr_ms,
        st_j_mv=st_j,
        st_j60_mv=st_60,
        st_j80_mv=st_80,
        noise_mv=d.median.residual_rms_mv,
        **amp,
    )
