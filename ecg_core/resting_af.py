"""Atrial fibrillation on a resting 12-lead ECG (10 s): irregular RR with no P waves.

The Holter AF detector (:mod:`ecg_core.rhythm.af`) judges windows of >= 11 RR intervals,
which a 10 s ECG at a controlled rate (60-90 /min: 9-14 RRs) often does not have; it
then judges nothing and a rate-controlled AF tracing would read as sinus rhythm. A
resting 12-lead ECG gives what the RR series lacks: the delineator's per-beat P-wave
search on every lead. The ESC definition is used directly (Hindricks et al., ESC 2020 AF
guideline, Eur Heart J 2021;42:373): "irregularly irregular RR intervals, absence of
distinct repeating P waves", documented on the entire 12-lead ECG.

- **Irregular**: the median absolute difference of RRs at lags 1, 2 and 3, normalised by
  the median RR, is > ``MIN_IRREGULARITY`` at every lag (bigeminy/trigeminy are regular at
  lag 2/3; AF at none) -- the same statistic and threshold (0.08) as the Holter detector,
  on all valid RRs of the record (those not touching a V/F/Q beat or a poor-quality one).
- **No P waves**, by two measures that must agree: P waves found before <=
  ``MAX_P_PRESENT`` (35 %) of the beats by the 12-lead delineation, and a P-wave coherence
  (:func:`ecg_core.rhythm.atrial.p_wave_coherence`, best lead, averages of
  ``COHERENCE_BEATS`` beats, median over the record) known and below
  ``MAX_P_COHERENCE`` -- the Holter detector's "P waves locked to the QRS" veto (0.45).
  The delineator alone misses the P waves of some sinus tachycardias with frequent PACs
  (CinC 2021 Ningbo records: P found before 0 % of beats, coherence 0.5-0.9); at rates
  where every RR is < 550 ms the coherence is unknown and no call is made here.
- At least ``MIN_RR`` valid RRs (6), and (in the analyser) >= 3 leads: P waves can be
  isoelectric in any one lead, so single-lead strips are left to the RR-based detector
  (on the single-lead CinC 2017 records the check added 4 true and 8 false AF calls).

Measured on the public LUDB half (``ecg eval ../shared/ecg-data/ludb --what ludb``): see
docs/rhythm.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecg_core.rhythm.atrial import p_wave_coherence
from ecg_core.rhythm.features import AfEpisodes
from ecg_core.types import BeatSeries

__all__ = [
    "MAX_P_COHERENCE",
    "MAX_P_PRESENT",
    "MIN_IRREGULARITY",
    "MIN_RR",
    "RestingAf",
    "resting_af",
]

MIN_IRREGULARITY = 0.08
"""Normalised median |delta RR| at lags 1-3 above which RR is irregular (as the Holter AF
detector; Tateno & Glass, Med Biol Eng Comput 2001;39:664, use the same idea)."""

MAX_P_PRESENT = 0.35
"""Largest share of beats with a P wave found for "absence of P waves"."""

MIN_RR = 6
"""Fewest valid RR intervals to judge."""

MAX_P_COHERENCE = 0.45
"""P-wave coherence at or above which P waves are locked to the QRS (as ``AfParams``)."""

COHERENCE_BEATS = 6
"""Beats per coherence average (a 10 s ECG at 60 /min has ~9 usable beats)."""


@dataclass(frozen=True)
class RestingAf:
    """The evidence for AF on one resting ECG.

    Attributes
    ----------
    irregularity : float
        Smallest of the normalised median |delta RR| at lags 1-3.
    n_rr : int
        Valid RR intervals used.
    p_present_fraction : float
        Share of beats with a P wave found.
    p_coherence : float
        Median P-wave coherence (0 = no repeating pre-QRS wave, 1 = identical P waves).
    episodes : AfEpisodes
        One episode from the first to the last beat, with its ventricular response.
    """

    irregularity: float
    n_rr: int
    p_present_fraction: float
    p_coherence: float
    episodes: AfEpisodes


def resting_af(
    signal_mv: NDArray[np.float64], beats: BeatSeries, *, p_present_fraction: float | None
) -> RestingAf | None:
    """AF over a whole resting ECG, or None.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        Usable leads, mV.
    beats : BeatSeries
        Beats of the record with AAMI labels and quality.
    p_present_fraction : float or None
        Share of beats with a P wave found by the 12-lead delineation (None: unknown,
        and no call is made).

    Returns
    -------
    RestingAf or None
        The evidence and one AF episode when the record is irregular without P waves.
    """
    if p_present_fraction is None or not np.isfinite(p_present_fraction):
        return None
    if p_present_fraction > MAX_P_PRESENT or len(beats) < MIN_RR + 1:
        return None
    bad = np.isin(beats.label, ["V", "F", "Q"]) | ~beats.quality_ok
    valid = ~(bad[1:] | bad[:-1])
    rr = beats.rr_ms[valid]
    if rr.size < MIN_RR:
        return None
    med = float(np.median(rr))
    lags = [k for k in (1, 2, 3) if rr.size > k + 2]
    irr = min(float(np.median(np.abs(rr[k:] - rr[:-k]))) / med for k in lags)
    if irr <= MIN_IRREGULARITY:
        return None
    pc = p_wave_coherence(signal_mv, beats, window_beats=COHERENCE_BEATS)
    if not np.isfinite(pc).any():
        return None
    coherence = float(np.nanmedian(pc))
    if coherence >= MAX_P_COHERENCE:
        return None
    t_s = beats.r_idx / beats.fs_hz
    conducted = ~bad
    qrs = beats.qrs_ms[conducted]
    episodes = AfEpisodes(
        onset_s=np.array([t_s[0]]),
        offset_s=np.array([t_s[-1]]),
        mean_rate_bpm=np.array([60000.0 / float(np.mean(beats.rr_ms))]),
        min_rr_ms=np.array([float(rr.min())]),
        median_qrs_ms=np.array([float(np.nanmedian(qrs)) if np.isfinite(qrs).any() else np.nan]),
        n_beats=np.array([len(beats)], dtype=np.intp),
    )
    return RestingAf(irr, int(rr.size), float(p_present_fraction), coherence, episodes)
