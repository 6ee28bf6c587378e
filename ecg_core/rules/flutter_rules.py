"""``AFL``: atrial flutter episodes of the rhythm track.

Reads the ``AFL`` episodes of ``ctx.episodes`` (:mod:`ecg_core.rhythm.flutter`: regular
atrial activity at 200-370 /min in the QRS-blanked residual) and
``ctx.features["rhythm"]``; every number comes from the rule:

- episodes last >= ``min_duration_s``, or cover >= ``whole_record_fraction`` of a
  record shorter than that (a 10 s 12-lead ECG in flutter, as for AF: ESC 2020);
- with a ``threshold``, only episodes whose ventricular rate is >= threshold /min count
  (a profile can make flutter with a very fast ventricular response critical, as
  ``SVT_FAST`` does for AF); ``max_ventricular_rate_bpm`` bounds the rate from above (so
  the abnormal and the critical rule do not report the same episode twice);
- AF takes precedence (docs/rhythm.md, "Atrial flutter"): a span the AF detector claims
  (``features["rhythm"].af``, including the resting 12-lead AF check that runs after
  the rhythm track) is never reported as flutter too.

Value: the atrial (flutter) rate of the longest episode, /min.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ecg_core.rhythm.flutter import subtract_spans
from ecg_core.rules.arrhythmia_base import aggregate, feats
from ecg_core.rules.context import RuleContext
from models.profile import Rule
from models.result import Finding

if TYPE_CHECKING:
    from ecg_core.rules.engine import Evaluator

__all__ = ["EVALUATORS"]


def _num(v: object) -> float:
    return float(v) if isinstance(v, int | float) else float("nan")


def _afl(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """AFL episodes (see the module docstring); one aggregated finding."""
    f = feats(ctx)
    if f is None:
        return []
    eps = [e for e in ctx.episodes if e.type == "AFL"]
    if not eps:
        return []
    on = np.array([e.onset_s for e in eps], dtype=np.float64)
    off = np.array([e.offset_s for e in eps], dtype=np.float64)
    atrial = np.array([_num(e.evidence.get("atrial_rate_bpm")) for e in eps])
    vent = np.array([_num(e.evidence.get("ventricular_rate_bpm")) for e in eps])
    ratio = np.array([_num(e.evidence.get("conduction_ratio")) for e in eps])
    # AF wins: take the AF spans out (the resting AF check may add AF after the track)
    keep_on, keep_off = subtract_spans(on, off, f.af.onset_s, f.af.offset_s)
    src = np.searchsorted(on, keep_on, side="right") - 1  # episode each piece comes from
    dur = keep_off - keep_on
    whole = dur >= rule.param("whole_record_fraction", 1.0) * f.duration_s
    ok = (dur >= rule.min_duration_s) | whole
    v = vent[src] if src.size else np.zeros(0)
    if rule.threshold is not None:
        ok &= v >= rule.threshold
    ok &= ~(v >= rule.param("max_ventricular_rate_bpm", float("inf")))
    if not ok.any():
        return []
    longest = int(np.flatnonzero(ok)[np.argmax(dur[ok])])
    k = int(src[longest])
    return aggregate(
        rule,
        profile,
        f,
        keep_on[ok],
        keep_off[ok],
        float(atrial[k]),
        "atrial flutter",
        {
            "atrial_rate_bpm": round(float(atrial[k]), 1),
            "ventricular_rate_bpm": None if not np.isfinite(vent[k]) else round(float(vent[k]), 1),
            "conduction_ratio": None if not np.isfinite(ratio[k]) else round(float(ratio[k]), 2),
        },
    )


EVALUATORS: dict[str, Evaluator] = {"AFL": _afl}
"""Evaluators by item code (merged by :mod:`ecg_core.rules.engine`)."""
