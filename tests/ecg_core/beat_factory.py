"""Test helper: the features of one unclustered beat, for the classification rules."""

from __future__ import annotations

import numpy as np

from ecg_core.beat_class import BeatFeatures

#: An ordinary on-time beat shaped like the dominant one.
DEFAULTS = {
    "rr_ratio": 1.0,
    "comp_ratio": 1.0,
    "corr": 0.99,
    "amp_ratio": 1.0,
    "width_s": 0.08,
    "width_excess_s": 0.0,
    "focus": 0.9,
    "gap_s": 0.8,
}


def one_beat(sv_corr: float | None = None, **kw: float) -> BeatFeatures:
    """Features of one unclustered beat: ``DEFAULTS`` overridden by ``kw``."""
    v = DEFAULTS | kw

    def a(name: str) -> np.ndarray:
        return np.array([v[name]], dtype=np.float64)

    return BeatFeatures(
        rr_ratio=a("rr_ratio"),
        comp_ratio=a("comp_ratio"),
        corr=a("corr"),
        amp_ratio=a("amp_ratio"),
        width_s=a("width_s"),
        width_excess_s=a("width_excess_s"),
        cluster=np.array([-1], dtype=np.intp),
        cluster_v=np.zeros(1, dtype=bool),
        cluster_n=np.zeros(1, dtype=bool),
        focus=a("focus"),
        gap_s=a("gap_s"),
        sv_corr=None if sv_corr is None else np.array([sv_corr]),
    )
