"""Atrial flutter detector (ecg_core/rhythm/flutter.py), AFL episodes and the AFL rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.signal as ss
from numpy.typing import NDArray

from ecg_core.rhythm import analyze_rhythm, params_from_profile
from ecg_core.rhythm.flutter import flutter_episodes, flutter_trace, subtract_spans
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import evaluate_profile
from ecg_core.types import BeatSeries
from models.profile import load_profile
from models.result import Finding, Measurements
from tests.ecg_core.rhythm_synth import FS_HZ, beats_from_rr, ecg_for

LEADS = ("II", "III", "V1")


def _flutter_ecg(
    duration_s: float,
    *,
    flutter_hz: float,
    conduction: list[int],
    seed: int = 0,
    saw_mv: float = 0.2,
) -> tuple[NDArray[np.float64], BeatSeries]:
    """Sawtooth-like atrial waves at ``flutter_hz`` (``saw_mv`` amplitude, 2x peak to peak in
    II), QRS (1 mV) + T (0.15 mV) conducted every ``conduction`` flutter cycles (cycled),
    three leads (II, III, V1), 250 Hz, small noise."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * FS_HZ)
    t = np.arange(n) / FS_HZ
    # flutter wave: asymmetric triangle (slow 70 % limb, faster 30 % limb), not a step
    saw = saw_mv * ss.sawtooth(2 * np.pi * flutter_hz * t, width=0.7)
    cycle = 1.0 / flutter_hz
    rr = [cycle * conduction[k % len(conduction)] for k in range(int(duration_s / cycle))]
    t_beats = 0.3 + np.cumsum(np.concatenate(([0.0], rr)))
    t_beats = t_beats[t_beats < duration_s - 0.5]
    beats = beats_from_rr(np.diff(t_beats), start_s=float(t_beats[0]))
    vent = np.zeros(n)
    for tr in t_beats:  # test helper: a few hundred beats
        vent += np.exp(-((t - tr) ** 2) / (2 * 0.012**2))
        vent += 0.15 * np.exp(-((t - tr - 0.26) ** 2) / (2 * 0.04**2))
    x = np.vstack([vent + saw, 0.8 * vent + 0.9 * saw, 0.5 * vent - 0.6 * saw])
    return x + rng.normal(0.0, 0.01, x.shape), beats


def _context(x: NDArray[np.float64], beats: BeatSeries) -> RuleContext:
    dur = x.shape[1] / FS_HZ
    profile = load_profile()
    eps, feats = analyze_rhythm(
        x, beats, duration_s=dur, leads=LEADS, params=params_from_profile(profile)
    )
    return RuleContext(
        fs_hz=FS_HZ,
        duration_s=dur,
        recording="holter" if dur > 60 else "resting",
        leads=LEADS,
        beats=beats,
        episodes=tuple(eps),
        measurements=Measurements(),
        features={"rhythm": feats},
    )


def _afl(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.code == "AFL"]


@pytest.mark.parametrize(("conduction", "ratio"), [([3], 3.0), ([4], 4.0), ([2, 4], 3.0)])
def test_regular_flutter_at_fixed_or_variable_conduction_is_an_afl_episode(
    conduction: list[int], ratio: float
) -> None:
    # Given 60 s of typical flutter at 270 /min conducted 3:1, 4:1 or alternating 2:1/4:1
    # (2:1 is found only when the flutter waves dominate the T wave and the blanked QRS
    # intervals: docs/rhythm.md, "Atrial flutter")
    x, beats = _flutter_ecg(60.0, flutter_hz=4.5, conduction=conduction)
    # When the detector runs alone
    trace = flutter_trace(x, beats)
    ep = flutter_episodes(trace, duration_s=60.0)
    # Then one episode covers most of the record with the flutter rate and conduction ratio
    assert ep.onset_s.size == 1
    assert ep.offset_s[0] - ep.onset_s[0] >= 50.0
    assert ep.atrial_bpm[0] == pytest.approx(270.0, abs=10.0)
    assert ep.conduction_ratio[0] == pytest.approx(ratio, rel=0.1)


@pytest.mark.parametrize("rr_s", [0.8, 0.4])
def test_sinus_rhythm_with_p_and_t_waves_is_not_flutter(rr_s: float) -> None:
    # Given sinus rhythm at 75 and 150 /min with P and T waves (T harmonics at 2x the rate)
    beats = beats_from_rr([rr_s] * int(58 / rr_s))
    x = ecg_for(beats, 60.0, p_waves=True, n_leads=3)
    # Then no window is flutter-like and no episode is made
    trace = flutter_trace(x, beats)
    assert not trace.flutter_like.any()
    assert flutter_episodes(trace, duration_s=60.0).onset_s.size == 0


def test_ventricular_runs_are_not_judged() -> None:
    # Given the 4:1 flutter signal but every beat labelled ventricular (wide-QRS remnants)
    x, beats = _flutter_ecg(40.0, flutter_hz=4.5, conduction=[4])
    v = BeatSeries(
        r_idx=beats.r_idx,
        label=np.full(len(beats), "V"),
        quality_ok=beats.quality_ok,
        qrs_ms=beats.qrs_ms,
        fs_hz=beats.fs_hz,
    )
    # Then no window is judged flutter
    assert not flutter_trace(x, v).flutter_like.any()


