"""The direct format-16 decode gives exactly wfdb's physical signal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wfdb

from ingest.readers.base import ReadOptions
from ingest.readers.wfdb_reader import _decode_fmt16, _read_header, read_wfdb


def test_fmt16_decode_equals_wfdb_bit_for_bit_with_missing_samples(tmp_path: Path) -> None:
    # Given a 3-channel format-16 record with odd gains, baselines and WFDB NaN samples
    rng = np.random.default_rng(7)
    d = rng.integers(-3000, 3000, size=(1500, 3)).astype(np.int16)
    d[100:140, 1] = -32768  # WFDB "no sample" value of format 16
    wfdb.wrsamp(
        "rec",
        fs=250,
        units=["mV", "mV", "uV"],
        sig_name=["I", "II", "V1"],
        d_signal=d,
        fmt=["16"] * 3,
        adc_gain=[1716.0, 200.5, 3.3],
        baseline=[6, -5, 1024],
        write_dir=str(tmp_path),
    )
    path = tmp_path / "rec.hea"
    ref = wfdb.rdrecord(str(tmp_path / "rec"))
    # When decoded directly
    got = _decode_fmt16(_read_header(path), path, [0, 1, 2])
    # Then the values (NaN included) are wfdb's, bit for bit
    assert got is not None
    assert np.array_equal(got, ref.p_signal, equal_nan=True)
    assert np.isnan(got[100:140, 1]).all()
    # also for a subset of the channels (non-ECG channels are left out this way)
    sub = _decode_fmt16(_read_header(path), path, [0, 2])
    ref_sub = wfdb.rdrecord(str(tmp_path / "rec"), channels=[0, 2])
    assert sub is not None
    assert np.array_equal(sub, ref_sub.p_signal, equal_nan=True)
    # and the reader's record (mV, leads x samples) is wfdb's signal in mV
    rec = read_wfdb(path, ReadOptions())
    expected = ref.p_signal.T * np.array([1.0, 1.0, 1e-3])[:, None]
    assert np.array_equal(rec.signal_mv, expected, equal_nan=True)


def test_other_formats_are_left_to_wfdb(samples_dir: Path) -> None:
    # Given a format-16 header claiming another format / When asked for the direct decode
    header = _read_header(samples_dir / "ludb1.hea")
    header.fmt = ["212"] * header.n_sig
    # Then it declines (wfdb's reader handles everything but plain format 16)
    assert _decode_fmt16(header, samples_dir / "ludb1.hea", [0, 1]) is None
