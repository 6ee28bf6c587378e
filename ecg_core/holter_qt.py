"""QT / QTc on Holter recordings, measured on a few clean 10 s windows.

A Holter recording is not delineated beat by beat (24 h x 3 leads would blow the speed
budget, and one long QT needs no 100,000 measurements). Instead the resting 12-lead
delineator (:func:`ecg_core.twelve_lead.analyze_twelve_lead`, median beat, global
fiducials) is run on 10 s windows chosen where the rhythm is clean:

- one window every 20 minutes (the first clean one of each block), for the QTc trend of
  the summary and a record-level median QTc (72 windows a day, ~0.5 s of CPU);
- the last clean window in the 5 minutes before each ventricular run, because the
  critical ``LONG_QT`` item on Holter is "QTc >= 550 ms WITH VT" (CRITICAL_VALUES.md A;
  the QT that matters is the one the run arises from: torsades is pause- and
  QT-dependent, Viskin et al., JACC 1996;28:1262).

A window is clean when it has >= ``MIN_BEATS`` beats, all ``N`` with good quality and no
unanalysable span (an ectopic or noisy beat in the median beat would distort its T wave).
QT is from the earliest QRS onset to the latest T end across leads, as on the resting ECG
(AHA/ACCF/HRS 2009 part IV, Rautaharju et al., Circulation 2009;119:e241).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecg_core.types import BeatSeries
from models.errors import EcgError

__all__ = ["HolterQt", "holter_qt", "qt_window_onsets"]

WINDOW_S = 10.0
"""Length of a measured window, s (the resting ECG's 10 s)."""

EVERY_S = 1200.0
"""One trend window is measured in each block of this length, s."""

MIN_BEATS = 6
"""Beats a window needs for a median beat (>= 36 /min over 10 s)."""

BEFORE_RUN_S = 300.0
"""A pre-run window is searched in the 5 minutes before a ventricular run."""

MAX_RUN_WINDOWS = 12
"""At most this many pre-run windows (the first runs of the record)."""


@dataclass(frozen=True)
class HolterQt:
    """QT measurements on the windows of one Holter record.

    Attributes
    ----------
    onset_s : ndarray of float64, shape (n_windows,)
        Window starts, s.
    qt_ms, qtc_ms, hr_bpm : ndarray of float64, shape (n_windows,)
        QT, QTc (by ``formula``) and heart rate of each window.
    before_run : ndarray of bool, shape (n_windows,)
        True for the windows taken just before a ventricular run.
    formula : str
        QTc formula (profile setting ``qtc_formula``).
    """

    onset_s: NDArray[np.float64]
    qt_ms: NDArray[np.float64]
    qtc_ms: NDArray[np.float64]
    hr_bpm: NDArray[np.float64]
    before_run: NDArray[np.bool_]
    formula: str

    @property
    def median_qtc_ms(self) -> float | None:
        """Median QTc of the trend windows, ms (None when none was measured)."""
        v = self.qtc_ms[~self.before_run]
        return float(np.median(v)) if v.size else None

    @property
    def pre_run_qtc_ms(self) -> float | None:
        """Longest QTc measured just before a ventricular run, ms (None when none)."""
        v = self.qtc_ms[self.before_run]
        return float(v.max()) if v.size else None

    def trend(self) -> list[dict[str, float]]:
        """The QTc trend: ``[{"onset_s", "qt_ms", "qtc_ms", "hr_bpm"}, ...]``, 20 min apart."""
        keep = np.flatnonzero(~self.before_run)
        return [
            {
                "onset_s": round(float(self.onset_s[i]), 1),
                "qt_ms": round(float(self.qt_ms[i]), 1),
                "qtc_ms": round(float(self.qtc_ms[i]), 1),
                "hr_bpm": round(float(self.hr_bpm[i]), 1),
            }
            for i in keep
        ]


def _clean_bins(beats: BeatSeries, duration_s: float) -> NDArray[np.bool_]:
    """Per 10 s bin: enough beats, all N and of good quality, no unanalysable span."""
    n_bins = max(1, int(duration_s // WINDOW_S))
    b = np.minimum((beats.r_idx / beats.fs_hz // WINDOW_S).astype(np.intp), n_bins - 1)
    good = (beats.label == "N") & beats.quality_ok
    n_all = np.bincount(b, minlength=n_bins)
    n_good = np.bincount(b, weights=good.astype(np.float64), minlength=n_bins)
    clean = np.asarray((n_all >= MIN_BEATS) & (n_good == n_all), dtype=bool)
    for span in beats.unanalysable:  # a few spans
        lo = int(span.start_idx / beats.fs_hz // WINDOW_S)
        hi = int(span.end_idx / beats.fs_hz // WINDOW_S)
        clean[lo : hi + 1] = False
    return clean


def qt_window_onsets(
    beats: BeatSeries, *, duration_s: float, run_onsets_s: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Where to measure QT: the first clean window of each block and one before each run.

    Parameters
    ----------
    beats : BeatSeries
        Beats of the whole record.
    duration_s : float
        Record duration, s.
    run_onsets_s : ndarray of float64, shape (n_runs,)
        Onsets of the ventricular runs, s.

    Returns
    -------
    onset_s : ndarray of float64
        Window starts, s, sorted.
    before_run : ndarray of bool
        True for the pre-run windows.
    """
    clean = _clean_bins(beats, duration_s)
    idx = np.flatnonzero(clean)
    if idx.size == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    _, first = np.unique(idx // int(EVERY_S // WINDOW_S), return_index=True)
    trend = idx[first]
    pre: list[int] = []
    for onset in np.asarray(run_onsets_s, dtype=np.float64)[:MAX_RUN_WINDOWS]:
        end_bin = int(onset // WINDOW_S) - 1  # the bin must end before the run starts
        lo_bin = int((onset - BEFORE_RUN_S) // WINDOW_S)
        cand = idx[(idx <= end_bin) & (idx >= lo_bin)]
        if cand.size:
            pre.append(int(cand[-1]))
    pre_bins = np.setdiff1d(np.unique(np.asarray(pre, dtype=np.intp)), trend)
    bins = np.concatenate([trend, pre_bins])
    flag = np.concatenate([np.zeros(trend.size, bool), np.ones(pre_bins.size, bool)])
    order = np.argsort(bins, kind="stable")
    return bins[order] * WINDOW_S, flag[order]


def holter_qt(
    signal_mv: NDArray[np.float64],
    leads: tuple[str, ...],
    *,
    fs_hz: float,
    beats: BeatSeries,
    run_onsets_s: NDArray[np.float64],
    formula: str = "bazett",
) -> HolterQt:
    """Measure QT and QTc on the clean windows of a Holter record.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        Usable leads, mV.
    leads : tuple of str
        Normalised lead names (e.g. ``II``, ``V1``, ``V5``; Holter ``ECG1``-style names
        are delineated too when no standard lead is there).
    fs_hz : float
        Sampling rate, Hz.
    beats : BeatSeries
        Beats of the whole record.
    run_onsets_s : ndarray of float64
        Onsets of ventricular runs, s (a window is measured before each).
    formula : str
        QTc formula: ``bazett``, ``fridericia``, ``framingham`` or ``hodges``.

    Returns
    -------
    HolterQt
        One row per window that could be measured.
    """
    from ecg_core.twelve_lead import analyze_twelve_lead

    duration_s = signal_mv.shape[-1] / fs_hz
    onsets, flags = qt_window_onsets(beats, duration_s=duration_s, run_onsets_s=run_onsets_s)
    width = round(WINDOW_S * fs_hz)
    rows: list[tuple[float, float, float, float, bool]] = []
    for onset, flag in zip(onsets, flags, strict=True):  # <= 24 + MAX_RUN_WINDOWS windows
        lo = round(onset * fs_hz)
        hi = min(signal_mv.shape[-1], lo + width)
        sel = (beats.r_idx >= lo) & (beats.r_idx < hi)
        try:
            f = analyze_twelve_lead(
                signal_mv[:, lo:hi],
                leads,
                fs_hz=fs_hz,
                r_idx=beats.r_idx[sel] - lo,
                labels=beats.label[sel],
            )
        except EcgError:
            continue  # not measurable here; other windows are
        m = f.measures
        qtc = m.qtc_ms.get(formula)
        if m.qt_ms is None or qtc is None or not np.isfinite(qtc) or m.hr_bpm is None:
            continue
        rows.append((float(onset), float(m.qt_ms), float(qtc), float(m.hr_bpm), bool(flag)))
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return HolterQt(
        onset_s=np.asarray(cols[0], dtype=np.float64),
        qt_ms=np.asarray(cols[1], dtype=np.float64),
        qtc_ms=np.asarray(cols[2], dtype=np.float64),
        hr_bpm=np.asarray(cols[3], dtype=np.float64),
        before_run=np.asarray(cols[4], dtype=bool),
        formula=formula,
    )
