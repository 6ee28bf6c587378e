from pathlib import Path

import numpy as np
import pytest
import scipy.signal as sps
import wfdb
from hypothesis import given, settings
from hypothesis import strategies as st

from ecg_core.beat_class import BeatFeatures
from ecg_core.qrs import detect_beats, detect_r_peaks, median_hr_bpm
from evaluation.ec57 import aami_class, compare
from models.errors import InvalidSignalError, SamplingRateError, SignalTooShortError
from tests.ecg_core.beat_factory import one_beat


def _load(samples: Path, name: str):
    rec = wfdb.rdrecord(str(samples / name))
    ann = wfdb.rdann(str(samples / name), "atr")
    return rec.p_signal.T.astype(np.float64), float(rec.fs), ann


@pytest.fixture(scope="module")
def excerpt(samples_dir):
    """30 s of MIT-BIH 119 (bigeminy), both leads, 360 Hz."""
    x, fs, _ = _load(samples_dir, "mitdb119_0-300s")
    return x[:, : int(30 * fs)], fs


def _unmatched(a, b, tol):
    """Beats of a with no partner in b within tol, and of b with none in a."""
    d_ab = np.abs(a[:, None] - b[None]).min(axis=1)
    d_ba = np.abs(b[:, None] - a[None]).min(axis=1)
    return int((d_ab > tol).sum()), int((d_ba > tol).sum())


def _close(a, b, tol, *, loose=None):
    """Same beats: every index in a has a partner in b within ``loose`` (default ``tol``)
    and vice versa, and the median distance is within ``tol``. The loose bound (the EC57
    150 ms window) allows the fiducial of a wide ventricular beat to move between its R
    and S deflections when the signal is resampled or re-blocked.
    """
    loose = tol if loose is None else loose
    if a.size == 0 or b.size == 0:
        return a.size == b.size
    d_ab = np.abs(a[:, None] - b[None]).min(axis=1)
    d_ba = np.abs(b[:, None] - a[None]).min(axis=1)
    return bool((d_ab <= loose).all() and (d_ba <= loose).all() and np.median(d_ab) <= tol)


@pytest.mark.parametrize(
    ("name", "min_se", "min_pp"),
    [
        ("mitdb119_0-300s", 99.5, 99.5),
        ("mitdb203_0-300s", 97.0, 97.0),
    ],
)
def test_real_record_se_pp(samples_dir, name, min_se, min_pp):
    # Given a real MIT-BIH excerpt with reference beats
    x, fs, ann = _load(samples_dir, name)
    cls = aami_class(ann.symbol)
    beat = cls != ""
    # When detected, Then Se and +P (150 ms window) exceed the thresholds
    b = detect_beats(x, fs_hz=fs)
    s = compare(name, ann.sample[beat], cls[beat], b.r_idx, b.label, fs_hz=fs).stats()
    assert s["qrs_se"] >= min_se
    assert s["qrs_pp"] >= min_pp


def test_bigeminy_pvcs_are_classified(samples_dir):
    x, fs, ann = _load(samples_dir, "mitdb119_0-300s")
    cls = aami_class(ann.symbol)
    beat = cls != ""
    b = detect_beats(x, fs_hz=fs)
    s = compare("119", ann.sample[beat], cls[beat], b.r_idx, b.label, fs_hz=fs).stats()
    assert s["veb_se"] >= 90.0
    assert s["veb_pp"] >= 90.0


def test_survives_one_flat_and_one_noisy_lead(excerpt):
    x, fs = excerpt
    ref = detect_r_peaks(x, fs_hz=fs)
    rng = np.random.default_rng(1)
    three = np.vstack([x[:1], np.zeros((1, x.shape[1])), rng.normal(0, 1.0, (1, x.shape[1]))])
    got = detect_r_peaks(three, fs_hz=fs)
    assert _close(got, ref, 2, loose=round(0.15 * fs))


def test_noise_is_unanalysable_not_filled_with_beats():
    fs = 250.0
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1.0, (2, int(60 * fs)))
    b = detect_beats(x, fs_hz=fs)
    assert not b.quality_ok.any()
    assert sum(s.end_idx - s.start_idx for s in b.unanalysable) > 0.8 * x.shape[1]


def test_chunk_seams_neither_lose_nor_double(samples_dir):
    x, fs, _ = _load(samples_dir, "mitdb119_0-300s")
    whole = detect_r_peaks(x, fs_hz=fs)
    chunked = detect_beats(x, fs_hz=fs, chunk_s=60.0).r_idx
    assert abs(whole.size - chunked.size) <= 1
    _, unmatched = _unmatched(chunked, whole, round(0.15 * fs))
    assert unmatched <= 1


