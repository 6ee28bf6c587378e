"""VF/VFL detector: organised-rhythm vetoes (regular slow VT, steep QRS complexes)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ecg_core.rhythm.vf import (
    VfParams,
    VfTrace,
    _sharpness,
    episode_organisation,
    vf_episodes,
    vf_trace,
)
from evaluation.episodes import episode_counts
from tests.ecg_core.rhythm_synth import FS_HZ, vf_signal


def _trace(n: int, **features: float) -> VfTrace:
    """A trace of ``n`` VF-like windows (1 s step) with constant features."""
    e = np.full(n, np.nan)
    yes = np.ones(n, dtype=bool)
    base = VfTrace(
        t_s=np.arange(n, dtype=np.float64) + 2.0,
        conc=e,
        hf=e,
        tcsc=e,
        acmin=e,
        acmax=e,
        df_hz=e,
        amp_mv=e,
        cycle_cv=e,
        cycle_hz=e,
        sharpness=e,
        vf_like=yes,
        vt_like=~yes,
        step_s=1.0,
        quiet_s=np.zeros(n + 3, dtype=bool),
    )
    return replace(base, **{k: np.full(n, v) for k, v in features.items()})


def test_regular_slow_oscillation_is_vt_not_vf() -> None:
    # Given 20 VF-like windows that are regular (cycle CV 3 %) at 150 /min
    on, _ = vf_episodes(_trace(20, cycle_cv=0.03, cycle_hz=2.5, sharpness=1.8))
    # Then no VF episode: a regular ventricular rhythm slower than flutter is VT
    assert on.size == 0


def test_regular_fast_oscillation_stays_flutter() -> None:
    # Given the same regularity at 200 /min (MIT-BIH annotators call this VFL, mitdb 207)
    on, off = vf_episodes(_trace(20, cycle_cv=0.03, cycle_hz=3.4, sharpness=1.8))
    # Then it stays one VF/VFL episode
    assert on.size == 1
    assert off[0] - on[0] >= 18.0


def test_irregular_slow_oscillation_stays_vf() -> None:
    on, _ = vf_episodes(_trace(20, cycle_cv=0.25, cycle_hz=2.5, sharpness=1.8))
    assert on.size == 1


def test_steep_complexes_are_not_vf() -> None:
    # Given irregular VF-like windows whose every lead has steep QRS-like slopes
    params = VfParams()
    steep = _trace(20, cycle_cv=0.25, cycle_hz=3.0, sharpness=params.vf_max_sharpness + 0.3)
    rounded = replace(steep, sharpness=np.full(20, params.vf_max_sharpness - 0.3))
    # Then the steep ones are an organised rhythm, the rounded ones VF
    assert vf_episodes(steep, params=params)[0].size == 0
    assert vf_episodes(rounded, params=params)[0].size == 1


def test_sharpness_tells_sine_from_qrs_t_complexes() -> None:
    # Given a sine wave and a train of narrow spikes with a slow wave after each (QRS + T),
    # both at 3 Hz, 10 s, 2 leads
    n = int(10 * FS_HZ)
    t = np.arange(n) / FS_HZ
    sine = 0.5 * np.sin(2 * np.pi * 3.0 * t)
    qrs_t = np.zeros(n)
    for b in np.arange(0.2, 10.0, 1 / 3.0):  # test helper: 30 beats
        qrs_t += 1.0 * np.exp(-((t - b) ** 2) / (2 * 0.012**2))
        qrs_t += 0.4 * np.exp(-((t - b - 0.15) ** 2) / (2 * 0.05**2))

    def sharp(x: np.ndarray) -> float:
        idx, rate, start = np.array([0]), np.array([3.0]), np.array([2 * FS_HZ])
        return float(_sharpness(x, FS_HZ, idx, rate, start_idx=start, n=4 * FS_HZ)[0])

    s_sine = sharp(np.vstack([sine, 0.8 * sine]))
    s_qrs = sharp(np.vstack([qrs_t, 0.8 * qrs_t]))
    # Then the sine scores ~1 (its own definition), the QRS-T train far above the veto
    assert s_sine == pytest.approx(1.0, abs=0.15)
    assert s_qrs > VfParams().vf_max_sharpness


def test_large_regular_sine_is_flutter_not_vt() -> None:
    # Given a 1.5 mV regular sine wave at 210 /min in both leads (vfdb 609-like flutter)
    rng = np.random.default_rng(5)
    n = int(30 * FS_HZ)
    phase = np.cumsum(2 * np.pi * (3.5 + rng.normal(0, 0.05, n)) / FS_HZ)
    x = 1.5 * np.sin(phase) + rng.normal(0, 0.01, n)
    tr = vf_trace(np.vstack([x, 0.9 * x]), fs_hz=FS_HZ)
    # Then its amplitude does not make it organised: it is found as VF/VFL
    assert np.nanmin(tr.amp_mv) >= VfParams().vt_min_amp_mv
    on, off = vf_episodes(tr)
    assert episode_counts([(0.0, 30.0)], list(zip(on, off, strict=True))).duration_se > 0.8


def test_large_irregular_spiky_rhythm_stays_organised() -> None:
    # Given a 1.5 mV QRS-T train at ~190 /min with irregular cycles
    rng = np.random.default_rng(6)
    n = int(30 * FS_HZ)
    t = np.arange(n) / FS_HZ
    x = np.zeros(n)
    for b in np.cumsum(rng.uniform(0.25, 0.40, 100)):  # test helper: 100 beats
        if b < 30.0:
            x += 1.5 * np.exp(-((t - b) ** 2) / (2 * 0.015**2))
            x -= 0.6 * np.exp(-((t - b - 0.12) ** 2) / (2 * 0.04**2))
    tr = vf_trace(np.vstack([x, 0.9 * x]), fs_hz=FS_HZ)
    # Then no VF episode
    assert vf_episodes(tr)[0].size == 0


def test_synthetic_vf_keeps_its_features() -> None:
    # Given the wandering 5 Hz VF-like test signal
    tr = vf_trace(vf_signal(30.0), fs_hz=FS_HZ)
    # Then it is faster than any VT the regularity veto covers, rounded, and found
    assert np.nanmedian(tr.cycle_hz) > VfParams().vfl_min_rate_hz
    assert np.nanmedian(tr.sharpness) < VfParams().vf_max_sharpness
    on, off = vf_episodes(tr)
    assert episode_counts([(0.0, 30.0)], list(zip(on, off, strict=True))).duration_se > 0.8


def test_episode_organisation_reports_medians_of_each_episode() -> None:
    # Given 20 windows: the first 10 regular at 3.5 Hz, the last 10 irregular at 5 Hz,
    # with one window whose cycle features were not computed
    tr = _trace(20, sharpness=1.7)
    cv = np.r_[np.full(10, 0.03), np.full(10, 0.25)]
    hz = np.r_[np.full(10, 3.5), np.full(10, 5.0)]
    cv[3] = hz[3] = np.nan
    tr = replace(tr, cycle_cv=cv, cycle_hz=hz)
    on = np.array([tr.t_s[0] - 0.5, tr.t_s[10] - 0.5, 100.0])
    off = np.array([tr.t_s[9] + 0.5, tr.t_s[19] + 0.5, 110.0])
    rate, cyc, sharp = episode_organisation(tr, on, off)
    # Then each episode gets its own rate (/min), cycle CV and sharpness; none outside
    assert rate[:2] == pytest.approx([210.0, 300.0])
    assert cyc[:2] == pytest.approx([0.03, 0.25])
    assert sharp[:2] == pytest.approx([1.7, 1.7])
    assert np.isnan([rate[2], cyc[2], sharp[2]]).all()


def test_empty_trace_on_short_record() -> None:
    tr = vf_trace(np.zeros((2, int(2 * FS_HZ))), fs_hz=FS_HZ)
    assert tr.sharpness.size == 0
    assert vf_episodes(tr)[0].size == 0


@pytest.mark.slow
def test_mitdb_207_flutter_still_found(shared_data: Path) -> None:
    """Regular ventricular flutter (190-215 /min) of MIT-BIH 207 is not called VT."""
    import wfdb

    from evaluation.rhythm_eval_base import read_rhythm_intervals

    stem = shared_data / "mitdb" / "207"
    if not stem.with_suffix(".hea").exists():
        pytest.skip("mitdb 207 not in the shared data")
    rec = wfdb.rdrecord(str(stem))
    ann = wfdb.rdann(str(stem), "atr")
    ref = [
        (a, b)
        for lab, a, b in read_rhythm_intervals(ann, rec.sig_len / rec.fs)
        if lab in ("VF", "VFL")
    ]
    on, off = vf_episodes(vf_trace(np.nan_to_num(rec.p_signal.T), fs_hz=float(rec.fs)))
    c = episode_counts(ref, list(zip(on, off, strict=True)))
    assert c.episode_se >= 0.8  # 5 reference VFL intervals; joined 242-262 counts twice here
    assert c.episode_ppv == 1.0


def test_sinusoidal_vt_set_aside_from_vf_is_still_reported_as_vt(shared_data: Path) -> None:
    # vfdb 430, reference VT at ~1858-1899 s: regular sine-like waves at ~175 /min with no
    # discrete QRS. The VF detector sets it aside as organised; the VT item must still fire.
    from ecg_core.analysis import analyze_record
    from ingest.readers import read_record
    from models.profile import load_profile

    res = analyze_record(read_record(shared_data / "vfdb" / "430.hea"), profile=load_profile())
    signal_vt = [e for e in res.episodes if e.type == "VT" and e.evidence.get("source") == "signal"]
    assert any(e.onset_s <= 1870.0 <= e.offset_s for e in signal_vt)
    vt = [f for f in res.findings if f.code == "VT" and f.evidence.get("source") == "signal"]
    assert vt
    assert vt[0].severity == "critical"
    assert 150.0 <= float(vt[0].value or 0.0) <= 200.0
