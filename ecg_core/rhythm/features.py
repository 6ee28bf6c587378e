"""Rhythm-stage parameters and the features the arrhythmia rules read.

:class:`RhythmParams` holds the thresholds that shape the episode track. The clinical
ones are taken from the rule profile (:func:`params_from_profile`), so a profile that
moves, e.g., the sinus-bradycardia limit moves the episodes too; the rest are algorithm
parameters documented where they are defined.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from ecg_core.rhythm.af import AfParams
from ecg_core.rhythm.av_dissociation import ThirdDegree
from ecg_core.rhythm.flutter import FlutterParams
from ecg_core.rhythm.pauses import Pauses
from ecg_core.rhythm.runs import BeatRuns
from ecg_core.rhythm.vf import VfParams
from models.profile import RuleProfile

__all__ = ["AfEpisodes", "RhythmFeatures", "RhythmParams", "params_from_profile"]


@dataclass(frozen=True)
class RhythmParams:
    """Thresholds of the rhythm stage.

    Attributes
    ----------
    pause_min_s : float
        Every RR at least this long is a PAUSE episode (Holter reports list pauses
        > 2.0 s; ACC/AHA 2017 Holter reporting) -- profile rule ``PAUSE``.
    asystole_min_s : float
        No QRS for at least this long is asystole -- profile rule ``ASYSTOLE``.
    brady_bpm, tachy_bpm : float
        Sinus bradycardia / tachycardia limits (AHA 2007: < 60, > 100 /min) -- profile
        rules ``SINUS_BRADY`` / ``SINUS_TACHY``.
    vt_min_rate_bpm, svt_min_rate_bpm : float
        Run rates for VT (>= 3 V beats > 100 /min) and SVT (>= 3 S beats > 100 /min).
    min_pattern_cycles : int
        Bigeminy / trigeminy need at least this many consecutive cycles.
    rate_window_rr : int
        RRs in the centred window that gives the local rate.
    af, vf, flutter : AfParams, VfParams, FlutterParams
        Detector parameters.
    """

    pause_min_s: float = 2.0
    asystole_min_s: float = 3.0
    brady_bpm: float = 60.0
    tachy_bpm: float = 100.0
    vt_min_rate_bpm: float = 100.0
    svt_min_rate_bpm: float = 100.0
    min_pattern_cycles: int = 3
    rate_window_rr: int = 9
    af: AfParams = field(default_factory=AfParams)
    vf: VfParams = field(default_factory=VfParams)
    flutter: FlutterParams = field(default_factory=FlutterParams)


def params_from_profile(profile: RuleProfile, base: RhythmParams | None = None) -> RhythmParams:
    """Take the episode thresholds from the profile's rules where present.

    Parameters
    ----------
    profile : RuleProfile
        Rule profile; the first enabled rule of each code below is read.
    base : RhythmParams, optional
        Defaults for the thresholds the profile does not set.

    Returns
    -------
    RhythmParams
        ``pause_min_s`` <- ``PAUSE.threshold``, ``asystole_min_s`` <- ``ASYSTOLE.threshold``,
        ``brady_bpm`` <- ``SINUS_BRADY.threshold``, ``tachy_bpm`` <- ``SINUS_TACHY.threshold``,
        ``vt_min_rate_bpm`` <- ``NSVT.threshold``, ``svt_min_rate_bpm`` <- ``SVT.threshold``.
    """
    p = base or RhythmParams()
    first: dict[str, float] = {}
    for rule in profile.rules:
        if rule.enabled and rule.threshold is not None and rule.code not in first:
            first[rule.code] = rule.threshold
    mapping = {
        "PAUSE": "pause_min_s",
        "ASYSTOLE": "asystole_min_s",
        "SINUS_BRADY": "brady_bpm",
        "SINUS_TACHY": "tachy_bpm",
        "NSVT": "vt_min_rate_bpm",
        "SVT": "svt_min_rate_bpm",
    }
    for code, attr in mapping.items():
        if code in first:
            p = replace(p, **{attr: first[code]})  # type: ignore[arg-type]
    return p


@dataclass(frozen=True)
class AfEpisodes:
    """AF episodes with the ventricular response inside each.

    Attributes
    ----------
    onset_s, offset_s : ndarray, shape (n,)
        Episode bounds, s.
    mean_rate_bpm : ndarray, shape (n,)
        Mean ventricular rate, /min.
    min_rr_ms : ndarray, shape (n,)
        Shortest RR between two conducted (non-V) beats, ms.
    median_qrs_ms : ndarray, shape (n,)
        Median QRS width of the beats inside, ms (NaN if widths unknown).
    n_beats : ndarray of intp, shape (n,)
        Beats inside.
    """

    onset_s: NDArray[np.float64]
    offset_s: NDArray[np.float64]
    mean_rate_bpm: NDArray[np.float64]
    min_rr_ms: NDArray[np.float64]
    median_qrs_ms: NDArray[np.float64]
    n_beats: NDArray[np.intp]


@dataclass(frozen=True)
class RhythmFeatures:
    """What the rhythm stage measured; ``ctx.features["rhythm"]``.

    Attributes
    ----------
    duration_s : float
        Record duration, s.
    t_beat_s : ndarray, shape (n_beats,)
        Beat times, s.
    label : ndarray of str, shape (n_beats,)
        AAMI labels.
    qrs_ms : ndarray, shape (n_beats,)
        QRS widths, ms (NaN unknown).
    local_rate_bpm : ndarray, shape (n_beats,)
        Local ventricular rate around each beat (median RR of a centred window), /min.
    pauses : Pauses
        RR >= ``pause_min_s`` outside noise and VF.
    v_runs : BeatRuns
        Runs of >= 2 ventricular beats (couplets included).
    s_runs : BeatRuns
        Runs of >= 3 supraventricular beats at >= ``svt_min_rate_bpm``.
    bigeminy, trigeminy : BeatRuns
        Ventricular bigeminy / trigeminy runs.
    af : AfEpisodes
        AF episodes with their ventricular response.
    vf_onset_s, vf_offset_s : ndarray
        VF/VFL episodes from the signal, s.
    asys_onset_s, asys_offset_s : ndarray
        Asystole found in the signal itself (quiet spans >= ``asystole_min_s``), s.
    vf_windows_vt_like : int
        Signal windows with an organised fast ventricular oscillation (VT-like).
    pvc_idx : ndarray of intp
        Ventricular beats preceded by two beats.
    pvc_coupling_ms, pvc_prev_rr_ms, pvc_next_rr_ms : ndarray
        Coupling interval, the RR before it and the RR after the PVC, ms.
    pvc_family : ndarray of intp
        Morphology family per PVC (-1 unassigned).
    pvc_normal_corr : ndarray
        QRS correlation of each PVC with the median sinus beat (high = likely mislabelled).
    bii_idx : ndarray of intp
        Beats opening a second-degree-block candidate pause.
    t_alternans_mv : float
        Sustained T-wave alternans, mV (NaN if not measurable).
    t_alternans_beat : int
        Beat with the strongest alternation (-1 if not measurable).
    noise_spans_s : ndarray, shape (n, 2)
        Unanalysable spans, s.
    leads : tuple of str
        Leads analysed.
    params : RhythmParams
        Thresholds used.
    third_degree : ThirdDegree or None
        Windows with AV dissociation (third-degree AV block); None when not analysed.
    """

    duration_s: float
    t_beat_s: NDArray[np.float64]
    label: NDArray[np.str_]
    qrs_ms: NDArray[np.float64]
    local_rate_bpm: NDArray[np.float64]
    pauses: Pauses
    v_runs: BeatRuns
    s_runs: BeatRuns
    bigeminy: BeatRuns
    trigeminy: BeatRuns
    af: AfEpisodes
    vf_onset_s: NDArray[np.float64]
    vf_offset_s: NDArray[np.float64]
    asys_onset_s: NDArray[np.float64]
    asys_offset_s: NDArray[np.float64]
    vf_windows_vt_like: int
    pvc_idx: NDArray[np.intp]
    pvc_coupling_ms: NDArray[np.float64]
    pvc_prev_rr_ms: NDArray[np.float64]
    pvc_next_rr_ms: NDArray[np.float64]
    pvc_family: NDArray[np.intp]
    pvc_normal_corr: NDArray[np.float64]
    bii_idx: NDArray[np.intp]
    t_alternans_mv: float
    t_alternans_beat: int
    noise_spans_s: NDArray[np.float64]
    leads: tuple[str, ...]
    params: RhythmParams
    third_degree: ThirdDegree | None = None

    @property
    def noise_fraction(self) -> float:
        """Share of the record inside unanalysable spans."""
        if self.duration_s <= 0 or self.noise_spans_s.size == 0:
            return 0.0
        return float(np.sum(self.noise_spans_s[:, 1] - self.noise_spans_s[:, 0]) / self.duration_s)
