import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecg_core.filters import bandpass, clean_ecg, design_clean_sos
from models.errors import InvalidSignalError, SamplingRateError


def test_clean_removes_baseline_and_keeps_shape():
    # Given a 1 mV, 0.1 Hz wander on two leads plus a 10 Hz tone
    fs = 250.0
    t = np.arange(int(20 * fs)) / fs
    x = np.stack([np.sin(2 * np.pi * 0.1 * t), 0.2 * np.sin(2 * np.pi * 10 * t)])
    # When cleaned
    y = clean_ecg(x, fs_hz=fs)
    # Then the wander is gone, the tone kept, shape and input unchanged
    assert y.shape == x.shape
    assert np.abs(y[0, 500:-500]).max() < 0.1
    assert np.abs(y[1, 500:-500]).max() == pytest.approx(0.2, rel=0.05)


def test_notch_suppresses_mains():
    fs = 500.0
    t = np.arange(int(20 * fs)) / fs
    x = np.sin(2 * np.pi * 50 * t)[np.newaxis]
    y = clean_ecg(x, fs_hz=fs, mains_hz=(50,))
    # away from the edges (notch settling), 1 mV of mains is down by > 30 dB
    assert np.abs(y[:, 2500:-2500]).max() < 0.03


def test_design_is_cached_per_fs():
    assert design_clean_sos(360.0) is design_clean_sos(360.0)
    assert design_clean_sos(360.0) is not design_clean_sos(250.0)


@settings(max_examples=20, deadline=None)
@given(scale=st.floats(1e-3, 1e3), fs=st.sampled_from([128.0, 250.0, 360.0, 500.0, 1000.0]))
def test_filters_are_linear(scale, fs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, int(5 * fs)))
    assert np.allclose(
        clean_ecg(scale * x, fs_hz=fs), scale * clean_ecg(x, fs_hz=fs), atol=1e-9 * scale
    )
    assert np.allclose(
        bandpass(scale * x, fs_hz=fs), scale * bandpass(x, fs_hz=fs), atol=1e-9 * scale
    )


def test_bad_input_raises():
    with pytest.raises(SamplingRateError, match="fs_hz"):
        clean_ecg(np.zeros((1, 1000)), fs_hz=20.0)
    with pytest.raises(InvalidSignalError, match="NaN"):
        clean_ecg(np.full((1, 1000), np.nan), fs_hz=250.0)
    with pytest.raises(InvalidSignalError, match="shape"):
        clean_ecg(np.zeros((2, 2, 2)), fs_hz=250.0)


@pytest.mark.parametrize("fs_hz", [128.0, 360.0, 500.0])
@pytest.mark.parametrize("mains_hz", [(), (50,), (50, 60)])
def test_cached_filtfilt_equals_scipy_sosfiltfilt(fs_hz, mains_hz):
    import scipy.signal as sps

    from ecg_core.filters import _design_band_sos, bandpass, clean_ecg, design_clean_sos

    # Given a 2-lead random-walk signal (baseline wander plus broadband content)
    x = np.random.default_rng(3).standard_normal((2, 5000)).cumsum(axis=1)
    # Then the cached-state forward-backward filter gives scipy's result exactly
    ref = sps.sosfiltfilt(design_clean_sos(fs_hz, mains_hz).copy(), x, axis=-1)
    assert np.array_equal(clean_ecg(x, fs_hz=fs_hz, mains_hz=mains_hz), ref)
    ref_bp = sps.sosfiltfilt(_design_band_sos(fs_hz, 5.0, 25.0, 2).copy(), x, axis=-1)
    assert np.array_equal(bandpass(x, fs_hz=fs_hz), ref_bp)


def test_too_short_to_filter_raises():
    from models.errors import SignalTooShortError

    with pytest.raises(SignalTooShortError, match="samples to filter"):
        clean_ecg(np.zeros((1, 10)), fs_hz=250.0)
