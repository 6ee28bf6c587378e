"""Holter summary, episode merging across chunk seams, HRV, and the 24 h speed benchmark."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ecg_core.holter import holter_summary, hrv_time_domain, merge_episodes
from ecg_core.rhythm import analyze_rhythm
from models.result import Episode
from tests.ecg_core.rhythm_synth import FS_HZ, beats_from_rr, ecg_for


def test_merge_episodes_joins_same_type_across_seam() -> None:
    # Given an AF episode cut at a chunk seam (300 s) and reported by both chunks
    parts = [
        Episode(type="AFIB", onset_s=250.0, offset_s=300.0, evidence={"n_beats": 60}),
        Episode(type="AFIB", onset_s=299.0, offset_s=340.0),
        Episode(type="N", onset_s=340.0, offset_s=400.0),
    ]
    merged = merge_episodes(parts, max_gap_s=0.5)
    assert [(e.type, e.onset_s, e.offset_s) for e in merged] == [
        ("AFIB", 250.0, 340.0),
        ("N", 340.0, 400.0),
    ]
    assert merged[0].evidence["merged_from"] == 2


def test_hrv_constant_rr_is_zero_and_alternating_rr_known() -> None:
    t = np.arange(400) * 0.8
    lab = np.array(["N"] * t.size)
    hrv = hrv_time_domain(t, lab)
    assert hrv["sdnn_ms"] == pytest.approx(0.0, abs=1e-6)
    assert hrv["rmssd_ms"] == pytest.approx(0.0, abs=1e-6)
    rr = np.where(np.arange(399) % 2 == 0, 0.78, 0.82)
    t2 = np.concatenate(([0.0], np.cumsum(rr)))
    hrv2 = hrv_time_domain(t2, lab)
    assert hrv2["rmssd_ms"] == pytest.approx(40.0, rel=1e-6)
    assert hrv2["sdnn_ms"] == pytest.approx(20.0, rel=0.01)


def test_summary_counts_and_times() -> None:
    # Given 10 min: sinus 75 /min, a 3.5 s pause at ~5 min, PVCs every 20th beat
    rr, labels = [], ["N"]
    for k in range(700):
        is_v = k % 20 == 19
        rr.append(0.5 if is_v else 0.8)
        labels.append("V" if is_v else "N")
    rr[370] = 3.5
    labels[370] = labels[371] = "N"
    beats = beats_from_rr(rr, labels)
    dur = float(beats.r_idx[-1] / FS_HZ + 1.0)
    eps, feats = analyze_rhythm(ecg_for(beats, dur), beats, duration_s=dur, leads=("I", "II"))
    s = holter_summary(feats, eps)
    assert s["total_beats"] == len(beats)
    assert s["pvc"]["count"] == int((beats.label == "V").sum())
    assert s["pvc"]["burden_pct"] == pytest.approx(100 * s["pvc"]["count"] / len(beats), rel=1e-3)
    assert s["pauses"]["longest_s"] == pytest.approx(3.5, abs=0.01)
    assert s["pauses"]["count_ge_3s"] == 1
    assert 60 <= s["hr_mean_bpm"] <= 90
    assert s["hr_min_bpm"] <= s["hr_mean_bpm"] <= s["hr_max_bpm"]
    assert len(s["hourly_hr_bpm"]) == 1
    assert s["af"]["burden_pct"] == 0.0


@pytest.mark.slow
def test_benchmark_24h_rhythm_stage() -> None:
    """Print the cost of the rhythm stage on 24 h, 3 leads, 250 Hz (no timed assertion)."""
    rng = np.random.default_rng(1)
    n_beats = 24 * 3600 * 75 // 60
    rr = 0.8 * rng.uniform(0.95, 1.05, n_beats)
    beats = beats_from_rr(rr)
    dur = float(beats.r_idx[-1] / FS_HZ + 1.0)
    n = int(dur * FS_HZ)
    x = rng.normal(0.0, 0.02, (3, n))
    x[:, beats.r_idx[beats.r_idx < n]] += 1.0  # spikes as QRS
    t0 = time.perf_counter()
    eps, feats = analyze_rhythm(x, beats, duration_s=dur, leads=("I", "II", "III"))
    summary = holter_summary(feats, eps)
    took = time.perf_counter() - t0
    print(
        f"\nrhythm stage + Holter summary, 24 h x 3 leads @ 250 Hz ({len(beats)} beats): "
        f"{took:.2f} s"
    )
    assert summary["total_beats"] == len(beats)
