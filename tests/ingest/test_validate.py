"""validate_record_files: the cheap structural check agrees with a full read, rejects bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import edfio
import pytest
import wfdb
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.readers import read_record, validate_record_files
from models.errors import (
    CorruptRecordError,
    InputError,
    SignalTooShortError,
    UnsupportedFormatError,
)

WFDB_RECORDS = ["ludb1", "ludb7", "mitdb119_0-300s", "vfdb418_360-480s", "s0010_re", "A00001"]


def _wfdb_files(samples_dir: Path, stem: str) -> list[Path]:
    header = samples_dir / f"{stem}.hea"
    signal_names = {
        line.split()[0]
        for line in header.read_text().splitlines()[1:]
        if line.strip() and not line.startswith("#")
    }
    return [header, *(samples_dir / n for n in sorted(signal_names))]


@pytest.mark.parametrize("stem", WFDB_RECORDS)
def test_wfdb_structure_matches_full_read(samples_dir: Path, stem: str) -> None:
    # Given a real WFDB record; When it is checked cheaply and read fully
    info = validate_record_files(_wfdb_files(samples_dir, stem))
    rec = read_record(samples_dir / f"{stem}.hea")
    # Then format, rate, ECG lead count and length agree
    assert info.check == "structure"
    assert info.format == rec.source_format == "wfdb"
    assert info.fs_hz == rec.fs_hz
    assert info.n_leads == rec.signal_mv.shape[0]
    assert info.n_samples == rec.signal_mv.shape[1]
    assert info.duration_s == pytest.approx(rec.signal_mv.shape[1] / rec.fs_hz)


def test_hl7_is_read_in_full_below_the_limit_and_sniffed_above(samples_dir: Path) -> None:
    path = samples_dir / "hl7-aecg-example.xml"
    full = validate_record_files([path])
    assert full.check == "full_read"
    assert (full.format, full.fs_hz, full.n_leads) == ("hl7-aecg", 500.0, 12)
    sniffed = validate_record_files([path], full_read_max_bytes=1000)
    assert sniffed.check == "format"
    assert sniffed.format == "hl7-aecg"
    assert sniffed.fs_hz is None


def _copy(samples_dir: Path, stem: str, tmp_path: Path) -> tuple[Path, Path]:
    hea, dat = (tmp_path / f"{stem}.hea"), (tmp_path / f"{stem}.dat")
    hea.write_bytes((samples_dir / f"{stem}.hea").read_bytes())
    dat.write_bytes((samples_dir / f"{stem}.dat").read_bytes())
    return hea, dat


@settings(max_examples=25, deadline=None)
@given(keep=st.floats(0.0, 0.999))
def test_any_truncated_signal_file_is_rejected(samples_dir: Path, keep: float) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        hea, dat = _copy(samples_dir, "ludb1", Path(tmp))
        raw = dat.read_bytes()
        dat.write_bytes(raw[: int(len(raw) * keep)])
        with pytest.raises(CorruptRecordError, match="truncated"):
            validate_record_files([hea, dat])


def test_missing_signal_file_and_padded_file(samples_dir: Path, tmp_path: Path) -> None:
    hea, dat = _copy(samples_dir, "ludb1", tmp_path)
    dat.write_bytes(dat.read_bytes() + b"\x00" * 48)
    with pytest.raises(CorruptRecordError, match="disagrees"):
        validate_record_files([hea, dat])
    dat.unlink()
    with pytest.raises(CorruptRecordError, match="missing"):
        validate_record_files([hea])


def test_too_short_header_is_rejected(samples_dir: Path, tmp_path: Path) -> None:
    # Given a header that claims 1 s of signal (the .dat cut to match)
    hea, dat = _copy(samples_dir, "ludb1", tmp_path)
    lines = hea.read_text().splitlines()
    first = lines[0].split()
    lines[0] = " ".join([*first[:3], "500", *first[4:]])
    hea.write_text("\n".join(lines) + "\n")
    dat.write_bytes(dat.read_bytes()[: 500 * 12 * 2])
    with pytest.raises(SignalTooShortError, match=r"1\.00 s"):
        validate_record_files([hea, dat])


def test_unknown_content_and_two_headers(samples_dir: Path, tmp_path: Path) -> None:
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01 not an ECG" * 100)
    with pytest.raises(UnsupportedFormatError, match="unknown format"):
        validate_record_files([junk])
    with pytest.raises(InputError, match=r"exactly one \.hea"):
        validate_record_files(
            [samples_dir / "ludb1.hea", samples_dir / "ludb7.hea", samples_dir / "ludb1.dat"]
        )


@pytest.fixture(scope="module")
def mitdb_60s(samples_dir: Path) -> wfdb.Record:
    return wfdb.rdrecord(str(samples_dir / "mitdb119_0-300s"), sampto=360 * 60)


@pytest.mark.parametrize("bdf", [False, True])
def test_edf_header_check_matches_full_read(
    mitdb_60s: wfdb.Record, tmp_path: Path, bdf: bool
) -> None:
    cls: Any = edfio.Bdf if bdf else edfio.Edf
    sig_cls: Any = edfio.BdfSignal if bdf else edfio.EdfSignal
    path = tmp_path / ("rec.bdf" if bdf else "rec.edf")
    cls(
        [
            sig_cls(
                mitdb_60s.p_signal[:, i],
                sampling_frequency=360,
                label=f"ECG {n}",
                physical_dimension="mV",
            )
            for i, n in enumerate(mitdb_60s.sig_name)
        ],
        recording=edfio.Recording(startdate=dt.date(2020, 1, 2)),
    ).write(path)
    info = validate_record_files([path])
    rec = read_record(path)
    assert info.check == "structure"
    assert info.format == rec.source_format
    assert (info.fs_hz, info.n_leads, info.n_samples) == (
        rec.fs_hz,
        rec.signal_mv.shape[0],
        rec.signal_mv.shape[1],
    )
    # When the data section is cut short, Then the header check rejects it
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptRecordError, match="truncated"):
        validate_record_files([path])
