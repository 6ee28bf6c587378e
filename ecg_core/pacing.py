"""Pacemaker spike detection and paced-beat marking.

A pacemaker stimulus appears on a surface ECG sampled fast enough (>= ~250 Hz, most
resting electrocardiographs at 500 Hz) as a **spike**: an abrupt deflection of 1-2 samples,
seen at the same instant in several leads, after which the trace relaxes back towards
baseline within a few tens of ms (the output capacitor's recharge), and followed by the
captured chamber's depolarisation: a wide QRS within ~250 ms for ventricular pacing, a P
wave for atrial pacing. A QRS upstroke can be as steep but does not return (it is part of a
complex), and a baseline step (electrode motion, LUDB joins) stays at its new level; the
return test separates both from a stimulus.

Clinical use: paced beats are wide by design, so wide-QRS, long-QT, IVR/VT and Q-wave
readings are secondary in paced beats; Smith-modified Sgarbossa replaces the ordinary ST
criteria (Sgarbossa et al., Am J Cardiol 1996;77:423; Smith et al., Ann Emerg Med
2012;60:766), and a paced rhythm is reported as such (PhysioNet rhythm label ``P``;
AHA/ACCF/HRS 2009 recommendations for ECG interpretation, part II, statement 13 on paced
rhythm: Kligfield et al., Circulation 2007;115:1306 and Mason et al., JACC 2007;49:1128).

Bipolar leads produce spikes too small for most surface ECGs; their absence here is not
proof of an unpaced heart, so this stage only ever *adds* "paced" evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["MIN_FS_HZ", "PacingAnalysis", "detect_pacing", "paced_episode_types"]

MIN_FS_HZ = 250.0
"""Below this rate a 0.5-2 ms stimulus is smoothed away by the anti-alias filter."""

SPIKE_Z = 5.0
"""Second difference above this multiple of the lead's 99th percentile marks a candidate."""

MIN_SPIKE_LEADS = 3
"""Leads that must show the spike at the same instant (fewer when the record has fewer)."""

RETURN_MS = 30.0
"""The trace is read this long after the spike to test the return towards baseline."""

MAX_RETURN_FRACTION = 0.6
"""A spike relaxes to <= 60 % of its deflection within ``RETURN_MS``; a step or QRS does not."""

MAX_SPIKE_TO_R_MS = 350.0
"""A stimulus captures a beat whose R peak follows within this time (AV delay + QRS)."""

CHUNK_S = 60.0
"""Spikes are searched in chunks of this length (scale per chunk, bounded memory)."""

MIN_PACED_BEATS = 3
MIN_PACED_FRACTION = 0.25
"""A *paced rhythm* needs >= 3 paced beats and >= 25 % of the beats paced."""


@dataclass(frozen=True)
class PacingAnalysis:
    """Pacemaker stimuli found in one record.

    Attributes
    ----------
    assessable : bool
        False when the sampling rate is too low for spikes to survive (< ``MIN_FS_HZ``).
    spike_idx : ndarray of intp, shape (n_spikes,)
        Sample index of each stimulus.
    paced_beat : ndarray of bool, shape (n_beats,)
        True where a stimulus preceded the beat's R peak by 0-``MAX_SPIKE_TO_R_MS`` ms.
    spike_to_r_ms : ndarray of float64, shape (n_paced,)
        Stimulus-to-R-peak delay of each paced beat, ms.
    paced_rhythm : bool
        True when enough beats are paced to call the rhythm paced.
    next_r_ms : ndarray of float64, shape (n_spikes,)
        Time from each stimulus to the next R peak, ms (inf when none follows).
    tail_ms : ndarray of float64, shape (n_spikes,)
        Time from each stimulus to the end of the record, ms (a capture can only be
        judged missing when the record goes on long enough).
    """

    assessable: bool
    spike_idx: NDArray[np.intp]
    paced_beat: NDArray[np.bool_]
    spike_to_r_ms: NDArray[np.float64]
    paced_rhythm: bool
    next_r_ms: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    tail_ms: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def uncaptured_idx(self, window_ms: float) -> NDArray[np.intp]:
        """Stimuli of a paced rhythm with no R peak within ``window_ms`` (failure to capture).

        Empty unless the rhythm is paced: a lone spike in an unpaced record may be artefact.
        """
        if not self.paced_rhythm:
            return np.zeros(0, dtype=np.intp)
        return self.spike_idx[(self.next_r_ms > window_ms) & (self.tail_ms > window_ms)]

    @property
    def paced_fraction(self) -> float:
        """Fraction of beats that are paced (0 when there are no beats)."""
        return float(self.paced_beat.mean()) if self.paced_beat.size else 0.0


