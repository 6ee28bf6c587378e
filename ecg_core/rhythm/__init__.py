"""Rhythm analysis: timed episodes (PhysioNet vocabulary) and arrhythmia features.

Entry point: :func:`analyze_rhythm` (beats + signal -> episodes, :class:`RhythmFeatures`).
Method and measured accuracy: docs/rhythm.md.
"""

from ecg_core.rhythm.episodes import analyze_rhythm
from ecg_core.rhythm.features import RhythmFeatures, RhythmParams, params_from_profile

__all__ = ["RhythmFeatures", "RhythmParams", "analyze_rhythm", "params_from_profile"]
