"""AV-block rule evaluators that need signal-level atrial activity (third-degree block).

Reads ``ctx.features["rhythm"].third_degree`` (:class:`ecg_core.rhythm.av_dissociation.
ThirdDegree`). Merged into :data:`ecg_core.rules.arrhythmia.EVALUATORS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ecg_core.rhythm.intervals import close_gaps
from ecg_core.rules.arrhythmia_base import feats, per_event
from ecg_core.rules.context import RuleContext
from models.profile import Rule
from models.result import Finding

if TYPE_CHECKING:
    from ecg_core.rules.engine import Evaluator

__all__ = ["AV_EVALUATORS"]


def _av_block_3(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Third-degree AV block: AV-dissociation windows, joined when adjacent.

    With a ``threshold`` (bpm) only blocks whose ventricular rate is below it fire (the
    "or with mean rate < 40 bpm" variant); with ``min_rate_bpm`` only those at or above
    it (so a profile can report slow blocks as critical and the others as abnormal
    without duplicates). ``min_windows`` windows in total are required (default 1).
    """
    f = feats(ctx)
    td = None if f is None else f.third_degree
    if f is None or td is None or td.onset_s.size < int(rule.param("min_windows", 1)):
        return []
    keep = np.ones(td.onset_s.size, dtype=bool)
    if rule.threshold is not None:
        keep &= td.ventricular_bpm < rule.threshold
    keep &= td.ventricular_bpm >= rule.param("min_rate_bpm", 0.0)
    if not keep.any():
        return []
    on, off = close_gaps(td.onset_s[keep], td.offset_s[keep], max_gap=2.0)
    vr = np.array(
        [
            np.mean(td.ventricular_bpm[keep][(td.onset_s[keep] >= a) & (td.onset_s[keep] <= b)])
            for a, b in zip(on, off, strict=True)
        ]
    )
    extra = [
        {
            "atrial_rate_bpm": round(float(np.mean(td.atrial_bpm[keep])), 1),
            "pr_sd_ms": round(float(np.mean(td.pr_sd_ms[keep])), 1),
            "method": "AV dissociation (P waves detected after QRST cancellation)",
        }
        for _ in range(on.size)
    ]
    return per_event(
        rule,
        profile,
        f,
        np.arange(on.size),
        on,
        off,
        vr,
        "third-degree AV block, ventricular rate",
        "bpm",
        extra,
    )


AV_EVALUATORS: dict[str, Evaluator] = {"AV_BLOCK_3": _av_block_3}
"""AV-block evaluators by item code."""
