"""vfdb VF evaluation helpers: false episodes described by reference rhythm and regularity."""

from __future__ import annotations

from ecg_core.rhythm.vf import VfParams
from evaluation.episodes import EpisodeCounts
from evaluation.rhythm_eval_vf import VfReport, _main_rhythm, _regular_fast, _VfRecord


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


def test_report_counts_false_episodes_by_reference_rhythm() -> None:
    c = EpisodeCounts(n_ref=1, n_det=4, ref_hit=1, det_hit=1, ref_s=10.0, det_s=40.0, overlap_s=8.0)
    rec = _VfRecord(
        name="x",
        vf=c,
        vf_strict=c,
        vta=c,
        asys_ref=0,
        asys_found=0,
        asys_ref_3s=0,
        asys_found_3s=0,
        critical_codes=(),
        false_vf=((1.0, 2.0, "VT:1", 200.0, 0.03), (3.0, 4.0, "VT:1", 150.0, 0.2)),
        false_vf_class=("VT", "VT", "N"),
        regular_fast_false=1,
        regular_fast_true=0,
    )
    report = VfReport("db", [rec])
    js = report.to_json()
    assert js["false_vf_by_reference"] == {"VT": 2, "N": 1}
    assert js["regular_fast_detections"] == {"false": 1, "true": 0}
    caption = str(report.tables()[0].caption)
    assert "2 over VT, 1 over N" in caption
    assert "1 of the false and 0 of the 1 true detections" in caption
