"""What rule evaluators see: every feature the core stages measured on one record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecg_core.comparison import StoredEcg
from ecg_core.types import BeatSeries
from models.profile import RecordingType
from models.record import Sex
from models.result import Episode, Measurements

__all__ = ["RuleContext"]


@dataclass(frozen=True)
class RuleContext:
    """Features of one record, as the rule evaluators read them.

    Attributes
    ----------
    fs_hz : float
        Sampling rate, Hz.
    duration_s : float
        Record duration, s.
    recording : {"resting", "holter"}
        Recording type; selects rules.
    leads : tuple of str
        Lead names of the analysed signal.
    beats : BeatSeries or None
        Detected and classified beats.
    episodes : tuple of Episode
        Rhythm episodes (PhysioNet vocabulary plus PAUSE and NOISE).
    measurements : Measurements or None
        Global intervals and per-lead ST.
    patient_age_years, patient_sex
        Demographics when known (ischaemia thresholds depend on them).
    features : mapping
        Stage-specific features keyed by stage name (``rhythm``, ``twelve_lead``, ...);
        each stage documents what it puts there.
    prior : StoredEcg or None
        The same patient's previous analysed ECG, for the comparison rules
        (:mod:`ecg_core.rules.comparison_rules`); None when there is none (or it was not
        looked up).
    """

    fs_hz: float
    duration_s: float
    recording: RecordingType
    leads: tuple[str, ...]
    beats: BeatSeries | None = None
    episodes: tuple[Episode, ...] = ()
    measurements: Measurements | None = None
    patient_age_years: float | None = None
    patient_sex: Sex | None = None
    features: Mapping[str, Any] = field(default_factory=dict)
    prior: StoredEcg | None = None