@settings(max_examples=15, deadline=None)
# Below ~0.1 x a 1 mV ECG the QRS falls under the flat-lead floor (lead off) by design.
@given(scale=st.floats(0.1, 1e2), offset=st.floats(-50.0, 50.0))
def test_scaling_and_dc_leave_peaks_in_place(excerpt, scale, offset):
    x, fs = excerpt
    ref = detect_r_peaks(x, fs_hz=fs)
    got = detect_r_peaks(scale * x + offset, fs_hz=fs)
    assert _close(got, ref, 2)


@settings(max_examples=10, deadline=None)
@given(pad_s=st.floats(0.5, 5.0))
def test_padding_shifts_peaks(excerpt, pad_s):
    x, fs = excerpt
    ref = detect_r_peaks(x, fs_hz=fs)
    pad = int(pad_s * fs)
    got = detect_r_peaks(np.pad(x, ((0, 0), (pad, 0)), mode="edge"), fs_hz=fs)
    # the flat pad reads as lead-off: skip 2 s of signal after it, and the last second
    inner = got[(got > pad + 2 * fs) & (got < pad + x.shape[1] - fs)] - pad
    ref_in = ref[(ref > 2 * fs) & (ref < x.shape[1] - fs)]
    assert _close(inner, ref_in, 2, loose=round(0.15 * fs))


@settings(max_examples=6, deadline=None)
@given(fs_new=st.sampled_from([125, 128, 250, 500, 1000]))
def test_resampling_keeps_peaks_within_tolerance(excerpt, fs_new):
    x, fs = excerpt
    ref_s = detect_r_peaks(x, fs_hz=fs) / fs
    y = sps.resample_poly(x, fs_new, int(fs), axis=-1)
    got_s = detect_r_peaks(y, fs_hz=float(fs_new)) / fs_new
    sel = (ref_s > 1) & (ref_s < 29)
    assert _close(got_s[(got_s > 1) & (got_s < 29)], ref_s[sel], 0.012, loose=0.15)


def test_heart_rate(excerpt):
    x, fs = excerpt
    hr = median_hr_bpm(detect_beats(x, fs_hz=fs))
    assert hr is not None
    assert 40 < hr < 120


@pytest.mark.parametrize(
    ("sig", "fs", "err", "msg"),
    [
        (np.full((2, 5000), np.nan), 250.0, InvalidSignalError, "NaN"),
        (np.ones((2, 5000)), 250.0, InvalidSignalError, "flat"),
        (np.random.default_rng(0).normal(size=(1, 250)), 250.0, SignalTooShortError, "1.00 s"),
        (np.random.default_rng(0).normal(size=(1, 500)), 50.0, SamplingRateError, "50"),
    ],
)
def test_bad_input_raises(sig, fs, err, msg):
    with pytest.raises(err, match=msg):
        detect_beats(sig, fs_hz=fs)


def test_flutter_waves_are_not_called_beats(samples_dir):
    # Given 2 min of vfdb 418 with a ventricular flutter episode (reference "(VFL" span)
    rec = wfdb.rdrecord(str(samples_dir / "vfdb418_360-480s"))
    ann = wfdb.rdann(str(samples_dir / "vfdb418_360-480s"), "atr")
    notes = [(int(s), n.rstrip("\x00")) for s, n in zip(ann.sample, ann.aux_note, strict=True)]
    on = next(s for s, n in notes if n == "(VFL")
    off = next(s for s, n in notes if s > on and n)
    # When detected
    b = detect_beats(np.nan_to_num(rec.p_signal.T.astype(np.float64)), fs_hz=float(rec.fs))
    # Then the detections inside the flutter are unclassifiable (Q) and not quality-OK
    inside = (b.r_idx >= on) & (b.r_idx < off)
    assert inside.sum() > 0
    assert (b.label[inside] == "Q").mean() >= 0.8
    assert (~b.quality_ok[inside]).mean() >= 0.8


def _features(**kw: float) -> BeatFeatures:
    """One unclustered beat's features (defaults: an ordinary on-time dominant-like beat)."""
    return one_beat(**kw)


def test_small_detection_splitting_one_normal_rr_is_not_a_qrs() -> None:
    from ecg_core.beat_class import SPLIT_AMP, SPLIT_RR, not_qrs

    # a small wave half-way through a normal RR: before + after = one median RR
    split = _features(rr_ratio=0.5, comp_ratio=1.0, amp_ratio=0.5 * SPLIT_AMP, gap_s=0.4)
    assert not_qrs(split)[0]
    # same timing but as large as the dominant beat (interpolated ectopic): kept
    big = _features(rr_ratio=0.5, comp_ratio=1.0, amp_ratio=1.2, gap_s=0.4)
    assert not not_qrs(big)[0]
    # small but premature with a compensatory pause (RR sum > SPLIT_RR): kept
    ectopic = _features(rr_ratio=0.6, comp_ratio=1.0 + SPLIT_RR, amp_ratio=0.6, gap_s=0.5)
    assert not not_qrs(ectopic)[0]


