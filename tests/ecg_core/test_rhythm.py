"""Rhythm stage: AF, pauses, runs, VF and the episode track, on synthetic and real data."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import wfdb
from hypothesis import given
from hypothesis import strategies as st

from ecg_core.rhythm import RhythmParams, analyze_rhythm
from ecg_core.rhythm.af import AfParams, af_trace
from ecg_core.rhythm.atrial import p_wave_coherence
from ecg_core.rhythm.intervals import close_gaps, true_runs
from ecg_core.rhythm.runs import beat_runs, pattern_runs
from ecg_core.rhythm.vf import vf_episodes, vf_trace
from evaluation.episodes import episode_counts
from evaluation.rhythm_eval import beats_from_annotation, read_rhythm_intervals
from tests.ecg_core.rhythm_synth import FS_HZ, beats_from_rr, ecg_for, vf_signal

RNG = np.random.default_rng(7)


@given(st.lists(st.booleans(), max_size=60))
def test_true_runs_reconstructs_mask(mask: list[bool]) -> None:
    m = np.array(mask, dtype=bool)
    s, e = true_runs(m)
    rebuilt = np.zeros(m.size, dtype=bool)
    for a, b in zip(s, e, strict=True):
        rebuilt[a:b] = True
    assert np.array_equal(rebuilt, m)
    assert np.all(e > s)


def test_close_gaps_merges_only_small_gaps() -> None:
    on, off = close_gaps(np.array([0.0, 5.0, 20.0]), np.array([4.0, 6.0, 21.0]), max_gap=2.0)
    assert on.tolist() == [0.0, 20.0]
    assert off.tolist() == [6.0, 21.0]


@pytest.mark.parametrize("mean_rr_s", [0.33, 0.75, 1.5])  # 180, 80 and 40 /min
def test_af_found_at_high_and_low_rates(mean_rr_s: float) -> None:
    # Given an irregularly irregular response (+-25 %) at a fixed mean rate
    rr = mean_rr_s * RNG.uniform(0.75, 1.25, 120)
    beats = beats_from_rr(rr)
    # When the AF trace is computed
    tr = af_trace(beats)
    # Then (almost) every RR is judged AF, whatever the rate
    assert tr.af.mean() > 0.9


def test_regular_sinus_and_sinus_arrhythmia_are_not_af() -> None:
    t = np.arange(150)
    rr = 0.8 + 0.08 * np.sin(2 * np.pi * t / 12)  # respiratory sinus arrhythmia +-10 %
    assert not af_trace(beats_from_rr(rr)).af.any()


def test_ectopy_does_not_fake_af() -> None:
    # Given sinus rhythm with a PVC every 4th beat (short coupling + compensatory pause)
    rr, labels = [], ["N"]
    for _ in range(40):
        rr += [0.8, 0.8, 0.5, 1.1]
        labels += ["N", "N", "V", "N"]
    beats = beats_from_rr(rr, labels)
    # Then the RRs next to V beats are ignored and no AF is called
    assert not af_trace(beats).af.any()


def test_pac_bigeminy_is_not_af() -> None:
    rr = [0.55, 1.0] * 60  # atrial bigeminy: alternating short/long, lag-2 regular
    labels = ["N"] + ["S", "N"] * 60
    assert not af_trace(beats_from_rr(rr, labels)).af.any()


def test_two_discrete_rr_levels_are_not_af() -> None:
    # Given RRs on two tight levels (1.0 s and 1.5 s, +-6 %), a long RR after one or two
    # short ones at random (the pattern of CPSC 2021 data_35_*)
    rng = np.random.default_rng(1)
    groups = [[1.0, 1.5], [1.0, 1.0, 1.5]]
    rr = np.concatenate([groups[k] for k in rng.integers(0, 2, 60)])
    beats = beats_from_rr(rr * rng.uniform(0.94, 1.06, rr.size))
    # Then irregularity alone calls part of it AF, the two-level veto none of it
    assert af_trace(beats, params=AfParams(max_level_dispersion=-1.0)).af.mean() > 0.2
    assert not af_trace(beats).af.any()


def test_two_rr_levels_one_to_two_are_left_to_irregularity() -> None:
    # Given RR levels 0.6 / 1.2 s (atrial flutter with 2:1 / 4:1 conduction, scored as AF)
    rng = np.random.default_rng(1)
    groups = [[0.6, 1.2], [0.6, 0.6, 1.2]]
    rr = np.concatenate([groups[k] for k in rng.integers(0, 2, 60)])
    beats = beats_from_rr(rr * rng.uniform(0.94, 1.06, rr.size))
    # Then the two-level veto does not apply: the same RRs are AF with and without it
    vetoed = af_trace(beats).af
    assert vetoed.mean() > 0.2
    assert np.array_equal(vetoed, af_trace(beats, params=AfParams(max_level_dispersion=-1.0)).af)


def test_real_two_level_rr_record_is_not_af(shared_data: Path) -> None:
    # Given CPSC 2021 data_35_4 (labelled non-AF; RRs ~1.0 or ~1.5 s, no visible P wave)
    stem = shared_data / "cpsc2021" / "data_35_4"
    if not stem.with_suffix(".hea").exists():
        pytest.skip("cpsc2021 data_35_4 not in the shared data")
    ann = wfdb.rdann(str(stem), "atr")
    beats = beats_from_annotation(ann, float(ann.fs))
    # Then without the veto ~40 % of its RRs are AF, with it (almost) none
    assert af_trace(beats, params=AfParams(max_level_dispersion=-1.0)).af.mean() > 0.3
    assert af_trace(beats).af.mean() < 0.1


def test_p_wave_coherence_separates_sinus_from_af() -> None:
    sinus = beats_from_rr(np.full(60, 0.8))
    af = beats_from_rr(0.8 * RNG.uniform(0.7, 1.3, 60))
    dur = 60 * 1.1
    c_sinus = np.nanmedian(p_wave_coherence(ecg_for(sinus, dur), sinus))
    c_af = np.nanmedian(p_wave_coherence(ecg_for(af, dur, p_waves=False), af))
    assert c_sinus > 0.6 > 0.45 > c_af


def test_ventricular_runs_and_bigeminy() -> None:
    labels = "NNNVVNNNVVVVVNNNVNVNVNVNNN"
    beats = beats_from_rr([0.6] * (len(labels) - 1), labels)
    runs = beat_runs(beats, ("V", "F"), min_beats=2)
    assert runs.n_beats.tolist() == [2, 5]
    assert runs.rate_bpm[1] == pytest.approx(100.0)
    big = pattern_runs(beats, period=2, min_cycles=3)
    assert big.first.size == 1
    assert labels[big.first[0]] == "N"
    assert big.n_beats[0] >= 6


def test_pause_found_and_ignored_inside_noise() -> None:
    rr = [0.8] * 10 + [3.4] + [0.8] * 10 + [3.6] + [0.8] * 10
    beats = beats_from_rr(rr, noise=((18.0, 23.0),))
    dur = float(beats.r_idx[-1] / FS_HZ + 1.0)
    eps, feats = analyze_rhythm(ecg_for(beats, dur), beats, duration_s=dur, leads=("I", "II"))
    # Then the first pause is reported with its length, the one inside noise is not
    assert feats.pauses.rr_s.size == 1
    assert feats.pauses.rr_s[0] == pytest.approx(3.4, abs=0.01)
    kinds = {e.type for e in eps}
    assert {"PAUSE", "ASYS", "NOISE"} <= kinds
    pause = next(e for e in eps if e.type == "PAUSE")
    assert pause.evidence["beat_indices"] == [10, 11]


def test_vf_from_signal_not_sinus() -> None:
    beats = beats_from_rr(np.full(70, 0.8))
    sinus = ecg_for(beats, 60.0)
    vf = vf_signal(30.0)
    x = np.concatenate([sinus[:, : int(30 * FS_HZ)], vf, sinus[:, : int(30 * FS_HZ)]], axis=1)
    on, off = vf_episodes(vf_trace(x, fs_hz=FS_HZ))
    c = episode_counts([(30.0, 60.0)], list(zip(on, off, strict=True)))
    assert c.episode_se == 1.0
    assert c.episode_ppv == 1.0
    assert c.duration_se > 0.8


def test_track_is_contiguous_and_uses_vocabulary() -> None:
    rr = list(0.8 * RNG.uniform(0.7, 1.3, 80)) + [1.2] * 40  # AF then sinus brady (50 /min)
    beats = beats_from_rr(rr)
    dur = float(beats.r_idx[-1] / FS_HZ + 1.0)
    eps, _ = analyze_rhythm(ecg_for(beats, dur, p_waves=True), beats, duration_s=dur, leads=("I",))
    track = [e for e in eps if e.type not in ("PAUSE", "BII")]
    assert {e.type for e in track} <= {
        "N",
        "SBR",
        "AFIB",
        "VT",
        "VF",
        "NOISE",
        "ASYS",
        "B",
        "T",
        "SVTA",
        "IVR",
    }
    assert all(b.onset_s >= a.offset_s - 1e-9 for a, b in itertools.pairwise(track))
    assert any(e.type == "SBR" and e.onset_s > 60.0 for e in track)


def test_params_follow_profile() -> None:
    from ecg_core.rhythm import params_from_profile
    from models.profile import load_profile

    p = params_from_profile(load_profile("cn-2017-national"))
    assert isinstance(p, RhythmParams)
    assert (p.pause_min_s, p.asystole_min_s, p.brady_bpm, p.tachy_bpm) == (2.0, 3.0, 60.0, 100.0)


def test_real_af_excerpt_with_reference_beats(samples_dir: Path) -> None:
    # Given the MIT-BIH 203 excerpt (AF with VT runs) and its reference beats
    stem = str(samples_dir / "mitdb203_0-300s")
    rec = wfdb.rdrecord(stem)
    ann = wfdb.rdann(stem, "atr")
    beats = beats_from_annotation(ann, float(rec.fs))
    dur = rec.sig_len / rec.fs
    ref = [(a, b) for lab, a, b in read_rhythm_intervals(ann, dur) if lab in ("AFIB", "AFL")]
    eps, _ = analyze_rhythm(
        np.nan_to_num(rec.p_signal.T), beats, duration_s=dur, leads=tuple(rec.sig_name)
    )
    det = [(e.onset_s, e.offset_s) for e in eps if e.type == "AFIB"]
    c = episode_counts(ref, det)
    # Then most AF time is found and little non-AF time is called AF (tolerance, not counts)
    assert c.duration_se > 0.8
    assert c.duration_ppv > 0.9


def test_real_vfl_excerpt(samples_dir: Path) -> None:
    stem = str(samples_dir / "vfdb418_360-480s")
    rec = wfdb.rdrecord(stem)
    ann = wfdb.rdann(stem, "atr")
    ref = [
        (a, b)
        for lab, a, b in read_rhythm_intervals(ann, rec.sig_len / rec.fs)
        if lab in ("VF", "VFL")
    ]
    on, off = vf_episodes(vf_trace(np.nan_to_num(rec.p_signal.T), fs_hz=float(rec.fs)))
    assert ref, "excerpt should hold a VFL episode"
    assert episode_counts(ref, list(zip(on, off, strict=True))).episode_se == 1.0


@pytest.mark.slow
def test_full_analyser_on_real_databases(shared_data: Path) -> None:
    """VF on vfdb 418 and AF on mitdb 201 through the whole analyser (tolerances)."""
    from ecg_core.analysis import analyze_record
    from ingest.readers import read_record
    from models.profile import load_profile

    cases = [
        ("vfdb/418", ("VF", "VFL", "VFIB"), ("VF",)),
        ("mitdb/201", ("AFIB", "AFL"), ("AFIB",)),
    ]
    for rel, ref_labels, det_labels in cases:
        rec = read_record(shared_data / rel)
        result = analyze_record(rec, profile=load_profile())
        ann = wfdb.rdann(str(shared_data / rel), "atr")
        ref = [
            (a, b) for lab, a, b in read_rhythm_intervals(ann, rec.duration_s) if lab in ref_labels
        ]
        det = [(e.onset_s, e.offset_s) for e in result.episodes if e.type in det_labels]
        c = episode_counts(ref, det)
        assert c.episode_se >= 0.9, (rel, c)
        assert c.duration_se >= 0.85, (rel, c)
