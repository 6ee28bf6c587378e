"""Pauses (long RR intervals) and asystole on the beat series.

Every RR at least ``min_pause_s`` long is a pause. A pause is not trusted when it overlaps
a span where beats cannot be found (noise, lead off) or a VF episode (QRS detection
fails in VF; a gap there is not a pause). A pause whose signal is quiet (small amplitude
in every lead: no organised ventricular activity) and at least ``asystole_min_s`` long
is asystole (ventricular standstill).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecg_core.types import BeatSeries

__all__ = ["Pauses", "find_pauses"]


@dataclass(frozen=True)
class Pauses:
    """Long RR intervals.

    Attributes
    ----------
    before_idx : ndarray of intp, shape (n,)
        Index of the beat that opens each pause (the next beat closes it).
    onset_s, offset_s : ndarray, shape (n,)
        Times of the two beats, s.
    rr_s : ndarray, shape (n,)
        Pause length, s.
    quiet : ndarray of bool, shape (n,)
        Signal in the pause is quiet in every lead (candidate asystole).
    """

    before_idx: NDArray[np.intp]
    onset_s: NDArray[np.float64]
    offset_s: NDArray[np.float64]
    rr_s: NDArray[np.float64]
    quiet: NDArray[np.bool_]


def _overlaps(
    on: NDArray[np.float64], off: NDArray[np.float64], spans: NDArray[np.float64]
) -> NDArray[np.bool_]:
    if spans.size == 0 or on.size == 0:
        return np.zeros(on.size, dtype=bool)
    return np.asarray(
        ((on[:, None] < spans[None, :, 1]) & (spans[None, :, 0] < off[:, None])).any(axis=1)
    )


def find_pauses(
    beats: BeatSeries,
    *,
    min_pause_s: float,
    exclude_s: NDArray[np.float64],
    signal_mv: NDArray[np.float64],
    duration_s: float,
    quiet_amp_mv: float = 0.3,
) -> Pauses:
    """Find every RR of at least ``min_pause_s``, including the record edges.

    Parameters
    ----------
    beats : BeatSeries
        Detected beats.
    min_pause_s : float
        Shortest RR reported, s.
    exclude_s : ndarray, shape (n_spans, 2)
        Spans (s) where a missing beat is not a pause (noise, VF).
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG, mV (for the quiet-signal check inside each pause).
    duration_s : float
        Record duration, s (a record with no beat at all is one long pause).
    quiet_amp_mv : float
        A pause is quiet when, in every lead, 95 % of its samples (after the first
        0.45 s, the T wave of the last beat) lie within this distance of the median:
        P waves (0.1-0.25 mV) stay below it, QRS complexes and VF do not. Algorithm
        parameter.

    Returns
    -------
    Pauses
        Trusted pauses.
    """
    t = beats.r_idx.astype(np.float64) / beats.fs_hz
    # edges: a gap before the first / after the last beat counts too (no beat at all
    # during the gap); 0 and duration_s act as virtual beats there
    bounds = np.concatenate(([0.0], t, [duration_s]))
    rr = np.diff(bounds)
    idx = np.flatnonzero(rr >= min_pause_s)
    on, off = bounds[idx], bounds[idx + 1]
    keep = ~_overlaps(on, off, np.asarray(exclude_s, dtype=np.float64).reshape(-1, 2))
    idx, on, off = idx[keep], on[keep], off[keep]
    quiet = np.zeros(idx.size, dtype=bool)
    fs = beats.fs_hz
    x = np.atleast_2d(signal_mv)
    for k in range(idx.size):  # loop over pauses (rare events), vectorised over samples
        a = int((on[k] + 0.45) * fs)
        b = int((off[k] - 0.1) * fs)
        if b - a >= int(0.5 * fs):
            seg = x[:, a:b]
            dev = np.abs(seg - np.median(seg, axis=1, keepdims=True))
            quiet[k] = bool(np.all(np.percentile(dev, 95, axis=1) < quiet_amp_mv))
    return Pauses(
        before_idx=(idx - 1).astype(np.intp),
        onset_s=on,
        offset_s=off,
        rr_s=off - on,
        quiet=quiet,
    )
