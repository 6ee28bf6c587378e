"""EC57 episode statistics: hand-checked cases and invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.episodes import (
    average,
    clip_intervals,
    episode_counts,
    gross,
    join_reference,
    overlap_s,
)


def test_partial_overlap_counts_and_durations() -> None:
    # Given two reference episodes and one detection covering half of the first
    c = episode_counts([(0.0, 10.0), (20.0, 30.0)], [(5.0, 12.0)])
    # Then one of two reference episodes is found, the detection is true
    assert (c.ref_hit, c.n_ref, c.det_hit, c.n_det) == (1, 2, 1, 1)
    assert c.duration_se == pytest.approx(5.0 / 20.0)
    assert c.duration_ppv == pytest.approx(5.0 / 7.0)


def test_no_reference_gives_undefined_sensitivity() -> None:
    c = episode_counts([], [(1.0, 2.0)])
    assert math.isnan(c.episode_se)
    assert c.episode_ppv == 0.0


def test_gross_pools_and_average_skips_undefined() -> None:
    a = episode_counts([(0.0, 10.0)], [(0.0, 10.0)])
    b = episode_counts([], [(0.0, 5.0)])
    g = gross([a, b])
    assert g.n_det == 2
    assert g.det_hit == 1
    assert g.episode_ppv == 0.5
    avg = average([a, b])
    assert avg["episode_se"] == 1.0  # b has no reference: skipped
    assert avg["episode_ppv"] == 0.5


def test_reversed_interval_rejected() -> None:
    with pytest.raises(ValueError, match="offset before onset"):
        episode_counts([(5.0, 1.0)], [])


intervals = st.lists(
    st.tuples(st.floats(0, 1000), st.floats(0.1, 100)).map(lambda x: (x[0], x[0] + x[1])),
    max_size=8,
)


@given(ref=intervals, det=intervals)
def test_overlap_bounded_by_each_union(
    ref: list[tuple[float, float]], det: list[tuple[float, float]]
) -> None:
    c = episode_counts(ref, det)
    assert c.overlap_s <= c.ref_s + 1e-6
    assert c.overlap_s <= c.det_s + 1e-6
    assert overlap_s(ref, det) == pytest.approx(overlap_s(det, ref))
    assert 0 <= c.ref_hit <= c.n_ref
    assert 0 <= c.det_hit <= c.n_det


@given(ref=intervals.filter(bool))
def test_perfect_detection_scores_one(ref: list[tuple[float, float]]) -> None:
    c = episode_counts(ref, ref)
    assert c.episode_se == 1.0
    assert c.episode_ppv == 1.0
    assert c.duration_se == pytest.approx(1.0)
    assert c.duration_ppv == pytest.approx(1.0)


def test_join_reference_joins_vf_vfl_and_noise_but_not_other_rhythms() -> None:
    # Given VF, a noise annotation, VFL, then sinus rhythm and VF again
    ref = [("VF", 0.0, 5.0), ("NOISE", 5.0, 6.0), ("VFL", 6.0, 9.0), ("N", 9.0, 20.0)]
    ref += [("VF", 20.0, 22.0), ("NOISE", 22.0, 30.0)]
    # Then the first three are one VF/VFL episode; trailing noise is not part of the last
    assert join_reference(ref, ("VF", "VFL")) == [(0.0, 9.0), (20.0, 22.0)]


def test_learning_period_clips_reference_and_detections_alike() -> None:
    # Given a detection inside the learning period and one spanning its end (epicmp)
    ref = clip_intervals([(100.0, 120.0), (290.0, 400.0)], 300.0)
    det = clip_intervals([(100.0, 110.0), (280.0, 320.0)], 300.0)
    # Then the first is not scored, the second only from 300 s on
    assert ref == [(300.0, 400.0)]
    assert det == [(300.0, 320.0)]
    c = episode_counts(ref, det)
    assert (c.ref_hit, c.n_ref, c.det_hit, c.n_det) == (1, 1, 1, 1)
    assert c.duration_ppv == 1.0


@given(ivs=intervals, start=st.floats(0, 1000))
def test_clipped_intervals_start_after_the_learning_period(
    ivs: list[tuple[float, float]], start: float
) -> None:
    out = clip_intervals(ivs, start)
    assert all(start <= a <= b for a, b in out)
    assert len(out) == sum(b > start for _, b in ivs)
