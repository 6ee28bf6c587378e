"""Second-degree AV block candidates from the RR pattern.

A non-conducted P wave in a regular rhythm leaves an RR of about twice the basic cycle
(Mobitz II, 2:1 block; Mobitz I shows a pause shorter than two cycles after progressive
lengthening). With P waves locked to the QRS around the pause (P-wave coherence high),
a pause of 1.7-2.3 basic cycles is called a second-degree block (``BII``) candidate; a
blocked PAC or sinus arrest can look the same, so the finding is "abnormal", not
critical, and the evidence says how it was found. Third-degree block needs P waves
detected independently of the QRS (AV dissociation) and is not detected here (see
docs/rhythm.md).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ecg_core.types import BeatSeries

__all__ = ["second_degree_candidates"]


def second_degree_candidates(
    beats: BeatSeries,
    p_coherence: NDArray[np.float64],
    *,
    ratio_lo: float = 1.7,
    ratio_hi: float = 2.3,
    min_p_coherence: float = 0.6,
    basic_rr: int = 4,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """RR intervals that look like one dropped conduction.

    Parameters
    ----------
    beats : BeatSeries
        Labelled beats.
    p_coherence : ndarray, shape (n_beats,)
        P-wave coherence per beat.
    ratio_lo, ratio_hi : float
        RR / basic cycle range of a dropped beat.
    min_p_coherence : float
        P waves must be present around the pause.
    basic_rr : int
        RRs before the pause that define the basic cycle (must be regular, +-10 %).

    Returns
    -------
    before_idx : ndarray of intp
        Beat opening each candidate pause.
    ratio : ndarray
        Pause / basic cycle.
    """
    rr = beats.rr_ms
    if rr.size <= basic_rr:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    prev = sliding_window_view(rr[:-1], basic_rr)  # windows ending before RR k
    k = np.arange(basic_rr, rr.size)
    basic = np.median(prev, axis=1)
    regular = (np.abs(prev - basic[:, None]) <= 0.1 * basic[:, None]).all(axis=1)
    ratio = rr[k] / basic
    lab = beats.label
    normal = (lab[k] == "N") & (lab[k + 1] == "N")
    pc = np.nan_to_num(p_coherence, nan=0.0)
    p_ok = (pc[k] >= min_p_coherence) & (pc[k + 1] >= min_p_coherence)
    hit = regular & normal & p_ok & (ratio >= ratio_lo) & (ratio <= ratio_hi)
    return k[hit].astype(np.intp), ratio[hit]
