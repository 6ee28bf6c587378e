"""Pacemaker stimuli: synthetic invariants, real paced / unpaced LUDB records, rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecg_core.analysis import analyze_record
from ecg_core.pacing import detect_pacing, paced_episode_types
from ecg_core.rules.context import RuleContext
from ecg_core.rules.pacing_rules import pacer_failure
from ingest.readers import read_record
from models.profile import load_profile

FS_HZ = 500.0
STIMULUS = np.array([1.0, 0.6, 0.3, 0.15, 0.05])  # mV: spike relaxing within 10 ms


def _paced_signal(
    n_leads: int = 3, n: int = 5000, captured: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = 0.01 * rng.standard_normal((n_leads, n))
    spikes = np.arange(250, n - 300, 500)
    r = spikes + 50  # R peak 100 ms after the stimulus
    for s in spikes:
        x[:, s : s + STIMULUS.size] += STIMULUS
    if not captured:
        r = r[::2]  # every other stimulus captures nothing
    for k in r:
        x[:, k - 20 : k + 21] += np.hanning(41)  # a wide bump standing for the QRS
    return x, spikes, r


def test_stimuli_before_each_beat_make_a_paced_rhythm() -> None:
    # Given a stimulus 100 ms before every beat in 3 leads
    x, spikes, r = _paced_signal()
    # When pacing is analysed
    p = detect_pacing(x, fs_hz=FS_HZ, r_idx=r)
    # Then every stimulus is found (within 2 samples), every beat paced, delay ~100 ms
    assert p.assessable
    assert p.paced_rhythm
    assert p.spike_idx.size == spikes.size
    assert np.abs(p.spike_idx - spikes).max() <= 2
    assert p.paced_beat.all()
    assert np.allclose(p.spike_to_r_ms, 100.0, atol=5.0)
    assert p.uncaptured_idx(300.0).size == 0


@pytest.mark.parametrize("scale", [0.05, 1.0, 20.0])
def test_amplitude_scaling_and_offset_do_not_change_the_stimuli(scale: float) -> None:
    x, _, r = _paced_signal()
    base = detect_pacing(x, fs_hz=FS_HZ, r_idx=r)
    moved = detect_pacing(x * scale + 3.0, fs_hz=FS_HZ, r_idx=r)
    assert np.array_equal(base.spike_idx, moved.spike_idx)


def test_stimuli_without_capture_are_reported() -> None:
    # Given stimuli of which every other one is followed by no QRS
    x, spikes, r = _paced_signal(captured=False)
    p = detect_pacing(x, fs_hz=FS_HZ, r_idx=r)
    # Then the uncaptured stimuli are the odd ones, and a longer window cannot reach
    # the next captured beat 1 s later either
    assert p.paced_rhythm
    assert np.abs(p.uncaptured_idx(300.0) - spikes[1::2]).max() <= 2


def test_steps_and_steep_qrs_are_not_stimuli() -> None:
    # Given baseline steps (no return) and steep 40 ms QRS complexes (no stimulus)
    x = np.zeros((3, 5000))
    x[:, 2500:] += 0.8  # step
    r = np.arange(300, 5000, 450)
    qrs = np.r_[np.linspace(0.0, 1.5, 8), np.linspace(1.5, -0.3, 8), np.linspace(-0.3, 0.0, 5)]
    for k in r:
        x[:, k - 7 : k + 14] += qrs
    p = detect_pacing(x, fs_hz=FS_HZ, r_idx=r)
    assert not p.paced_rhythm
    assert not p.paced_beat.any()


def test_low_sampling_rate_is_not_assessable() -> None:
    x, _, r = _paced_signal()
    p = detect_pacing(x[:, ::4], fs_hz=125.0, r_idx=r // 4)
    assert not p.assessable
    assert not p.paced_rhythm


def test_only_paced_idioventricular_episodes_are_renamed() -> None:
    x, _, r = _paced_signal()
    p = detect_pacing(x, fs_hz=FS_HZ, r_idx=r)
    kinds = paced_episode_types(
        ["IVR", "VT", "N"], [0.0, 3.0, 6.0], [3.0, 6.0, 10.0], p, r_idx=r, fs_hz=FS_HZ
    )
    assert kinds == ["P", "VT", "N"]  # VT is never re-read from pacing evidence


@pytest.mark.parametrize("record", ["45", "93", "95"])
def test_ludb_paced_records_are_reported_paced(shared_data: Path, record: str) -> None:
    # LUDB 45/95 unipolar, 93 biventricular pacing (ludb.csv "Cardiac pacing")
    rec = read_record(shared_data / "ludb" / "data" / f"{record}.hea")
    res = analyze_record(rec, profile=load_profile())
    codes = {f.code for f in res.findings}
    assert "PACED_RHYTHM" in codes
    assert "QRS_WIDE" not in codes
    assert "LONG_QTC" not in codes
    assert "PACER_FAILURE" not in codes  # every stimulus captures in these tracings


def test_ludb_unpaced_records_have_no_paced_rhythm(shared_data: Path) -> None:
    # 43, 99 and 109 have steep QRS complexes or baseline steps that look spike-like
    for record in ["1", "43", "99", "109"]:
        rec = read_record(shared_data / "ludb" / "data" / f"{record}.hea")
        res = analyze_record(rec, profile=load_profile())
        assert "PACED_RHYTHM" not in {f.code for f in res.findings}, record


def _ctx(pacing: object) -> RuleContext:
    return RuleContext(
        fs_hz=FS_HZ, duration_s=10.0, recording="resting", leads=("I", "II", "V1"),
        features={"pacing": pacing},
    )  # fmt: skip


def test_failure_to_capture_is_critical_only_with_two_uncaptured_stimuli() -> None:
    profile = load_profile()
    rule = next(r for r in profile.rules if r.code == "PACER_FAILURE")
    x, _, r = _paced_signal(captured=False)
    found = pacer_failure(_ctx(detect_pacing(x, fs_hz=FS_HZ, r_idx=r)), rule, profile.name)
    assert [f.severity for f in found] == ["critical"]
    assert found[0].value == 4  # the stimuli at 1.5, 3.5, 5.5 and 7.5 s capture nothing
    x, _, r = _paced_signal()
    assert pacer_failure(_ctx(detect_pacing(x, fs_hz=FS_HZ, r_idx=r)), rule, profile.name) == []


def test_chunk_seams_neither_lose_nor_double_stimuli() -> None:
    # Given 150 s at 250 Hz (three 60 s chunks) with a stimulus every 0.8 s
    fs = 250.0
    rng = np.random.default_rng(3)
    n = int(150 * fs)
    x = 0.01 * rng.standard_normal((3, n))
    spikes = np.arange(100, n - 100, 200)
    stim = np.array([1.0, 0.5, 0.2, 0.05])
    for s in spikes:
        x[:, s : s + stim.size] += stim
    p = detect_pacing(x, fs_hz=fs, r_idx=spikes + 25)
    # Then each stimulus is found exactly once, wherever the seams fall
    assert p.spike_idx.size == spikes.size
    assert np.abs(p.spike_idx - spikes).max() <= 2
