"""Readers on real files: every listed format, compared with an independent read."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import edfio
import numpy as np
import pytest
import scipy.io
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.readers import detect_format, iter_record_paths, read_record
from ingest.readers.base import age_sex_from_text
from ingest.readers.edf import data_record_onsets_s
from models.errors import InputError, UnsupportedFormatError
from models.leads import STANDARD_12

# Quantisation step of a 16-bit EDF over the signal's range is < 1 uV for these records.
EDF_TOL_MV = 2e-3


def _wfdb_mv(base: Path, channels: list[int] | None = None) -> np.ndarray:
    rec = wfdb.rdrecord(str(base), channels=channels)
    return np.asarray(rec.p_signal, dtype=np.float64).T


# ---------------------------------------------------------------- WFDB


@pytest.mark.parametrize(
    ("name", "n_leads", "fs_hz", "age", "sex"),
    [
        ("ludb1.hea", 12, 500.0, 51.0, "F"),  # LUDB "<age>: 51" / "<sex>: F"
        ("mitdb119_0-300s", 2, 360.0, 51.0, "F"),  # base name; MIT-BIH "# 51 F ..."
        ("A00001.mat", 1, 300.0, None, None),  # CinC 2017 .mat beside its .hea
        ("vfdb418_360-480s.hea", 2, 250.0, None, None),
    ],
)
def test_wfdb_sample_records_match_wfdb(
    samples_dir: Path, name: str, n_leads: int, fs_hz: float, age: float | None, sex: str | None
) -> None:
    # Given a real WFDB record, When read, Then the signal equals wfdb's physical signal
    rec = read_record(samples_dir / name)
    base = samples_dir / name.removesuffix(".hea").removesuffix(".mat")
    assert rec.source_format == "wfdb"
    assert rec.record_id == base.name
    assert rec.signal_mv.shape == (n_leads, wfdb.rdheader(str(base)).sig_len)
    assert rec.fs_hz == fs_hz
    np.testing.assert_allclose(rec.signal_mv, _wfdb_mv(base))
    assert (rec.patient_age_years, rec.patient_sex) == (age, sex)


def test_ptb_keeps_12_leads_and_frank_leads(samples_dir: Path) -> None:
    rec = read_record(samples_dir / "s0010_re.hea")
    assert rec.leads == (*STANDARD_12, "vx", "vy", "vz")
    assert rec.fs_hz == 1000.0
    assert (rec.patient_age_years, rec.patient_sex) == (81.0, "F")  # "# age: 81", "# sex: female"


@pytest.mark.parametrize("record", ["a103l", "v102s"])
def test_cinc2015_keeps_only_ecg_channels(shared_data: Path, record: str) -> None:
    # Given an ICU alarm record with ECG, PLETH (and RESP) channels
    base = shared_data / "cinc2015-alarms" / record
    header = wfdb.rdheader(str(base))
    ecg_idx = [i for i, u in enumerate(header.units) if u == "mV"]
    # When read, Then only the mV channels remain, with wfdb's values
    rec = read_record(base.with_suffix(".hea"))
    assert rec.leads == tuple(header.sig_name[i] for i in ecg_idx)
    assert not {"PLETH", "RESP", "ABP"} & set(rec.leads)
    np.testing.assert_allclose(rec.signal_mv, _wfdb_mv(base, ecg_idx))


def test_cinc2021_demographics_and_leads(shared_data: Path) -> None:
    header = next(iter(sorted((shared_data / "cinc2021").glob("*.hea"))))
    rec = read_record(header)
    comments = wfdb.rdheader(str(header.with_suffix(""))).comments
    age_line = next(c for c in comments if c.strip().lower().startswith("age"))
    assert rec.leads == STANDARD_12
    assert rec.fs_hz == 500.0
    if re.search(r"\d", age_line):
        assert rec.patient_age_years == float(age_line.split(":")[1])
    assert rec.patient_sex in ("M", "F", None)
    np.testing.assert_allclose(rec.signal_mv, _wfdb_mv(header.with_suffix("")))


def test_cinc2017_mat_from_shared_folder(shared_data: Path) -> None:
    mat = shared_data / "cinc2017" / "A00002.mat"
    rec = read_record(mat)
    val = scipy.io.loadmat(str(mat))["val"].astype(np.float64)
    np.testing.assert_allclose(rec.signal_mv, val / 1000.0)  # header gain 1000/mV, baseline 0


# ---------------------------------------------------------------- CPSC .mat without header


def test_cpsc2018_struct_layout(shared_data: Path) -> None:
    path = shared_data / "cpsc2018" / "A1980.mat"
    struct = scipy.io.loadmat(str(path))["ECG"][0, 0]
    rec = read_record(path)
    assert rec.source_format == "cpsc2018-mat"
    assert (rec.fs_hz, rec.leads) == (500.0, STANDARD_12)
    np.testing.assert_allclose(rec.signal_mv, struct["data"])
    assert rec.patient_sex == {"Male": "M", "Female": "F"}[str(struct["sex"][0])]
    assert rec.patient_age_years == float(struct["age"][0, 0])


def test_cpsc2019_single_lead(shared_data: Path) -> None:
    path = next(iter(sorted((shared_data / "cpsc2019" / "data").glob("*.mat"))))
    rec = read_record(path)
    assert (rec.fs_hz, rec.leads) == (500.0, ("ECG",))
    np.testing.assert_allclose(rec.signal_mv[0], scipy.io.loadmat(str(path))["ecg"].ravel())


def test_cpsc2019_reference_folder_is_annotations_only(shared_data: Path) -> None:
    with pytest.raises(InputError, match="no ECG record"):
        iter_record_paths(shared_data / "cpsc2019" / "ref")


# ---------------------------------------------------------------- HL7 aECG


def test_hl7_aecg_example(samples_dir: Path) -> None:
    path = samples_dir / "hl7-aecg-example.xml"
    text = path.read_text()
    rec = read_record(path)
    assert rec.source_format == "hl7-aecg"
    assert rec.fs_hz == pytest.approx(1 / 0.002)  # <increment value="0.002" unit="s"/>
    assert set(rec.leads) == set(STANDARD_12)
    # first digits of lead I times the 2.5 uV scale
    digits_i = text.split('MDC_ECG_LEAD_I"', 1)[1].split("<digits>", 1)[1].split()[:5]
    np.testing.assert_allclose(
        rec.signal_mv[rec.leads.index("I"), :5], np.array(digits_i, float) * 2.5e-3
    )
    assert rec.patient_sex == "M"
    assert rec.start_time == dt.datetime(2002, 11, 22, 9, 10)
    assert rec.patient_age_years == 49.0  # birthTime 1953-05-08, ECG 2002-11-22


# ---------------------------------------------------------------- EDF / EDF+D / BDF


@pytest.fixture(scope="module")
def mitdb_60s(samples_dir: Path) -> wfdb.Record:
    return wfdb.rdrecord(str(samples_dir / "mitdb119_0-300s"), sampto=360 * 60)


def _edf(rec: wfdb.Record, *, bdf: bool = False) -> edfio.Edf | edfio.Bdf:
    cls, sig_cls = (edfio.Bdf, edfio.BdfSignal) if bdf else (edfio.Edf, edfio.EdfSignal)
    signals = [
        sig_cls(
            rec.p_signal[:, i],
            sampling_frequency=rec.fs,
            label=f"ECG {name}",
            physical_dimension="mV",
        )
        for i, name in enumerate(rec.sig_name)
    ]
    return cls(
        signals,
        patient=edfio.Patient(code="P1", sex="F", birthdate=dt.date(1950, 5, 2)),
        recording=edfio.Recording(startdate=dt.date(2020, 1, 2)),
        annotations=[edfio.EdfAnnotation(0, None, "recording start")],
    )


def test_edf_plus_roundtrip(mitdb_60s: wfdb.Record, tmp_path: Path) -> None:
    path = tmp_path / "rec119.edf"
    _edf(mitdb_60s).write(path)
    rec = read_record(path)
    assert rec.source_format == "edf"
    assert rec.leads == tuple(mitdb_60s.sig_name)  # "ECG MLII" -> "MLII"
    assert rec.fs_hz == 360.0
    np.testing.assert_allclose(rec.signal_mv, mitdb_60s.p_signal.T, atol=EDF_TOL_MV)
    assert rec.patient_sex == "F"
    assert rec.patient_age_years == 69.0
    assert rec.gaps == ()


def test_bdf_roundtrip(mitdb_60s: wfdb.Record, tmp_path: Path) -> None:
    path = tmp_path / "rec119.bdf"
    _edf(mitdb_60s, bdf=True).write(path)
    assert detect_format(path) == "edf"
    rec = read_record(path)
    assert rec.source_format == "bdf"
    np.testing.assert_allclose(rec.signal_mv, mitdb_60s.p_signal.T, atol=EDF_TOL_MV / 100)


def test_edf_plus_d_gaps_are_nan(mitdb_60s: wfdb.Record, tmp_path: Path) -> None:
    # Given an EDF+D: 60 one-second data records, records 10..59 start 30 s later
    path = tmp_path / "gappy.edf"
    _edf(mitdb_60s).write(path)
    raw = path.read_bytes()
    raw = raw[:192] + b"EDF+D".ljust(44) + raw[236:]
    for k in range(59, 9, -1):
        old, new = b"+%d\x14\x14" % k, b"+%d\x14\x14" % (k + 30)
        assert raw.count(old) == 1
        raw = raw.replace(old, new)
    path.write_bytes(raw)
    onsets = data_record_onsets_s(path)
    assert onsets[9] == 9.0
    assert onsets[10] == 40.0
    # When read, Then records sit at their onsets with NaN in the 10-40 s gap
    rec = read_record(path)
    fs = 360
    assert rec.n_samples == 90 * fs
    assert np.isnan(rec.signal_mv[:, 10 * fs : 40 * fs]).all()
    np.testing.assert_allclose(
        rec.signal_mv[:, : 10 * fs], mitdb_60s.p_signal[: 10 * fs].T, atol=EDF_TOL_MV
    )
    np.testing.assert_allclose(
        rec.signal_mv[:, 40 * fs :], mitdb_60s.p_signal[10 * fs :].T, atol=EDF_TOL_MV
    )
    assert {(g.start_s, g.end_s) for g in rec.gaps} == {(10.0, 40.0)}


def test_detection_is_by_content_not_extension(mitdb_60s: wfdb.Record, tmp_path: Path) -> None:
    path = tmp_path / "export.bin"
    _edf(mitdb_60s).write(path)
    assert detect_format(path) == "edf"
    csv = tmp_path / "trace.dat"  # a .dat without .hea that is really CSV
    csv.write_text("II,V1\n" + "\n".join(f"{i % 7 * 0.1},{i % 5 * 0.1}" for i in range(2000)))
    assert detect_format(csv) == "csv"


# ---------------------------------------------------------------- CSV


def _ludb1_csv(samples_dir: Path, path: Path, *, header: str, time_col: str | None) -> np.ndarray:
    sig = _wfdb_mv(samples_dir / "ludb1")
    cols = [sig.T]
    if time_col == "t_s":
        cols.insert(0, (np.arange(sig.shape[1]) / 500.0)[:, None])
    elif time_col == "time_ms":
        cols.insert(0, (np.arange(sig.shape[1]) * 2.0)[:, None])
    np.savetxt(path, np.hstack(cols), delimiter=",", header=header, comments="", fmt="%.6f")
    return sig


def test_csv_header_with_units_and_time_column(samples_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "ludb1.csv"
    header = "t_s," + ",".join(f"{lead} [mV]" for lead in STANDARD_12)
    sig = _ludb1_csv(samples_dir, path, header=header, time_col="t_s")
    rec = read_record(path)
    assert (rec.fs_hz, rec.leads, rec.record_id) == (pytest.approx(500.0), STANDARD_12, "ludb1")
    np.testing.assert_allclose(rec.signal_mv, sig, atol=1e-6)


def test_csv_time_ms_and_units_option(samples_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "ludb1_uv.csv"
    header = "time_ms," + ",".join(STANDARD_12)
    sig = _ludb1_csv(samples_dir, path, header=header, time_col="time_ms")
    rec = read_record(path, units="uV")
    np.testing.assert_allclose(rec.signal_mv, sig * 1e-3, atol=1e-9)


def test_csv_without_header_needs_fs(samples_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "bare.csv"
    sig = _ludb1_csv(samples_dir, path, header="", time_col=None)
    path.write_text(path.read_text().lstrip("\n"))
    rec = read_record(path, fs_hz=500.0, units="mV")
    assert rec.leads[0] == "ECG1"
    assert rec.signal_mv.shape == sig.shape


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scale=st.floats(1e-2, 1e2), fs_hz=st.sampled_from([128.0, 250.0, 360.0, 500.0, 1000.0]))
def test_csv_roundtrip_invariant(tmp_path: Path, scale: float, fs_hz: float) -> None:
    # Invariant: what is written in mV at any scale and rate is read back unchanged
    rng = np.random.default_rng(0)
    sig = rng.standard_normal((2, int(3 * fs_hz))) * scale
    path = tmp_path / "rt.csv"
    np.savetxt(path, sig.T, delimiter=";", header="II_mV;V5_mV", comments="", fmt="%.17g")
    rec = read_record(path, fs_hz=fs_hz)
    assert rec.fs_hz == fs_hz
    np.testing.assert_allclose(rec.signal_mv, sig)


# ---------------------------------------------------------------- directories and helpers


def test_directory_lists_each_record_once(samples_dir: Path, tmp_path: Path) -> None:
    for f in samples_dir.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "LICENSE.txt").write_text("ODC-By")
    paths = iter_record_paths(tmp_path)
    names = [p.name for p in paths]
    assert "README.md" not in names
    assert "LICENSE.txt" not in names
    assert "A00001.hea" in names
    assert "A00001.mat" not in names
    assert not any(n.endswith((".atr", ".dat", ".i", ".v6", ".xyz")) for n in names)
    headers = sorted(p.name for p in samples_dir.glob("*.hea"))
    assert names == sorted([*headers, "hl7-aecg-example.xml"])


def test_unknown_format_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFormatError, match="unknown format"):
        read_record(path)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["<age>: 50", "<sex>: M"], (50.0, "M")),
        (["age: 81", "sex: female"], (81.0, "F")),
        (["Age: 78", "Sex: Male", "Dx: 1"], (78.0, "M")),
        (["69 M 1085 1629 x1"], (69.0, "M")),
        (["Age: NaN", "Sex: Unknown"], (None, None)),
        (["age: 999"], (None, None)),
    ],
)
def test_age_sex_from_header_comments(lines: list[str], expected: tuple[object, object]) -> None:
    assert age_sex_from_text(lines) == expected
