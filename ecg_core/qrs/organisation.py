"""Spans without organised QRS complexes (ventricular fibrillation / flutter) in one chunk.

A QRS detector finds "beats" in VF because its waves pass the threshold; those beats must
not reach the rhythm stage as if they were QRS complexes. Running the signal-based VF
detector of the rhythm stage (:mod:`ecg_core.rhythm.vf`: spectral concentration,
threshold-crossing count, autocorrelation; Amann et al., BioMed Eng OnLine 2005;4:60)
over every chunk would double its cost, so it runs only on *candidate* spans, found from
what the detector already knows:

* samples judged unanalysable (no lead with a QRS-like energy envelope), and
* runs of ``RUN_BEATS`` or more consecutive detections that look unlike an organised
  QRS (:func:`ecg_core.beat_class.not_organised`: joined no morphology cluster, or their
  slope energy is spread over the window like a sinusoidal flutter wave).

Each candidate span is widened by one VF window on each side and handed to
:func:`ecg_core.rhythm.vf.vf_trace`; its VF/VFL episodes come back as a sample mask. In
ordinary recordings the candidates cover a small share of the time, so the extra cost is
small. (The rhythm package does not import this package, so there is no import cycle.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ecg_core.rhythm.intervals import true_runs
from ecg_core.rhythm.vf import VfParams, vf_episodes, vf_trace

__all__ = ["RUN_BEATS", "disorganised_mask"]

#: Consecutive unclustered detections that make a candidate span.
RUN_BEATS = 3


def disorganised_mask(
    ecg_mv: NDArray[np.float64],
    fs_hz: float,
    *,
    bad_mask: NDArray[np.bool_],
    r_idx: NDArray[np.intp],
    suspect: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """Mask of the samples inside VF/VFL episodes (no organised QRS) in one chunk.

    Parameters
    ----------
    ecg_mv : ndarray, shape (n_leads, n_samples)
        Chunk ECG in mV (finite); the cleaned signal sub-sampled to the detection rate is
        enough (the VF features use 1-20 Hz).
    fs_hz : float
        Sampling rate, Hz.
    bad_mask : ndarray of bool, shape (n_samples,)
        Samples the detector judged unanalysable.
    r_idx : ndarray of intp, shape (n_beats,)
        Detections in the chunk, sorted.
    suspect : ndarray of bool, shape (n_beats,)
        Detection does not look like an organised QRS.

    Returns
    -------
    ndarray of bool, shape (n_samples,)
        True inside VF/VFL episodes.
    """
    n = ecg_mv.shape[1]
    params = VfParams()
    cand = bad_mask.copy()
    b0, b1 = true_runs(suspect)
    for s, e in zip(b0.tolist(), b1.tolist(), strict=True):
        if e - s >= RUN_BEATS:
            cand[r_idx[s] : r_idx[e - 1] + 1] = True
    out = np.zeros(n, dtype=bool)
    if not cand.any():
        return out
    pad = round(params.window_s * fs_hz)
    c0, c1 = true_runs(cand)
    lo = np.maximum(c0 - pad, 0)
    hi = np.minimum(c1 + pad, n)
    # merge spans that touch after widening
    keep = np.r_[True, lo[1:] > hi[:-1]]
    starts = lo[keep]
    ends = np.maximum.reduceat(hi, np.flatnonzero(keep))
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if b - a < pad:
            continue
        trace = vf_trace(ecg_mv[:, a:b], fs_hz=fs_hz, params=params)
        on_s, off_s = vf_episodes(trace, params=params)
        for on, off in zip(on_s.tolist(), off_s.tolist(), strict=True):
            out[a + max(0, round(on * fs_hz)) : a + min(b - a, round(off * fs_hz))] = True
    return out
