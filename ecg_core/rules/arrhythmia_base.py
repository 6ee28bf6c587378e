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

__all__ = ["aggregate", "beat_range", "feats", "finding", "per_event", "ront_pvcs", "thr"]


def feats(ctx: RuleContext) -> RhythmFeatures | None:
    """The rhythm features of ``ctx`` (None when the rhythm stage did not run)."""
    f = ctx.features.get("rhythm")
    return f if isinstance(f, RhythmFeatures) else None


def thr(rule: Rule) -> float:
    """The rule's threshold; :class:`RuleProfileError` when the rule has none."""
    if rule.threshold is None:
        raise RuleProfileError(f"rule {rule.id!r} ({rule.code}) needs a threshold")
    return rule.threshold


def ront_pvcs(
    f: RhythmFeatures,
    *,
    qtc_ms: float,
    ratio: float,
    min_compensation: float,
    max_normal_corr: float,
    min_family_beats: float = 1.0,
    max_prematurity: float = np.inf,
    min_qrs_ms: float = 0.0,
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """R-on-T PVCs: coupling interval <= ``ratio`` x the QT of the beat before.

    Parameters
    ----------
    f : RhythmFeatures
        Rhythm features (PVCs after two beats, their coupling and surrounding RRs).
    qtc_ms : float
        Corrected QT; the QT of the beat before each PVC is ``qtc_ms * sqrt(RR_s)``
        (Bazett), ms.
    ratio : float
        Coupling / QT at or below which a PVC falls on the T wave.
    min_compensation : float
        Coupling + next RR must be >= this x the preceding RR (compensatory pause).
    max_normal_corr : float
        PVCs whose QRS correlates >= this with the sinus template are not counted.
    min_family_beats : float
        Minimum PVCs in the morphology family.
    max_prematurity : float
        A PVC is premature: coupling <= this x the preceding RR.
    min_qrs_ms : float
        A PVC is wide: QRS >= this, ms (unknown widths pass).

    Returns
    -------
    hit : ndarray of intp
        Positions (into ``f.pvc_idx``) of the R-on-T PVCs.
    coupling_ratio, qt_ms : ndarray, shape (n_pvc,)
        Coupling / QT and the QT used, per PVC.
    credible : ndarray of bool, shape (n_pvc,)
        Premature, wide, compensated PVCs not resembling the sinus beat.
    """
    qt = np.asarray(qtc_ms * np.sqrt(f.pvc_prev_rr_ms / 1000.0), dtype=np.float64)
    cr = f.pvc_coupling_ms / qt
    credible = (f.pvc_coupling_ms + f.pvc_next_rr_ms) >= min_compensation * f.pvc_prev_rr_ms
    credible &= ~(f.pvc_normal_corr >= max_normal_corr)
    credible &= f.pvc_coupling_ms <= max_prematurity * f.pvc_prev_rr_ms
    credible &= ~(f.qrs_ms[f.pvc_idx] < min_qrs_ms)
    fam = f.pvc_family
    sizes = np.bincount(fam[fam >= 0], minlength=1)
    fam_size = np.where(fam >= 0, sizes[np.maximum(fam, 0)], 0)
    hit = np.flatnonzero((cr <= ratio) & credible & (fam_size >= min_family_beats))
    return hit, cr, qt, credible


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