def test_on_time_beat_like_the_dominant_one_is_not_v() -> None:
    from ecg_core.beat_class import V_CORR_ON_TIME, classify_beats

    ok = np.ones(1, dtype=bool)
    on_time = _features(corr=V_CORR_ON_TIME + 0.1, width_excess_s=0.05, rr_ratio=1.0)
    assert classify_beats(on_time, ok)[0] == "N"
    early = _features(corr=V_CORR_ON_TIME + 0.1, width_excess_s=0.05, rr_ratio=0.6)
    assert classify_beats(early, ok)[0] == "V"
    unrelated = _features(corr=V_CORR_ON_TIME - 0.3, width_excess_s=0.05, rr_ratio=1.0)
    assert classify_beats(unrelated, ok)[0] == "V"


def _chunk_detection(lead_qrs, lead_weight):
    from ecg_core.qrs.detect import ChunkDetection

    q = np.asarray(lead_qrs, dtype=np.float64).reshape(-1, 1)
    return ChunkDetection(
        r_idx=np.array([1000], dtype=np.intp),
        quality_ok=np.ones(1, dtype=bool),
        lead_weight=np.asarray(lead_weight, dtype=np.float64).reshape(-1, 1),
        bad_mask=np.zeros(2000, dtype=bool),
        flat_mask=np.zeros(2000, dtype=bool),
        lead_qrs=q,
    )


def test_early_unclustered_detection_seen_by_one_lead_only_is_dropped() -> None:
    from ecg_core.qrs import ONE_LEAD_EARLY_RR, ONE_LEAD_EVIDENCE, _one_lead_only

    early = _features(rr_ratio=ONE_LEAD_EARLY_RR - 0.3)
    silent = 0.5 * ONE_LEAD_EVIDENCE
    # early, unlike any cluster, a clean lead shows nothing: artefact on the other lead
    assert _one_lead_only(_chunk_detection([silent, 1.2], [1.0, 1.0]), early)[0]
    # both leads show QRS energy (an ectopic beat with another axis): kept
    assert not _one_lead_only(_chunk_detection([0.3, 1.2], [1.0, 1.0]), early)[0]
    # the silent lead is of no quality (flat, noisy): its silence proves nothing
    assert not _one_lead_only(_chunk_detection([silent, 1.2], [0.0, 1.0]), early)[0]
    # on time (a conducted beat seen on one lead): kept
    on_time = _features(rr_ratio=1.0)
    assert not _one_lead_only(_chunk_detection([silent, 1.2], [1.0, 1.0]), on_time)[0]
    # a single-lead recording has no second opinion
    assert not _one_lead_only(_chunk_detection([silent], [1.0]), early)[0]


def test_r_of_a_wide_complex_is_its_main_deflection_not_the_window_edge() -> None:
    from ecg_core.qrs.detect import _refine

    # Given a wide ventricular-like complex (MIT-BIH 124): a 120 ms deep negative wave,
    # then a broad positive ST-T wave, with the detection 30 ms after the deepest point
    fs = 360.0
    t_s = np.arange(int(2 * fs)) / fs - 1.0
    deep = -1.3 * np.exp(-(((t_s + 0.09) / 0.04) ** 2))
    tail = 0.75 * np.clip(np.sin(np.pi * (t_s + 0.02) / 0.32), 0.0, None) * (t_s > -0.02)
    x = (deep + tail)[np.newaxis]
    centre = np.array([int(fs) - round(0.06 * fs)], dtype=np.intp)
    r = _refine(x, centre, np.zeros(1, dtype=np.intp), fs)
    # Then R is the deepest point, not the 0 ms edge of the +/-60 ms search window
    assert abs((r[0] - fs) / fs + 0.09) < 0.01


def test_detector_alone_finds_the_reference_beats(samples_dir) -> None:
    # detect_qrs_only (the bare detector, as benchmarked against sleepecg) on MIT-BIH 119,
    # 5 min, lead MLII: the reference beats within the EC57 150 ms window
    from ecg_core.qrs import detect_qrs_only

    x, fs, ann = _load(samples_dir, "mitdb119_0-300s")
    ref = np.array([s for s, c in zip(ann.sample, ann.symbol, strict=True) if aami_class(c)])
    got = detect_qrs_only(np.ascontiguousarray(x[:1]), fs_hz=fs)
    missed, extra = _unmatched(ref, got, 0.15 * fs)
    assert missed <= 0.005 * ref.size
    assert extra <= 0.005 * ref.size
    # and it is chunk-invariant: 60 s chunks give the same beats
    chunked = detect_qrs_only(np.ascontiguousarray(x[:1]), fs_hz=fs, chunk_s=60.0)
    assert _unmatched(got, chunked, 0.02 * fs) == (0, 0)
