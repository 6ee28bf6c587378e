"""Ectopic runs and patterns on the labelled beat series (vectorised over beats).

- Ventricular runs: maximal runs of consecutive ``V``/``F`` beats (couplet = 2, run >= 3;
  VT when the run rate is >= ``vt_min_rate_bpm``, else idioventricular rhythm, IVR).
- Supraventricular runs: >= 3 consecutive ``S`` beats at >= ``svt_min_rate_bpm`` (SVTA).
- Bigeminy / trigeminy: >= ``min_cycles`` repeats of N-V (or N-N-V).
- PVC coupling: RR before each ventricular beat and the RR before that, for the R-on-T
  rule (the rule compares the coupling interval with the preceding QT).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecg_core.rhythm.intervals import true_runs
from ecg_core.types import BeatSeries

__all__ = ["BeatRuns", "beat_runs", "pattern_runs", "pvc_coupling"]


@dataclass(frozen=True)
class BeatRuns:
    """Runs of consecutive beats of one kind.

    Attributes
    ----------
    first, last : ndarray of intp, shape (n_runs,)
        Beat indices of the first and last beat of each run (inclusive).
    n_beats : ndarray of intp, shape (n_runs,)
        Beats in each run.
    rate_bpm : ndarray of float64, shape (n_runs,)
        Mean rate inside the run (from its first to last beat; for 1-beat runs the
        coupling RR), /min.
    onset_s, offset_s : ndarray of float64, shape (n_runs,)
        Times of the first and last beat, s.
    """

    first: NDArray[np.intp]
    last: NDArray[np.intp]
    n_beats: NDArray[np.intp]
    rate_bpm: NDArray[np.float64]
    onset_s: NDArray[np.float64]
    offset_s: NDArray[np.float64]

    def select(self, keep: NDArray[np.bool_]) -> BeatRuns:
        """Subset of the runs."""
        return BeatRuns(
            self.first[keep],
            self.last[keep],
            self.n_beats[keep],
            self.rate_bpm[keep],
            self.onset_s[keep],
            self.offset_s[keep],
        )


def _runs_from_mask(beats: BeatSeries, mask: NDArray[np.bool_], min_beats: int) -> BeatRuns:
    s, e = true_runs(mask)
    keep = (e - s) >= min_beats
    s, e = s[keep], e[keep]
    last = e - 1
    t = beats.r_idx.astype(np.float64) / beats.fs_hz
    # rate: from the beat before the run (coupling) to the last beat, n RR intervals
    start = np.maximum(s - 1, 0)
    n_rr = last - start
    dur = t[last] - t[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where((n_rr > 0) & (dur > 0), 60.0 * n_rr / dur, np.nan)
    return BeatRuns(
        first=s.astype(np.intp),
        last=last.astype(np.intp),
        n_beats=(e - s).astype(np.intp),
        rate_bpm=rate.astype(np.float64),
        onset_s=t[s] if s.size else np.zeros(0),
        offset_s=t[last] if s.size else np.zeros(0),
    )


def beat_runs(beats: BeatSeries, labels: tuple[str, ...], *, min_beats: int) -> BeatRuns:
    """Maximal runs of consecutive beats whose label is in ``labels``.

    Parameters
    ----------
    beats : BeatSeries
        Labelled beats.
    labels : tuple of str
        AAMI classes forming the run, e.g. ``("V", "F")``.
    min_beats : int
        Shortest run returned.

    Returns
    -------
    BeatRuns
        The runs, in time order.
    """
    return _runs_from_mask(beats, np.isin(beats.label, labels), min_beats)


def pattern_runs(beats: BeatSeries, *, period: int, min_cycles: int) -> BeatRuns:
    """Runs of ventricular bigeminy (``period=2``: N V) or trigeminy (``period=3``: N N V).

    Parameters
    ----------
    beats : BeatSeries
        Labelled beats.
    period : int
        Beats per cycle (2 or 3).
    min_cycles : int
        Shortest pattern returned, in cycles (ectopic beats).

    Returns
    -------
    BeatRuns
        Beats covered by each pattern run.
    """
    lab = beats.label
    n = lab.size
    is_v = np.isin(lab, ["V", "F"])
    is_n = lab == "N"
    # cycle ending at beat i: V at i, N at i-1 .. i-period+1
    end = np.zeros(n, dtype=bool)
    if n >= period:
        ok = is_v[period - 1 :].copy()
        for k in range(1, period):  # at most 2 shifts, vectorised over beats
            ok &= is_n[period - 1 - k : n - k]
        end[period - 1 :] = ok
    # consecutive cycles: end[i] and end[i - period] ...
    chain = np.zeros(n, dtype=np.int64)
    for r in range(period):  # each residue class is a strided view
        sub = end[r::period].astype(np.int64)
        s, e = true_runs(sub.astype(bool))
        length = np.zeros(sub.size, dtype=np.int64)
        length[s] = e - s
        chain[r::period] = length
    starts = np.flatnonzero(chain >= min_cycles)
    mask = np.zeros(n, dtype=bool)
    if starts.size:
        cyc = chain[starts]
        first = starts - (period - 1)
        last = starts + (cyc - 1) * period
        delta = np.zeros(n + 1, dtype=np.int64)
        np.add.at(delta, first, 1)
        np.add.at(delta, last + 1, -1)
        mask = np.cumsum(delta)[:n] > 0
    return _runs_from_mask(beats, mask, min_beats=period * min_cycles)


def pvc_coupling(
    beats: BeatSeries,
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Coupling interval of every ventricular beat that follows two conducted beats.

    Parameters
    ----------
    beats : BeatSeries
        Labelled beats.

    Returns
    -------
    v_idx : ndarray of intp, shape (n_v,)
        Beat index of each ventricular beat preceded by two good-quality ``N`` beats and
        followed by a beat.
    coupling_ms : ndarray, shape (n_v,)
        RR from the preceding beat to the PVC, ms.
    prev_rr_ms : ndarray, shape (n_v,)
        The RR before that (the basic cycle the preceding T wave belongs to), ms.
    next_rr_ms : ndarray, shape (n_v,)
        RR from the PVC to the next beat, ms (a true PVC is followed by a compensatory
        pause; a spurious detection between two sinus beats is not).
    """
    rr = beats.rr_ms
    lab = beats.label
    ok = beats.quality_ok
    v = np.flatnonzero(np.isin(lab, ["V", "F"]))
    v = v[(v >= 2) & (v < lab.size - 1)]
    v = v[(lab[v - 1] == "N") & (lab[v - 2] == "N") & ok[v] & ok[v - 1] & ok[v - 2]]
    return v.astype(np.intp), rr[v - 1], rr[v - 2], rr[v]
