"""12-lead delineation: median beat, global fiducials, per-beat fiducials and P waves."""

from ecg_core.delineation.delineate import Delineation, delineate_record
from ecg_core.delineation.median_beat import DelineationParams, Fiducials, MedianBeat
from ecg_core.delineation.pwave import PWaves, detect_p_waves, p_waves_from_delineation

__all__ = [
    "Delineation",
    "DelineationParams",
    "Fiducials",
    "MedianBeat",
    "PWaves",
    "delineate_record",
    "detect_p_waves",
    "p_waves_from_delineation",
]
