"""AF detector: weaker irregularity with absent P waves, and episode edge refinement."""

from __future__ import annotations

import numpy as np

from ecg_core.rhythm.af import AfParams, af_episodes, af_trace
from tests.ecg_core.rhythm_synth import beats_from_rr


def _paroxysm(
    sinus_rr_s: float, af_mean_rr_s: float, n_af: int = 60
) -> tuple[list[float], float, float]:
    """Regular sinus (60 RRs), AF (uniform +-30 %), regular sinus (60 RRs); AF bounds, s."""
    sinus = [sinus_rr_s] * 60
    af = list(af_mean_rr_s * np.random.default_rng(7).uniform(0.7, 1.3, n_af))
    rr = sinus + af + sinus
    start_s = 0.5
    onset = start_s + sum(sinus)
    return rr, onset, onset + sum(af)


def test_edges_refined_on_a_paroxysm_with_a_rate_change() -> None:
    # Given sinus at 75 /min, a 60-RR paroxysm of AF at ~130 /min, then sinus again
    rr, onset, offset = _paroxysm(0.8, 0.46)
    beats = beats_from_rr(rr)
    trace = af_trace(beats)
    # When episodes are formed with and without the edge refinement
    on, off = af_episodes(beats, trace)
    on0, off0 = af_episodes(beats, trace, params=AfParams(edge_max_rr=0))
    # Then one episode each, and the refined edges are at least as close to the truth
    assert on.size == 1
    assert on0.size == 1
    assert abs(on[0] - onset) <= abs(on0[0] - onset)
    assert abs(off[0] - offset) <= abs(off0[0] - offset)
    # and never run into the regular sinus rhythm (the rate change stops them)
    assert on[0] >= onset - 0.01
    assert off[0] <= offset + 0.01
    assert abs(on[0] - onset) < 3.0
    assert abs(off[0] - offset) < 3.0


def test_edges_stop_at_regular_rhythm_of_the_same_rate() -> None:
    # Given AF and sinus rhythm at the same mean rate (no rate change at the edges)
    rr, onset, offset = _paroxysm(0.7, 0.7)
    beats = beats_from_rr(rr)
    on, off = af_episodes(beats, af_trace(beats))
    # Then the extension stops at the first regular run: at most ~3 sinus RRs added
    assert on.size == 1
    assert on[0] >= onset - 3 * 0.7 - 0.01
    assert off[0] <= offset + 3 * 0.7 + 0.01


def test_weak_irregularity_is_af_only_when_p_waves_are_clearly_absent() -> None:
    # Given a fast, mildly irregular rhythm (RR 400 ms +-14 %: irregularity ~0.06)
    beats = beats_from_rr(0.4 * np.random.default_rng(3).uniform(0.86, 1.14, 120))
    irr = np.nanmedian(af_trace(beats).irregularity)
    assert 0.05 < irr < 0.08  # below the main threshold, above the weaker one
    n = len(beats)
    # Then irregularity alone (coherence unknown) calls no AF when the coherence
    # could have been measured (the unknown-coherence rule switched off)
    measurable = AfParams(low_irr_unknown_p_max_rr_ms=0.0)
    assert not af_trace(beats, p_coherence=np.full(n, np.nan), params=measurable).af.any()
    # but every RR < 550 ms (coherence not measurable, P waves in the T wave) it does
    assert af_trace(beats, p_coherence=np.full(n, np.nan)).af.mean() > 0.7
    # P waves merely unlocked (coherence 0.35) do not either
    assert not af_trace(beats, p_coherence=np.full(n, 0.35)).af.any()
    # P waves clearly absent (coherence 0.1) make it AF
    assert af_trace(beats, p_coherence=np.full(n, 0.1)).af.mean() > 0.7
    # but not by this rule at a slow rate (RR 1 s, same relative irregularity; the
    # RR-difference density path, tested in test_af_density.py, is switched off here)
    slow = beats_from_rr(np.diff(beats.r_idx) / beats.fs_hz * 2.5)
    no_density = AfParams(min_density=0.0)
    assert not af_trace(slow, p_coherence=np.full(n, 0.1), params=no_density).af.any()
    # and the rule can be switched off
    off = AfParams(low_irregularity=0.0, min_density=0.0)
    assert not af_trace(beats, p_coherence=np.full(n, 0.1), params=off).af.any()


def test_regular_fast_rhythm_without_p_waves_is_not_af() -> None:
    # Given a regular tachycardia (RR 400 ms +-1 %) with no P waves found
    beats = beats_from_rr(0.4 * np.random.default_rng(4).uniform(0.99, 1.01, 120))
    # Then it is not AF (irregularity far below the weaker threshold)
    assert not af_trace(beats, p_coherence=np.full(len(beats), 0.05)).af.any()
