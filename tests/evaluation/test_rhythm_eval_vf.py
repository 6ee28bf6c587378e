"""vfdb VF evaluation helpers: false episodes described by reference rhythm and regularity."""

from __future__ import annotations

from ecg_core.rhythm.vf import VfParams
from evaluation.rhythm_eval_vf import _main_rhythm, _regular_fast


def test_false_episode_takes_the_reference_rhythm_it_mostly_overlaps() -> None:
    ref = [("N", 0.0, 10.0), ("VT", 10.0, 30.0), ("N", 30.0, 60.0)]
    assert _main_rhythm(ref, 8.0, 20.0) == "VT"  # 2 s of N, 10 s of VT
    assert _main_rhythm(ref, 25.0, 40.0) == "N"  # 5 s of VT, 10 s of N
    assert _main_rhythm(ref, 70.0, 80.0) == "-"  # past the annotated span


def test_regular_fast_needs_both_regularity_and_flutter_rate() -> None:
    p = VfParams()
    fast_bpm = 60.0 * p.vfl_min_rate_hz
    assert _regular_fast(fast_bpm + 20.0, p.vt_max_cycle_cv / 2, p)
    assert not _regular_fast(fast_bpm - 20.0, p.vt_max_cycle_cv / 2, p)  # slower: VT rule
    assert not _regular_fast(fast_bpm + 20.0, 2 * p.vt_max_cycle_cv, p)  # irregular
    assert not _regular_fast(float("nan"), float("nan"), p)  # not measured
