"""The delineator's shortcuts give exactly what the full computations give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecg_core.delineation import delineate_record
from ecg_core.delineation.delineate import median_qt_bounds
from ecg_core.delineation.median_beat import median_over_beats


def _ludb(samples_dir: Path, name: str) -> tuple[np.ndarray, float]:
    import wfdb

    rec = wfdb.rdrecord(str(samples_dir / name))
    return rec.p_signal.T.astype(np.float64), float(rec.fs)


@settings(max_examples=60, deadline=None)
@given(
    n_beats=st.integers(1, 25),
    shape=st.tuples(st.integers(1, 4), st.integers(1, 9)),
    seed=st.integers(0, 2**31 - 1),
    ties=st.booleans(),
)
def test_median_over_beats_equals_numpy_median(
    n_beats: int, shape: tuple[int, int], seed: int, ties: bool
) -> None:
    # Given beat windows (with repeated values when ties) / When the median is taken
    rng = np.random.default_rng(seed)
    wins = rng.normal(size=(n_beats, *shape))
    if ties:
        wins = np.round(wins, 1)
    # Then it is bit for bit np.median over the beat axis, also on a strided view
    assert np.array_equal(median_over_beats(wins), np.median(wins, axis=0))
    view = np.transpose(wins, (0, 2, 1))
    assert np.array_equal(median_over_beats(view), np.median(view, axis=0))


@pytest.mark.parametrize("name", ["ludb1", "ludb7"])
def test_median_qt_bounds_equal_median_only_delineation(samples_dir: Path, name: str) -> None:
    # Given a delineated LUDB record and the even / odd halves of its dominant beats
    x, fs = _ludb(samples_dir, name)
    d = delineate_record(x, fs_hz=fs)
    dom = np.flatnonzero(d.dominant)
    assert dom.size >= 4
    for half in (dom[0::2], dom[1::2]):
        lab = np.full(d.r_idx.size, "Q")
        lab[half] = "N"
        # When the QT bounds of that half come from the shortcut
        got = median_qt_bounds(d, lab)
        # Then they are the full median-only delineation's QRS onset and T offset
        full = delineate_record(
            x, fs_hz=fs, r_idx=d.r_idx, labels=lab, median_only=True, filtered_mv=d.filtered_mv
        )
        assert got == (full.fiducials.qrs_on, full.fiducials.t_off)
        assert got[1] is not None


@pytest.mark.parametrize(("fs", "n_samples"), [(500.0, 5000), (250.0, 2600), (1000.0, 900)])
def test_bandpass_is_sosfiltfilt_bit_for_bit_and_per_lead(fs: float, n_samples: int) -> None:
    from scipy.signal import sosfiltfilt

    from ecg_core.delineation.preprocess import _bandpass_sos, bandpass

    # Given a 12-lead random-walk signal / When band-passed
    x = np.random.default_rng(3).normal(size=(12, n_samples)).cumsum(axis=1)
    got = bandpass(x, fs_hz=fs)
    # Then it is scipy's sosfiltfilt exactly, and filtering a subset of leads gives
    # exactly those rows (the 12-lead stage reuses them after dropping a noisy lead)
    pad = min(n_samples - 1, int(3 * fs))
    assert np.array_equal(got, sosfiltfilt(_bandpass_sos(fs), x, axis=-1, padlen=pad))
    keep = np.array([0, 3, 4, 11])
    assert np.array_equal(bandpass(x[keep], fs_hz=fs), got[keep])


@pytest.mark.parametrize("name", ["ludb1", "ludb7"])
def test_qrs_t_bounds_equal_delineate_beat_on_single_beats(samples_dir: Path, name: str) -> None:
    from ecg_core.delineation.median_beat import delineate_beat, qrs_t_bounds

    # Given every single beat window of a LUDB record (as non-dominant beats are read)
    x, fs = _ludb(samples_dir, name)
    d = delineate_record(x, fs_hz=fs)
    pre, post = int(0.3 * fs), int(0.5 * fs)
    rr_s = d.rr_median_ms / 1000.0
    n_checked = 0
    for r in d.r_idx[(d.r_idx >= pre) & (d.r_idx + post <= x.shape[1])]:
        single = d.filtered_mv[:, r - pre : r + post]
        # When its QRS / T fiducials come from the shortcut / Then they are delineate_beat's
        f = delineate_beat(single, pre, fs_hz=fs, rr_s=rr_s, noise_mv=0.01)
        assert qrs_t_bounds(single, pre, fs_hz=fs, rr_s=rr_s) == (
            f.qrs_on,
            f.qrs_off,
            f.t_peak,
            f.t_off,
        )
        n_checked += 1
    assert n_checked >= 5
