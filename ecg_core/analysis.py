"""The analysis pipeline: one validated record in, one :class:`AnalysisResult` out.

Stages: filtering -> QRS -> beat classes -> rhythm episodes -> delineation and
measurements -> rule engine. Pure: no I/O; the profile arrives already loaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecg_core import ANALYSIS_VERSION
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import evaluate_profile
from ecg_core.types import BeatSeries
from models.profile import RecordingType, RuleProfile
from models.record import EcgRecord
from models.result import AnalysisResult, BeatsOut, Episode, Finding, Measurements

__all__ = ["HOLTER_MIN_DURATION_S", "analyze_record", "infer_recording_type"]

#: Records longer than this are analysed as Holter (ambulatory) recordings, s.
HOLTER_MIN_DURATION_S = 120.0
#: Share of the record in unanalysable spans above which the whole record goes to human
#: review (UNANALYSABLE) instead of being analysed (issue 5).
NOISE_UNANALYSABLE_FRACTION = 0.9


def infer_recording_type(duration_s: float) -> RecordingType:
    """Resting ECGs last ~10 s; anything longer than 2 min is treated as Holter."""
    return "holter" if duration_s > HOLTER_MIN_DURATION_S else "resting"


def _technical_findings(record: EcgRecord, profile_name: str) -> list[Finding]:
    findings = [
        Finding(
            code="LEAD_UNUSABLE",
            severity="info",
            leads=[u.lead],
            value=u.reason,
            rule="technical.lead_quality",
            profile=profile_name,
            message=f"lead {u.lead} excluded from analysis: {u.reason}",
        )
        for u in record.unusable_leads
    ]
    findings.extend(
        Finding(
            code="NOISE",
            severity="info",
            onset_s=g.start_s,
            offset_s=g.end_s,
            leads=[g.lead],
            value="gap",
            rule="technical.gap",
            profile=profile_name,
            message=f"lead {g.lead}: no signal (NaN) from {g.start_s:.2f} s to {g.end_s:.2f} s",
        )
        for g in record.gaps
    )
    return findings


def _unanalysable(
    record: EcgRecord, recording: RecordingType, profile: RuleProfile, reason: str
) -> AnalysisResult:
    finding = Finding(
        code="UNANALYSABLE",
        severity="critical",
        onset_s=0.0,
        offset_s=record.duration_s,
        rule="technical.unanalysable",
        profile=profile.name,
        value=reason,
        message=f"record cannot be analysed ({reason}); human review required",
    )
    return AnalysisResult(
        record_id=record.record_id,
        fs_hz=record.fs_hz,
        duration_s=record.duration_s,
        leads=list(record.leads),
        recording_type=recording,
        findings=[finding, *_technical_findings(record, profile.name)],
        critical=False,
        unanalysable=True,
        profile=profile.name,
        analysis_version=ANALYSIS_VERSION,
    )


def _usable_signal(record: EcgRecord) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    mask = record.usable_mask
    signal = record.signal_mv[mask]
    leads = tuple(name for name, ok in zip(record.leads, mask, strict=True) if ok)
    if np.isnan(signal).any():  # gaps are reported as NOISE findings; zero them for filtering
        signal = np.where(np.isnan(signal), 0.0, signal)
    return signal, leads


#: Episode types an AF episode over the whole record replaces (atrial / sinus readings).
_ATRIAL_TYPES = frozenset({"N", "SBR", "SVTA", "B", "T", "BII", "AFL"})


def _resting_af(
    signal_mv: NDArray[np.float64],
    beats: BeatSeries,
    p_present_fraction: float | None,
    episodes: list[Episode],
    features: dict[str, Any],
) -> list[Episode]:
    """Apply :func:`ecg_core.resting_af.resting_af`; return the (possibly new) episodes."""
    from dataclasses import replace

    from ecg_core.resting_af import resting_af

    found = resting_af(signal_mv, beats, p_present_fraction=p_present_fraction)
    if found is None:
        return episodes
    features["rhythm"] = replace(features["rhythm"], af=found.episodes)
    af = Episode(
        type="AFIB",
        onset_s=round(float(found.episodes.onset_s[0]), 3),
        offset_s=round(float(found.episodes.offset_s[0]), 3),
        evidence={
            "method": "resting 12-lead: irregular RR and no P waves",
            "irregularity": round(found.irregularity, 3),
            "n_rr": found.n_rr,
            "p_present_fraction": round(found.p_present_fraction, 2),
            "p_coherence": round(found.p_coherence, 2),
            "mean_rate_bpm": round(float(found.episodes.mean_rate_bpm[0]), 1),
        },
    )
    kept = [e for e in episodes if e.type not in _ATRIAL_TYPES]
    return sorted([*kept, af], key=lambda e: e.onset_s)


def analyze_record(
    record: EcgRecord,
    *,
    profile: RuleProfile,
    recording: RecordingType | None = None,
) -> AnalysisResult:
    """Analyse one record.

    Parameters
    ----------
    record : EcgRecord
        Validated record (signal in mV, ``(n_leads, n_samples)``).
    profile : RuleProfile
        Rule profile with every clinical threshold.
    recording : {"resting", "holter"}, optional
        Recording type; inferred from the duration when omitted.

    Returns
    -------
    AnalysisResult
        Beats, measurements, episodes and findings. A record with no usable lead, or
        whose whole span is noise, comes back ``unanalysable`` with a critical
        ``UNANALYSABLE`` finding so that it goes to human review.
    """
    rec_type = recording or infer_recording_type(record.duration_s)
    if not record.usable_mask.any():
        return _unanalysable(record, rec_type, profile, "no usable lead")
    signal_mv, leads = _usable_signal(record)
    fs_hz = record.fs_hz
    # Each stage below reads the signal and the earlier stages' outputs and sets its own.
    beats: BeatSeries | None = None
    episodes: list[Episode] = []
    measurements = Measurements()
    features: dict[str, Any] = {}  # stage name -> stage-specific features for the rules
    summary: dict[str, Any] | None = None

    # ---- stage: QRS detection and beat classification (issue 3) ----
    from ecg_core.qrs import detect_beats, median_hr_bpm  # streams long records in chunks

    beats = detect_beats(signal_mv, fs_hz=fs_hz)
    measurements = Measurements(hr_bpm=median_hr_bpm(beats))

    # ---- stage: pacemaker stimuli (paced beats change how QRS, QT and ST are read) ----
    from ecg_core.pacing import detect_pacing, paced_episode_types

    pacing = detect_pacing(signal_mv, fs_hz=fs_hz, r_idx=beats.r_idx)
    features["pacing"] = pacing
    features["paced"] = pacing.paced_rhythm  # Sgarbossa's paced-rhythm context

    # ---- stage: rhythm episodes (issue 5) ----
    from ecg_core.holter import holter_summary
    from ecg_core.rhythm import analyze_rhythm, params_from_profile

    if beats is not None:
        episodes, features["rhythm"] = analyze_rhythm(
            signal_mv,
            beats,
            duration_s=record.duration_s,
            leads=leads,
            params=params_from_profile(profile),
        )
        if pacing.paced_rhythm:  # paced runs are not idioventricular rhythm
            kinds = paced_episode_types(
                [e.type for e in episodes],
                [e.onset_s for e in episodes],
                [e.offset_s for e in episodes],
                pacing,
                r_idx=beats.r_idx,
                fs_hz=fs_hz,
            )
            episodes = [
                e if k == e.type else e.model_copy(update={"type": k})
                for e, k in zip(episodes, kinds, strict=True)
            ]
        if features["rhythm"].noise_fraction >= NOISE_UNANALYSABLE_FRACTION:
            return _unanalysable(record, rec_type, profile, "noise over the whole record")
        # ---- QRS morphology of the ventricular runs (polymorphic / bidirectional VT) ----
        from ecg_core.rhythm.polymorphic import polymorphic_from_rhythm

        features["polymorphic_vt"] = polymorphic_from_rhythm(signal_mv, beats, features["rhythm"])
        if rec_type == "holter":
            summary = holter_summary(features["rhythm"], episodes)
            # ---- stage: QT on clean 10 s windows (every 20 min, and before ventricular runs) ----
            from ecg_core.holter_qt import holter_qt

            qtc_formula = str(profile.setting("qtc_formula", "bazett"))
            features["qtc_formula"] = qtc_formula
            hq = holter_qt(
                signal_mv,
                leads,
                fs_hz=fs_hz,
                beats=beats,
                run_onsets_s=features["rhythm"].v_runs.onset_s,
                formula=qtc_formula,
            )
            features["holter_qt"] = hq
            trend_qt = hq.qt_ms[~hq.before_run]
            qt_ms = round(float(np.median(trend_qt)), 1) if trend_qt.size else None
            qtc_ms = None if hq.median_qtc_ms is None else round(hq.median_qtc_ms, 1)
            measurements = measurements.model_copy(update={"qt_ms": qt_ms, "qtc_ms": qtc_ms})
            summary["qt"] = {
                "formula": qtc_formula,
                "median_qtc_ms": hq.median_qtc_ms,
                "max_qtc_before_v_run_ms": hq.pre_run_qtc_ms,
                "trend": hq.trend(),
            }

    # ---- stage: 12-lead delineation and measurements (issue 6) ----
    if rec_type == "resting" and beats is not None and len(beats) >= 2:
        from ecg_core.twelve_lead import analyze_twelve_lead, measurement_update

        twelve = analyze_twelve_lead(
            signal_mv, leads, fs_hz=fs_hz, r_idx=beats.r_idx, labels=beats.label
        )
        features["twelve_lead"] = twelve
        # ---- U waves of the same median beat (hypokalaemia pattern; no second delineation) ----
        if twelve.delineation is not None:
            from ecg_core.hypokalemia import measure_u_waves

            features["u_wave"] = measure_u_waves(twelve.delineation, twelve.leads)
        qtc_formula = str(profile.setting("qtc_formula", "bazett"))
        features["qtc_formula"] = qtc_formula
        measurements = measurements.model_copy(
            update=measurement_update(twelve, qtc_formula=qtc_formula)
        )
        # ---- AF over a whole 10 s ECG: irregular RR + no P waves on 12 leads ----
        # (>= 3 leads: P waves can be isoelectric in any one lead, so a single-lead strip
        # is left to the RR-based detector; on CinC 2017 the check added 4 AF and 8 false calls)
        rhythm = features.get("rhythm")
        if rhythm is not None and rhythm.af.onset_s.size == 0 and len(twelve.leads) >= 3:
            episodes = _resting_af(
                signal_mv, beats, twelve.measures.p_present_fraction, episodes, features
            )

    del signal_mv, leads, fs_hz  # consumed by the stages above
    ctx = RuleContext(
        fs_hz=record.fs_hz,
        duration_s=record.duration_s,
        recording=rec_type,
        leads=record.leads,
        beats=beats,
        episodes=tuple(episodes),
        measurements=measurements,
        patient_age_years=record.patient_age_years,
        patient_sex=record.patient_sex,
        features=features,
    )
    findings = [*evaluate_profile(profile, ctx), *_technical_findings(record, profile.name)]
    beats_out = (
        BeatsOut(sample=beats.r_idx.tolist(), label=beats.label.tolist())
        if beats is not None
        else BeatsOut()
    )
    return AnalysisResult(
        record_id=record.record_id,
        fs_hz=record.fs_hz,
        duration_s=record.duration_s,
        leads=list(record.leads),
        recording_type=rec_type,
        beats=beats_out,
        measurements=measurements,
        episodes=episodes,
        findings=findings,
        critical=any(f.severity == "critical" for f in findings),
        unanalysable=any(f.code == "UNANALYSABLE" for f in findings),
        profile=profile.name,
        summary=summary,
        analysis_version=ANALYSIS_VERSION,
    )
