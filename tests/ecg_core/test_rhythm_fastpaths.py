"""The rhythm stage's shortcuts give exactly what the scipy / numpy calls they replace give."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from ecg_core.rhythm.av_dissociation import _band_filtfilt
from ecg_core.rhythm.intervals import true_runs
from ecg_core.rhythm.vf import VfParams, _candidate_episodes, _downsample


@pytest.mark.parametrize("k", [2, 3, 7, 10, 20])
@pytest.mark.parametrize("n", [25, 999, 5000])
def test_downsample_equals_resample_poly(k: int, n: int) -> None:
    # Given leads of a random walk / When decimated by k
    x = np.random.default_rng(k * n).normal(size=(3, n)).cumsum(axis=1)
    got = _downsample(x, k)
    # Then bit for bit what scipy's resample_poly returns
    want = ss.resample_poly(x, 1, k, axis=-1)
    assert got.shape == want.shape
    assert np.array_equal(got, want)


@pytest.mark.parametrize("fs_hz", [250.0, 360.0, 500.0, 1000.0])
@pytest.mark.parametrize("n", [16, 700, 5600])
def test_band_filtfilt_equals_sosfiltfilt(fs_hz: float, n: int) -> None:
    # Given leads / When band-passed with the cached design
    x = np.random.default_rng(n).normal(size=(4, n)).cumsum(axis=1)
    got = _band_filtfilt(x, fs_hz)
    # Then bit for bit scipy's sosfiltfilt with a fresh design (same view layout too)
    sos = ss.butter(2, [1.0, 15.0], btype="band", fs=fs_hz, output="sos")
    want = ss.sosfiltfilt(sos, x, axis=-1)
    assert np.array_equal(got, want)
    assert got.strides == want.strides


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=0, max_size=40), st.sampled_from([1, 3, 5]))
def test_vote_equals_median_filter(flags: list[bool], k: int) -> None:
    # Given window decisions / When voted into episodes
    vf = np.asarray(flags, dtype=bool)
    t_s = np.arange(vf.size, dtype=np.float64) + 2.0
    p = VfParams(vote_windows=k, merge_gap_s=0.0, min_episode_s=0.0)
    on, off = _candidate_episodes(vf, t_s, 1.0, p)
    # Then the episodes are those of scipy's median filter over the decisions
    voted = vf
    if k > 1 and vf.size >= k:
        voted = ss.medfilt(vf.astype(np.float64), k) > 0.5
    s, e = true_runs(voted)
    assert np.array_equal(on, t_s[s] - 0.5)
    assert np.array_equal(off, t_s[e - 1] + 0.5)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=0, max_size=40))
def test_true_runs_are_the_maximal_runs(flags: list[bool]) -> None:
    # Given a mask / When its runs are found
    s, e = true_runs(np.asarray(flags, dtype=bool))
    # Then they are the maximal runs of True, as intp, found by a plain loop
    want: list[tuple[int, int]] = []
    for i, f in enumerate(flags):
        if f and (i == 0 or not flags[i - 1]):
            want.append((i, i + 1))
        elif f:
            want[-1] = (want[-1][0], i + 1)
    assert list(zip(s.tolist(), e.tolist(), strict=True)) == want
    assert s.dtype == np.intp
    assert e.dtype == np.intp
