"""Supraventricular timing (ecg_core.sveb): prematurity, runs, irregular rhythm, P waves."""

import numpy as np

from ecg_core.sveb import RUN_MAX_RR_S, S_PREMATURE, SV_MIN_RR_S, sv_timing


def _no_v(rr: np.ndarray) -> np.ndarray:
    return np.zeros(rr.size, dtype=bool)


def test_isolated_premature_beat_is_s_and_its_pause_is_not() -> None:
    # Given a regular 75 bpm rhythm with one beat at 70 % of the RR and a pause after it
    rr = np.full(60, 0.8)
    rr[30], rr[31] = 0.56, 1.0
    t = sv_timing(rr, _no_v(rr))
    # Then only that beat is premature
    assert np.flatnonzero(t.premature).tolist() == [30]
    assert abs(t.ref_ratio[30] - 0.7) < 0.01


def test_run_keeps_the_reference_from_before_its_onset() -> None:
    # Given sinus at 0.9 s, then an abrupt 25-beat run at 0.45 s, then sinus again
    rr = np.r_[np.full(40, 0.9), 0.5, np.full(24, 0.45), 0.95, np.full(40, 0.9)]
    t = sv_timing(rr, _no_v(rr))
    run = np.arange(40, 65)
    # Then every beat of the run is premature (a centred median inside it is its own RR)
    assert t.premature[run].all()
    assert t.in_run[run[1:]].all()
    # and no sinus beat before or after it is
    assert not t.premature[:40].any()
    assert not t.premature[65:].any()


def test_gradual_rate_rise_and_slow_rate_step_are_not_runs() -> None:
    # Given a sinus rate rising gradually from 60 to 120 bpm
    rr = np.r_[np.full(20, 1.0), np.linspace(1.0, 0.5, 60), np.full(20, 0.5)]
    assert not sv_timing(rr, _no_v(rr)).premature.any()
    # Given an abrupt step from 51 to 70 bpm (below the SVT rate of 100 bpm)
    step = np.r_[np.full(30, 1.17), np.full(30, 0.85)]
    t = sv_timing(step, _no_v(step))
    assert RUN_MAX_RR_S < 0.85
    # Then at most the first beat of the new rate is early, the rest is not a run
    assert t.premature[31:].sum() == 0


def test_irregular_rhythm_has_few_or_no_s() -> None:
    # Given an irregularly irregular rhythm (AF-like), RR 0.45-1.2 s
    rng = np.random.default_rng(0)
    rr = rng.uniform(0.45, 1.2, 300)
    short = (rr < S_PREMATURE * np.median(rr)).sum()
    assert short > 50
    # Then from the RRs alone few short beats are called S
    assert sv_timing(rr, _no_v(rr)).premature.sum() < 0.25 * short
    # and none when the beats have no consistent P wave (fibrillatory waves)
    no_p = rng.uniform(-0.3, 0.3, rr.size)
    assert not sv_timing(rr, _no_v(rr), no_p).premature.any()
    # while frequent isolated premature beats in a regular rhythm stay S (every 5th beat)
    reg = np.full(200, 0.8)
    reg[10::5], reg[11::5] = 0.55, 1.05
    assert sv_timing(reg, _no_v(reg)).premature[10:190:5].all()


def test_beat_after_a_ventricular_beat_is_judged_over_the_v() -> None:
    # Given sinus at 0.8 s with a late V beat at 0.7 s and the next sinus beat on time
    rr = np.full(60, 0.8)
    rr[30], rr[31] = 0.7, 0.9
    v = np.zeros(60, dtype=bool)
    v[30] = True
    t = sv_timing(rr, v)
    # Then the beat after the V is not premature (the interval over the V is 1.6 s)
    assert not t.premature.any()
    # but an early atrial beat after the V (interval over it 1.0 s) is
    rr[31] = 0.3
    assert sv_timing(rr, v).premature[31]
    # Given a V couplet (0.5 s, 0.5 s) and the sinus beat 0.6 s after it (1.6 s over both)
    rr[30], rr[31], rr[32] = 0.5, 0.5, 0.6
    v[31] = True
    # Then that beat is on time for the sinus rhythm the couplet did not reset
    assert not sv_timing(rr, v).premature.any()


def test_crowded_and_splitting_detections_are_not_s() -> None:
    # Given a detection 0.2 s before a sinus beat (a tall P wave detected as a beat)
    rr = np.full(60, 0.8)
    rr[30], rr[31] = 0.6, 0.2
    assert SV_MIN_RR_S > 0.2
    t = sv_timing(rr, _no_v(rr))
    # Then neither the detection nor the beat after it is S
    assert not t.premature[30:32].any()
    # Given a detection that splits one sinus interval in 0.35 + 0.45 s (a T wave)
    rr[30], rr[31] = 0.35, 0.45
    # Then neither is S: an ectopic beat is followed by a pause, not by the sinus beat
    assert not sv_timing(rr, _no_v(rr)).premature.any()
    # unless both have a conducted QRS: then they are a couplet of early beats
    conducted = np.ones(rr.size, dtype=bool)
    assert sv_timing(rr, _no_v(rr), None, conducted).premature[30:32].all()
    conducted[30] = False
    assert not sv_timing(rr, _no_v(rr), None, conducted).premature[30:32].any()
    # while an early beat followed by a pause is S
    rr[30], rr[31] = 0.5, 0.95
    assert sv_timing(rr, _no_v(rr)).premature[30]


def test_p_wave_evidence() -> None:
    rr = np.full(60, 0.8)
    rr[30], rr[31] = 0.6, 1.0
    pc = np.full(60, 0.9)
    # an early beat with an ectopic P wave is S
    pc[30] = 0.1
    assert sv_timing(rr, _no_v(rr), pc).premature[30]
    # the same beat with the sinus P wave is sinus arrhythmia, not S
    pc[30] = 0.95
    assert not sv_timing(rr, _no_v(rr), pc).premature[30]
    # a beat only 10 % early is S with an inverted P wave, not with an unremarkable one
    rr[30], rr[31] = 0.72, 0.9
    pc[30] = -0.6
    assert sv_timing(rr, _no_v(rr), pc).premature[30]
    pc[30] = 0.3
    assert not sv_timing(rr, _no_v(rr), pc).premature[30]
    rr[30], rr[31] = 0.6, 1.0
    # mildly irregular RRs are still S-capable with consistent P waves, not without them
    rng = np.random.default_rng(1)
    rr2 = 0.8 * (1.0 + rng.uniform(-0.12, 0.12, 120))
    rr2[60], rr2[61] = 0.5, 1.0
    pc2 = np.full(120, 0.9)
    pc2[60] = 0.0
    assert sv_timing(rr2, _no_v(rr2), pc2).premature[60]
    no_p = rng.uniform(-0.3, 0.3, 120)
    assert not sv_timing(rr2, _no_v(rr2), no_p).premature[60]


def test_short_inputs() -> None:
    for n in (0, 1, 2):
        t = sv_timing(np.full(n, 0.8), np.zeros(n, dtype=bool))
        assert t.premature.shape == (n,)
        assert not t.premature.any()
