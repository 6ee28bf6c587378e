"""Shared helpers of the arrhythmia rule evaluators (findings, per-event and aggregated).

Used by :mod:`ecg_core.rules.arrhythmia` (critical items) and
:mod:`ecg_core.rules.arrhythmia_abnormal` (abnormal / informational items).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecg_core.rhythm.features import RhythmFeatures
from ecg_core.rules.context import RuleContext
from models.errors import RuleProfileError
from models.profile import Rule
from models.result import Finding

__all__ = ["aggregate", "beat_range", "feats", "finding", "per_event", "thr"]


def feats(ctx: RuleContext) -> RhythmFeatures | None:
    """The rhythm features of ``ctx`` (None when the rhythm stage did not run)."""
    f = ctx.features.get("rhythm")
    return f if isinstance(f, RhythmFeatures) else None


def thr(rule: Rule) -> float:
    """The rule's threshold; :class:`RuleProfileError` when the rule has none."""
    if rule.threshold is None:
        raise RuleProfileError(f"rule {rule.id!r} ({rule.code}) needs a threshold")
    return rule.threshold


def finding(
    rule: Rule,
    profile: str,
    f: RhythmFeatures,
    *,
    onset_s: float | None,
    offset_s: float | None,
    value: float | str | None,
    message: str,
    evidence: Mapping[str, Any] | None = None,
) -> Finding:
    """One finding of ``rule``: values rounded, threshold and profile attached."""
    return Finding(
        code=rule.code,
        severity=rule.severity,
        onset_s=None if onset_s is None else round(float(onset_s), 3),
        offset_s=None if offset_s is None else round(float(offset_s), 3),
        leads=list(f.leads),
        value=round(float(value), 3) if isinstance(value, float | int) else value,
        threshold=rule.threshold,
        rule=rule.id,
        profile=profile,
        evidence=dict(evidence or {}),
        message=message,
    )


def beat_range(f: RhythmFeatures, on: float, off: float) -> list[int]:
    """First and last beat index inside ``[on, off]`` s."""
    a = int(np.searchsorted(f.t_beat_s, on))
    b = int(np.searchsorted(f.t_beat_s, off, side="right")) - 1
    return [a, max(a, b)]


def per_event(
    rule: Rule,
    profile: str,
    f: RhythmFeatures,
    hits: NDArray[np.intp],
    on: NDArray[np.float64],
    off: NDArray[np.float64],
    values: NDArray[np.float64],
    what: str,
    unit: str,
    extra: list[dict[str, Any]] | None = None,
) -> list[Finding]:
    """One finding per event ``hits`` (capped at ``max_findings``; the rest counted)."""
    cap = int(rule.param("max_findings", 20))
    out = []
    for n, i in enumerate(hits[:cap]):  # loop over qualifying events (capped)
        ev: dict[str, Any] = {"beat_range": beat_range(f, on[i], off[i])}
        if extra is not None:
            ev.update(extra[int(i)])
        if n == 0 and hits.size > cap:
            ev["further_events"] = int(hits.size - cap)
        out.append(
            finding(
                rule,
                profile,
                f,
                onset_s=on[i],
                offset_s=off[i],
                value=float(values[i]),
                message=f"{what}: {values[i]:.1f} {unit} at {on[i]:.1f} s",
                evidence=ev,
            )
        )
    return out


def aggregate(
    rule: Rule,
    profile: str,
    f: RhythmFeatures,
    on: NDArray[np.float64],
    off: NDArray[np.float64],
    value: float,
    what: str,
    extra: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """One finding for all events: count, total and longest duration, longest as time."""
    if on.size == 0:
        return []
    longest = int(np.argmax(off - on))
    ev = {
        "count": int(on.size),
        "total_s": round(float(np.sum(off - on)), 1),
        "longest_s": round(float(off[longest] - on[longest]), 1),
        "beat_range": beat_range(f, on[longest], off[longest]),
        **(extra or {}),
    }
    return [
        finding(
            rule,
            profile,
            f,
            onset_s=on[longest],
            offset_s=off[longest],
            value=value,
            message=f"{what}: {on.size} episode(s), longest {ev['longest_s']} s",
            evidence=ev,
        )
    ]
