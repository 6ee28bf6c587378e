"""AF detector: the RR-difference density path (AF at normal rates, P waves absent)."""

from __future__ import annotations

import numpy as np

from ecg_core.rhythm.af import AfParams, _diff_density, af_trace
from ecg_core.types import BeatSeries
from tests.ecg_core.rhythm_synth import beats_from_rr


def _clustered_af(mean_rr_s: float, n: int = 45, seed: int = 0) -> list[float]:
    """RRs around three levels (0.88 / 1.0 / 1.12 x mean, +-6 %), level kept with p = 0.5.

    Half the successive steps stay on a level (small), half jump to another level
    (>= 12 % of the mean): the median step is small, the share of large steps is not.
    """
    rng = np.random.default_rng(seed)
    levels = np.array([0.88, 1.0, 1.12])
    k, out = 1, []
    for _ in range(n):
        if rng.random() > 0.5:
            k = int((k + rng.integers(1, 3)) % 3)
        out.append(mean_rr_s * levels[k] * (1 + rng.uniform(-0.06, 0.06)))
    return out


def test_density_counts_large_successive_steps() -> None:
    # Given RRs alternating 800 / 900 ms (every step 12 % of the median) then steady
    rr = np.array([800.0, 900.0] * 12 + [850.0] * 25)
    # When the density of steps > 10 % of the window median is taken over 21-RR windows
    d = _diff_density(rr, 21, 0.3, 0.1)
    # Then it is 1 inside the alternating part and 0 in the steady part
    assert np.all(d[:5] == 1.0)
    assert np.all(d[-5:] == 0.0)
    # and windows with too few valid RRs are not judged
    assert np.isnan(_diff_density(np.full(41, np.nan), 21, 0.3, 0.1)).all()
    # (also with no minimum share of valid RRs: an empty window is never judged)
    assert np.isnan(_diff_density(np.full(41, np.nan), 21, 0.0, 0.1)).all()


def test_clustered_af_at_normal_rate_without_p_waves_is_af() -> None:
    # Given a 36 s strip at ~75 /min whose RRs jump between three clusters
    beats = beats_from_rr(_clustered_af(0.8))
    n = len(beats)
    trace = af_trace(beats, p_coherence=np.full(n, 0.1))
    # Then its median step is below the 0.08 rule, yet with P waves absent it is AF
    assert 0.03 < np.nanmedian(trace.irregularity) < 0.08
    assert trace.af.mean() > 0.7
    # and without the density path it would not be
    off = AfParams(min_density=0.0)
    assert af_trace(beats, p_coherence=np.full(n, 0.1), params=off).af.mean() < 0.2


def test_density_path_needs_absent_p_waves_and_a_rate_above_60() -> None:
    # Given the same clustered rhythm, and the detector without the density path
    beats = beats_from_rr(_clustered_af(0.8))
    n = len(beats)
    off = AfParams(min_density=0.0)

    def added(b: BeatSeries, coherence: float) -> int:
        pc = np.full(len(b), coherence)
        return int(
            np.sum(af_trace(b, p_coherence=pc).af & ~af_trace(b, p_coherence=pc, params=off).af)
        )

    # Then with P waves clearly absent the path adds AF
    assert added(beats, 0.1) > n // 2
    # but not with P waves merely unlocked (coherence 0.35) or unknown
    assert added(beats, 0.35) == 0
    assert added(beats, np.nan) == 0
    # and not at < 60 /min (mean RR 1.2 s)
    assert added(beats_from_rr(_clustered_af(1.2)), 0.1) == 0


def test_sinus_arrhythmia_and_two_levels_are_not_af() -> None:
    # Given sinus arrhythmia (RR 0.8 s +-8 % with breathing, 5 s period): small steps
    t = np.arange(60) * 0.8
    sinus = beats_from_rr(0.8 * (1 + 0.08 * np.sin(2 * np.pi * t / 5.0)))
    assert not af_trace(sinus, p_coherence=np.full(len(sinus), 0.1)).af.any()
    # Given RRs on two tight levels (0.7 / 0.95 s) in random order, no P waves
    rng = np.random.default_rng(5)
    two = beats_from_rr(np.where(rng.random(60) < 0.5, 0.7, 0.95) * rng.uniform(0.99, 1.01, 60))
    # Then the "regularly irregular" veto holds for the density path too
    assert not af_trace(two, p_coherence=np.full(len(two), 0.1)).af.any()
