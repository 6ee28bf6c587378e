"""The analysis result: the JSON contract of ``ecg analyze`` and of the stored result.

Key names are stable (issue 2). New keys may be added; none may be renamed or removed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AnalysisResult",
    "BeatsOut",
    "Episode",
    "Finding",
    "Measurements",
    "Severity",
]

Severity = Literal["critical", "abnormal", "info"]
AamiClass = Literal["N", "S", "V", "F", "Q"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BeatsOut(_Model):
    """Detected beats: R-peak sample indices and AAMI class labels (N, S, V, F, Q)."""

    sample: list[int] = Field(default_factory=list)
    label: list[AamiClass] = Field(default_factory=list)


class Measurements(_Model):
    """Global measurements. ``None`` when not measured.

    Units are in the names: ``hr_bpm`` beats per minute; intervals in ms; ``st_mv`` ST
    level at the J point + 60 ms against the PR baseline, per lead, in mV.
    """

    hr_bpm: float | None = None
    pr_ms: float | None = None
    qrs_ms: float | None = None
    qt_ms: float | None = None
    qtc_ms: float | None = None
    st_mv: dict[str, float | None] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(
        default_factory=dict,
        description="Further measurements (axis, QTc by each formula, amplitudes per lead).",
    )


class Episode(_Model):
    """A timed rhythm episode; ``type`` uses the PhysioNet rhythm vocabulary.

    ``N SBR SVTA AFIB AFL VT VFL VF ASYS BII BIII B T IVR NOD PREX`` plus ``PAUSE`` and
    ``NOISE`` (an unanalysable span).
    """

    type: str
    onset_s: float
    offset_s: float
    evidence: dict[str, Any] = Field(default_factory=dict)


class Finding(_Model):
    """One reportable finding, with the rule that produced it and its evidence."""

    code: str
    severity: Severity
    onset_s: float | None = None
    offset_s: float | None = None
    leads: list[str] = Field(default_factory=list)
    value: float | str | None = None
    threshold: float | str | None = None
    rule: str
    profile: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    message: str = ""


class AnalysisResult(_Model):
    """Everything the analyser says about one record."""

    record_id: str
    fs_hz: float
    duration_s: float
    leads: list[str]
    recording_type: Literal["resting", "holter"] = "resting"
    beats: BeatsOut = Field(default_factory=BeatsOut)
    measurements: Measurements = Field(default_factory=Measurements)
    episodes: list[Episode] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    critical: bool = False
    unanalysable: bool = False
    profile: str | None = None
    summary: dict[str, Any] | None = None
    analysis_version: str
    comparison: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Resting 12-lead ECG compared with the same patient's previous ECG "
            "(ecg_core.rules.comparison_rules): the previous record, new ST elevation, "
            "old-infarct Q waves, new LBBB; {'prior_record_id': None, ...} when there was none."
        ),
    )

    @property
    def worst_severity(self) -> Severity | None:
        """Most severe finding severity, or None when there is no finding."""
        order: dict[Severity, int] = {"critical": 2, "abnormal": 1, "info": 0}
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: order[s])