def _lead_scale(d2: NDArray[np.float64]) -> NDArray[np.float64]:
    """99th percentile of |second difference| per lead, on <= 4,000 samples per lead."""
    step = max(1, -(-d2.shape[-1] // 4_000))
    return np.percentile(d2[:, ::step], 99.0, axis=-1) + 1e-9


def _spikes(x: NDArray[np.float64], fs_hz: float) -> NDArray[np.intp]:
    """Sample indices of stimuli in ``x`` (n_leads, n_samples): see the module docstring."""
    empty_i = np.zeros(0, dtype=np.intp)
    n_leads, n = x.shape
    if n < 8:
        return empty_i
    d2 = np.abs(np.diff(x, 2, axis=-1))
    hit = d2 > SPIKE_Z * _lead_scale(d2)[:, None]
    need = min(MIN_SPIKE_LEADS, n_leads)
    cand = np.flatnonzero(hit.sum(axis=0) >= need) + 1  # d2[k] is centred on sample k + 1
    if cand.size == 0:
        return empty_i
    # One event per burst: candidates closer than 10 ms belong to the same deflection.
    gap = max(1, round(0.010 * fs_hz))
    start = cand[np.r_[True, np.diff(cand) > gap]]
    ret = round(RETURN_MS * 1e-3 * fs_hz)
    start = start[(start >= 3) & (start + ret < n)]
    pre = x[:, start - 3]  # (n_leads, n_events)
    win = x[:, start[:, None] + np.arange(3)]  # (n_leads, n_events, 3)
    jump = np.abs(win - pre[:, :, None]).max(axis=-1)
    after = np.abs(x[:, start + ret] - pre)
    leads_hit = hit[:, np.clip(start - 1, 0, n - 3)] | hit[:, np.clip(start - 2, 0, n - 3)]
    frac = np.where(leads_hit, after / np.maximum(jump, 1e-9), np.nan)
    with np.errstate(all="ignore"):
        returned = np.nanmedian(np.where(leads_hit.any(axis=0), frac, 1.0), axis=0)
    return np.asarray(start[returned <= MAX_RETURN_FRACTION], dtype=np.intp)


def detect_pacing(
    ecg_mv: NDArray[np.float64], *, fs_hz: float, r_idx: NDArray[np.intp]
) -> PacingAnalysis:
    """Find pacemaker stimuli and the beats they capture.

    Parameters
    ----------
    ecg_mv : ndarray, shape (n_leads, n_samples)
        ECG in millivolts (raw: the band-pass of the QRS stage would erase spikes).
    fs_hz : float
        Sampling rate, Hz.
    r_idx : ndarray of intp, shape (n_beats,)
        R-peak sample indices from the QRS stage.

    Returns
    -------
    PacingAnalysis
        Stimuli, paced beats and whether the rhythm is paced.

    Examples
    --------
    >>> fs = 500.0
    >>> x = np.zeros((3, 5000))
    >>> r = np.arange(400, 5000, 500)
    >>> for s in r - 50:  # stimulus 100 ms before each R, relaxing in 10 ms
    ...     x[:, s : s + 5] += np.array([1.0, 0.6, 0.3, 0.1, 0.05])
    >>> detect_pacing(x, fs_hz=fs, r_idx=r).paced_rhythm
    True
    """
    x = np.asarray(ecg_mv, dtype=np.float64)
    r = np.asarray(r_idx, dtype=np.intp)
    empty_i = np.zeros(0, dtype=np.intp)
    if fs_hz < MIN_FS_HZ or x.ndim != 2 or x.shape[-1] < 8:
        return PacingAnalysis(False, empty_i, np.zeros(r.size, bool), np.zeros(0), False)
    n = x.shape[-1]
    # Bounded memory on Holter recordings: 60 s chunks, read 0.1 s past their end so a
    # stimulus near a seam still has its return window; each spike kept by one chunk.
    chunk, margin = round(CHUNK_S * fs_hz), round(0.1 * fs_hz)
    found = []
    for lo in range(0, n, chunk):  # a few chunks: 1,440 for 24 h
        sp = _spikes(x[:, lo : min(n, lo + chunk + margin)], fs_hz) + lo
        found.append(sp[sp < lo + chunk])
    spikes = np.concatenate(found) if found else empty_i
    if spikes.size == 0 or r.size == 0:
        return PacingAnalysis(True, spikes, np.zeros(r.size, bool), np.zeros(0), False)
    # Latest stimulus at or before each R peak, and its delay.
    pos = np.searchsorted(spikes, r, side="right") - 1
    has = pos >= 0
    delay_ms = np.full(r.size, np.inf)
    delay_ms[has] = (r[has] - spikes[pos[has]]) * (1000.0 / fs_hz)
    paced = delay_ms <= MAX_SPIKE_TO_R_MS
    n_paced = int(paced.sum())
    rhythm = n_paced >= MIN_PACED_BEATS and n_paced >= MIN_PACED_FRACTION * r.size
    ms = 1000.0 / fs_hz
    nxt = np.searchsorted(r, spikes, side="left")  # first R at or after each spike
    next_r_ms = np.where(nxt < r.size, (r[np.minimum(nxt, r.size - 1)] - spikes) * ms, np.inf)
    tail_ms = (n - spikes) * ms
    return PacingAnalysis(True, spikes, paced, delay_ms[paced], rhythm, next_r_ms, tail_ms)


def paced_episode_types(
    types: list[str],
    onsets_s: list[float],
    offsets_s: list[float],
    pacing: PacingAnalysis,
    *,
    r_idx: NDArray[np.intp],
    fs_hz: float,
) -> list[str]:
    """Rename idioventricular episodes whose beats are paced to ``P`` (paced rhythm).

    A run of wide, regular beats at 20-100 /min is an idioventricular rhythm unless a
    stimulus captures them; then it is a paced rhythm (PhysioNet rhythm label ``(P``).
    Only ``IVR`` is renamed: a ``VT`` or ``VF`` episode is never re-read from pacing
    evidence, so a critical finding cannot be lost here.

    Parameters
    ----------
    types, onsets_s, offsets_s : list
        Episode types and bounds, s.
    pacing : PacingAnalysis
        Output of :func:`detect_pacing` for the same beats.
    r_idx : ndarray of intp, shape (n_beats,)
        R-peak sample indices.
    fs_hz : float
        Sampling rate, Hz.

    Returns
    -------
    list of str
        Episode types, ``IVR`` replaced by ``P`` where >= half of its beats are paced.
    """
    if not pacing.paced_beat.any():
        return list(types)
    t_s = np.asarray(r_idx, dtype=np.float64) / fs_hz
    out = []
    for kind, on, off in zip(types, onsets_s, offsets_s, strict=True):  # a few episodes
        inside = (t_s >= on) & (t_s <= off)
        if kind == "IVR" and inside.any() and pacing.paced_beat[inside].mean() >= 0.5:
            kind = "P"
        out.append(kind)
    return out