def test_af_takes_precedence_and_spans_are_subtracted() -> None:
    on, off = subtract_spans(
        np.array([0.0, 50.0]),
        np.array([40.0, 60.0]),
        np.array([10.0, 55.0]),
        np.array([20.0, 70.0]),
    )
    assert on.tolist() == [0.0, 20.0, 50.0]
    assert off.tolist() == [10.0, 40.0, 55.0]
    # Given a flutter trace over a record whose middle is claimed by AF
    x, beats = _flutter_ecg(60.0, flutter_hz=4.5, conduction=[4])
    ep = flutter_episodes(
        flutter_trace(x, beats),
        duration_s=60.0,
        exclude_on=np.array([20.0]),
        exclude_off=np.array([40.0]),
    )
    # Then no AFL episode overlaps the AF span
    assert ep.onset_s.size >= 1
    assert not np.any((ep.onset_s < 40.0) & (ep.offset_s > 20.0))


def test_flutter_gives_an_afl_track_episode_and_an_abnormal_finding() -> None:
    # Given 60 s of 4:1 flutter (ventricles 67 /min, regular: the AF detector sees nothing)
    x, beats = _flutter_ecg(60.0, flutter_hz=4.5, conduction=[4])
    ctx = _context(x, beats)
    # Then the rhythm track holds AFL (no AFIB), with the rates as evidence
    afl_eps = [e for e in ctx.episodes if e.type == "AFL"]
    assert afl_eps
    assert not [e for e in ctx.episodes if e.type == "AFIB"]
    assert sum(e.offset_s - e.onset_s for e in afl_eps) >= 50.0
    assert afl_eps[0].evidence["atrial_rate_bpm"] == pytest.approx(270.0, abs=10.0)
    assert afl_eps[0].evidence["conduction_ratio"] == pytest.approx(4.0, rel=0.1)
    # And the profile's AFL rule reports one abnormal finding valued at the atrial rate
    found = _afl(evaluate_profile(load_profile(), ctx))
    assert len(found) == 1
    assert found[0].severity == "abnormal"
    assert found[0].value == pytest.approx(270.0, abs=10.0)
    assert found[0].evidence["conduction_ratio"] == pytest.approx(4.0, rel=0.1)


def test_afl_rule_ignores_spans_claimed_by_af() -> None:
    # Given a flutter record whose rhythm features say AF over the whole record (as the
    # resting 12-lead AF check would set after the track is built)
    from dataclasses import replace

    from ecg_core.rhythm.features import AfEpisodes

    x, beats = _flutter_ecg(30.0, flutter_hz=4.5, conduction=[4])
    ctx = _context(x, beats)
    f = ctx.features["rhythm"]
    one = np.ones(1)
    n = np.full(1, 75, dtype=np.intp)
    af = AfEpisodes(np.zeros(1), np.array([30.0]), 67 * one, 890 * one, 90 * one, n)
    ctx2 = replace(ctx, features={"rhythm": replace(f, af=af)})
    # Then AFL is not reported there (AF takes precedence)
    assert _afl(evaluate_profile(load_profile(), ctx2)) == []


@pytest.mark.slow
def test_ludb_typical_flutter_found_and_sinus_not(shared_data: Path) -> None:
    from ecg_core.analysis import analyze_record
    from ingest.readers import read_record

    profile = load_profile()
    ludb = shared_data / "ludb" / "data"
    flutter = analyze_record(read_record(ludb / "103.hea"), profile=profile)  # 4.5 Hz, ~3:1
    assert [f.severity for f in flutter.findings if f.code == "AFL"] == ["abnormal"]
    for rid in ("1", "107", "117"):  # sinus; 107 and 117 are the closest non-flutter scores
        result = analyze_record(read_record(ludb / f"{rid}.hea"), profile=profile)
        assert not [e for e in result.episodes if e.type == "AFL"], rid


def test_one_to_one_conduction_is_not_called_flutter() -> None:
    # Given flutter waves conducted 1:1 (ventricles at 270 /min: SVT_FAST / VT territory)
    x, beats = _flutter_ecg(30.0, flutter_hz=4.5, conduction=[1])
    # Then no window is flutter-like (atrial rate < 1.5x the ventricular rate)
    trace = flutter_trace(x, beats)
    assert trace.ventricular_bpm[0] == pytest.approx(270.0, abs=5.0)
    assert not trace.flutter_like.any()


def test_af_with_irregular_response_stays_afib_on_the_track() -> None:
    # Given 70 s of irregular RRs (0.45-1.0 s) with fibrillatory waves and no P waves
    rr = np.random.default_rng(1).uniform(0.45, 1.0, 100)
    beats = beats_from_rr(rr)
    x = ecg_for(beats, float(beats.r_idx[-1] / FS_HZ + 1.0), p_waves=False, n_leads=3)
    # Then the track says AFIB and never AFL
    types = {e.type for e in _context(x, beats).episodes}
    assert "AFIB" in types
    assert "AFL" not in types
