"""Evaluator of the paced-rhythm item (reads ``ctx.features["pacing"]``)."""

from __future__ import annotations

import numpy as np

from ecg_core.pacing import PacingAnalysis
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import Evaluator
from ecg_core.rules.twelve_lead_base import _finding
from models.profile import Rule
from models.result import Finding

__all__ = ["EVALUATORS", "paced_rhythm", "pacer_failure"]


def paced_rhythm(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Report a paced rhythm with its stimuli and paced-beat fraction.

    Paced complexes are wide by design: QRS width, QT and ST-T of paced beats are not
    read as in native conduction (AHA/ACCF/HRS 2009 part II, Mason et al., JACC
    2007;49:1128); ischaemia in paced rhythm uses Smith-modified Sgarbossa.
    """
    p = ctx.features.get("pacing")
    if not isinstance(p, PacingAnalysis) or not p.paced_rhythm:
        return []
    min_fraction = float(rule.threshold or 0.0)
    if p.paced_fraction < min_fraction:
        return []
    delay = float(np.median(p.spike_to_r_ms)) if p.spike_to_r_ms.size else float("nan")
    return [
        _finding(
            rule,
            profile,
            value=round(100.0 * p.paced_fraction, 1),
            threshold=round(100.0 * min_fraction, 1),
            onset_s=float(p.spike_idx[0] / ctx.fs_hz),
            offset_s=float(p.spike_idx[-1] / ctx.fs_hz),
            evidence={
                "spikes": int(p.spike_idx.size),
                "paced_beats": int(p.paced_beat.sum()),
                "median_spike_to_r_ms": round(delay, 1),
                "spike_s": [round(float(i) / ctx.fs_hz, 3) for i in p.spike_idx[:50]],
            },
            message=(
                f"paced rhythm: {p.paced_beat.sum()} of {p.paced_beat.size} beats follow a "
                f"pacemaker stimulus (median stimulus-to-R {delay:.0f} ms); QRS width and QT "
                "of paced beats are not interpreted"
            ),
        )
    ]


def pacer_failure(ctx: RuleContext, rule: Rule, profile: str) -> list[Finding]:
    """Failure to capture: stimuli not followed by a QRS within the threshold (ms).

    CRITICAL_VALUES.md section A, ``PACER_FAILURE`` (pacing spike not followed by QRS
    within 300 ms; status unconfirmed, AHA statements 185-190). Only stimuli of a record
    already read as paced count, and ``min_count`` of them are needed, so that one
    artefact spike or one missed QRS detection does not raise a critical alarm. Failure
    to sense (a stimulus inside a native QRS) is not assessed.
    """
    p = ctx.features.get("pacing")
    if not isinstance(p, PacingAnalysis) or not p.paced_rhythm:
        return []
    missed = p.uncaptured_idx(float(rule.threshold or 300.0))
    n_missed = int(missed.size)
    if n_missed < int(rule.param("min_count")):
        return []
    t_s = [round(float(i) / ctx.fs_hz, 3) for i in missed]
    return [
        _finding(
            rule,
            profile,
            value=n_missed,
            threshold=rule.threshold,
            onset_s=t_s[0],
            offset_s=t_s[-1],
            evidence={"uncaptured_spike_s": t_s[:50], "spikes": int(p.spike_idx.size)},
            message=(
                f"pacemaker failure to capture: {n_missed} stimuli with no QRS within "
                f"{rule.threshold:g} ms (first at {t_s[0]:.1f} s)"
            ),
        )
    ]


EVALUATORS: dict[str, Evaluator] = {"PACED_RHYTHM": paced_rhythm, "PACER_FAILURE": pacer_failure}
