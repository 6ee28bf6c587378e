"""Arrhythmia rule evaluators: thresholds from profiles, finding fields, regional profiles."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.rhythm import analyze_rhythm, params_from_profile
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import evaluate_profile, missing_evaluators
from ecg_core.types import BeatSeries
from models.profile import RecordingType, RuleProfile, load_profile
from models.result import Finding, Measurements
from tests.ecg_core.rhythm_synth import FS_HZ, beats_from_rr, ecg_for, vf_signal

RNG = np.random.default_rng(3)


def _findings(
    beats: BeatSeries,
    signal_mv: np.ndarray,
    profile: RuleProfile,
    recording: RecordingType,
    qtc_ms: float | None = None,
) -> list[Finding]:
    dur = signal_mv.shape[1] / FS_HZ
    eps, feats = analyze_rhythm(
        signal_mv, beats, duration_s=dur, leads=("I", "II"), params=params_from_profile(profile)
    )
    ctx = RuleContext(
        fs_hz=FS_HZ,
        duration_s=dur,
        recording=recording,
        leads=("I", "II"),
        beats=beats,
        episodes=tuple(eps),
        measurements=Measurements(qtc_ms=qtc_ms),
        features={"rhythm": feats},
    )
    return evaluate_profile(profile, ctx)


@pytest.mark.parametrize("name", ["cn-2017-national", "cn-zhejiang", "cn-shanxi", "custom-example"])
def test_every_arrhythmia_rule_has_an_evaluator(name: str) -> None:
    assert missing_evaluators(load_profile(name)) == []


def test_resting_long_pause_is_critical_with_evidence() -> None:
    # Given a 10 s resting ECG with one 3.4 s RR
    beats = beats_from_rr([0.8, 0.8, 3.4, 0.8, 0.8, 0.8, 0.8])
    x = ecg_for(beats, 10.0)
    found = _findings(beats, x, load_profile(), "resting")
    pause = [f for f in found if f.code == "LONG_PAUSE"]
    # Then one critical finding names value, threshold, rule, profile, time, leads, beats
    assert len(pause) == 1
    f = pause[0]
    assert f.severity == "critical"
    assert f.value == pytest.approx(3.4, abs=0.01)
    assert f.threshold == 3.0
    assert f.rule == "long-pause-resting"
    assert f.profile == "cn-2017-national"
    assert f.onset_s == pytest.approx(2.1, abs=0.01)
    assert f.leads == ["I", "II"]
    assert f.evidence["beat_indices"] == [2, 3]


def test_normal_rhythm_raises_nothing_critical() -> None:
    beats = beats_from_rr(0.8 + 0.02 * RNG.standard_normal(40))
    x = ecg_for(beats, 35.0)
    for rec in ("resting", "holter"):
        assert not [f for f in _findings(beats, x, load_profile(), rec) if f.severity == "critical"]


def _fast_af(rate_bpm: float) -> tuple[BeatSeries, np.ndarray]:
    rr = (60.0 / rate_bpm) * RNG.uniform(0.75, 1.25, int(rate_bpm * 0.75))
    beats = beats_from_rr(rr)
    return beats, ecg_for(beats, float(beats.r_idx[-1] / FS_HZ + 1.0), p_waves=False)


def test_zhejiang_lowers_fast_af_threshold() -> None:
    # Given AF at ~190 /min (between Zhejiang's 180 and the national 200)
    beats, x = _fast_af(190.0)
    national = [f for f in _findings(beats, x, load_profile(), "resting") if f.code == "SVT_FAST"]
    zhejiang = [
        f
        for f in _findings(beats, x, load_profile("cn-zhejiang"), "resting")
        if f.code == "SVT_FAST"
    ]
    # Then only the Zhejiang profile reports it, with its own threshold and profile name
    assert national == []
    assert zhejiang
    assert zhejiang[0].profile == "cn-zhejiang"
    assert zhejiang[0].severity == "critical"
    value = zhejiang[0].value
    assert isinstance(value, float)
    assert value >= 180.0


def test_shanxi_needs_30_s() -> None:
    beats, x = _fast_af(190.0)  # ~45 s of AF
    shanxi = [
        f for f in _findings(beats, x, load_profile("cn-shanxi"), "resting") if f.code == "SVT_FAST"
    ]
    assert shanxi
    spans = [(f.onset_s, f.offset_s) for f in shanxi]
    assert all(a is not None and b is not None and b - a >= 30.0 for a, b in spans)


def test_vf_signal_is_critical() -> None:
    beats = beats_from_rr(np.full(12, 0.8))
    sinus = ecg_for(beats, 12.0)
    x = np.concatenate([sinus, vf_signal(20.0)], axis=1)
    vf = [f for f in _findings(beats, x, load_profile(), "resting") if f.code == "VF"]
    assert vf
    assert vf[0].severity == "critical"
    assert vf[0].onset_s == pytest.approx(12.0, abs=3.0)


def test_holter_pause_rule_differs_from_resting() -> None:
    # Given one 3.4 s pause in 5 minutes of sinus rhythm
    rr = [0.8] * 150 + [3.4] + [0.8] * 200
    beats = beats_from_rr(rr)
    x = ecg_for(beats, float(beats.r_idx[-1] / FS_HZ + 1.0))
    codes_holter = {
        f.code for f in _findings(beats, x, load_profile(), "holter") if f.severity == "critical"
    }
    codes_rest = {
        f.code for f in _findings(beats, x, load_profile(), "resting") if f.severity == "critical"
    }
    # Then the resting rule fires (>= 3 s) but the Holter rule needs >= 4 s or 3 pauses
    assert "LONG_PAUSE" in codes_rest
    assert "LONG_PAUSE_HOLTER" not in codes_holter


def test_sustained_fast_vt_is_critical() -> None:
    labels = "N" * 10 + "V" * 90 + "N" * 10
    rr = [0.8] * 10 + [0.35] * 90 + [0.8] * 9
    beats = beats_from_rr(rr, labels)
    x = ecg_for(beats, float(beats.r_idx[-1] / FS_HZ + 1.0))
    vt = [f for f in _findings(beats, x, load_profile(), "resting") if f.code == "VT"]
    assert vt
    assert vt[0].value == pytest.approx(60 / 0.35, rel=0.05)
    assert vt[0].evidence["n_beats"] == 90


def test_all_noise_record_goes_to_human_review() -> None:
    # Given one minute of loud noise without any ECG
    from ecg_core.analysis import analyze_record
    from models.record import make_record

    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, (2, int(60 * FS_HZ)))
    rec = make_record(x, fs_hz=FS_HZ, leads=["I", "II"], record_id="noise", source_format="test")
    result = analyze_record(rec, profile=load_profile())
    # Then it is never reported as normal: unanalysable, with a critical UNANALYSABLE finding
    assert result.unanalysable
    assert any(f.code == "UNANALYSABLE" and f.severity == "critical" for f in result.findings)


def test_noise_span_reported_with_time_span() -> None:
    rr = [0.8] * 60
    beats = beats_from_rr(rr, noise=((10.0, 20.0),))
    x = ecg_for(beats, float(beats.r_idx[-1] / FS_HZ + 1.0))
    noise = [f for f in _findings(beats, x, load_profile(), "holter") if f.code == "NOISE"]
    assert len(noise) == 1
    assert (noise[0].onset_s, noise[0].offset_s) == (10.0, 20.0)


@pytest.mark.parametrize(
    ("qtc_ms", "with_vt", "critical"),
    [(600.0, True, True), (600.0, False, False), (520.0, True, False)],
)
def test_long_qt_is_critical_only_with_vt_on_holter(
    qtc_ms: float, with_vt: bool, critical: bool
) -> None:
    # Given a Holter strip with (or without) a 5-beat VT run and a measured QTc
    labels = "N" * 20 + ("V" * 5 if with_vt else "N" * 5) + "N" * 20
    rr = [0.8] * 20 + ([0.4] * 5 if with_vt else [0.8] * 5) + [0.8] * 19
    beats = beats_from_rr(rr, labels)
    x = ecg_for(beats, float(beats.r_idx[-1] / FS_HZ + 1.0))
    # When the profile is evaluated
    found = _findings(beats, x, load_profile(), "holter", qtc_ms=qtc_ms)
    long_qt = [f for f in found if f.code == "LONG_QT"]
    # Then QTc >= 550 ms is critical only together with VT (CRITICAL_VALUES.md A)
    assert bool(long_qt) is critical
    if critical:
        assert long_qt[0].evidence["with"] == "VT"
        assert long_qt[0].threshold == 550.0


def test_long_qt_alone_is_not_critical_on_a_resting_ecg() -> None:
    # Given a regular resting ECG (no PVC) with QTc 600 ms
    beats = beats_from_rr([0.8] * 12)
    x = ecg_for(beats, 10.5)
    found = _findings(beats, x, load_profile(), "resting", qtc_ms=600.0)
    # Then no critical LONG_QT (stand-alone long QTc is the abnormal LONG_QTC item)
    assert not [f for f in found if f.code == "LONG_QT"]
