"""WFDB records: a ``.hea`` header plus ``.dat`` / ``.mat`` signal files (via ``wfdb``).

Covers MIT-BIH, LUDB, PTB (12 leads plus Frank ``vx vy vz``), the CinC 2017/2021
challenge ``.mat`` files with their headers, CPSC 2021 and CinC 2015 alarm records.
Only ECG channels are kept: channels whose physical unit is not a voltage (``NU``
pleth and respiration, ``mmHg`` pressures) or whose name is a known non-ECG signal
are dropped. Before reading, the size of every signal file is checked against the
header so that a truncated file or a wrong sample count is reported, not half-read.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import wfdb
from wfdb.io import _header as wfdb_header_specs
from wfdb.io import _signal as wfdb_signal
from wfdb.io.header import HeaderSyntaxError, parse_header_content, rx_record, rx_signal
from wfdb.io.record import Record

from ingest.readers.base import Reader, ReadOptions, age_sex_from_text, record_id_for
from models.errors import CorruptRecordError, InputError, InvalidSignalError, SamplingRateError
from models.record import EcgRecord, make_record

__all__ = ["READER", "ecg_channel_indices", "header_path_for", "read_wfdb"]

#: Bytes per sample of each WFDB storage format (212: 12 bits, 310/311: 10 bits).
_BYTES_PER_SAMPLE: dict[str, float] = {
    "8": 1.0,
    "16": 2.0,
    "61": 2.0,
    "80": 1.0,
    "160": 2.0,
    "24": 3.0,
    "32": 4.0,
    "212": 1.5,
    "310": 4.0 / 3.0,
    "311": 4.0 / 3.0,
}
_VOLTAGE_UNITS = frozenset({"mv", "uv", "µv", "μv", "v"})
_NON_ECG_NAMES = frozenset(
    {"ABP", "ART", "PAP", "CVP", "ICP", "PLETH", "RESP", "SPO2", "SAO2", "CO2", "EEG", "EMG"}
)
_RECORD_LINE = re.compile(rb"^\s*[\w.+-]+(/\d+)?\s+\d+(\s|$)")

# wfdb's own field tables (pandas DataFrames), read once into dicts: ``wfdb.rdheader``
# looks them up with ``DataFrame.loc`` ~240 times per 12-lead header (~4-6 ms per call,
# and ``wfdb.rdrecord`` parses the header a second time). Same fields, same order, same
# defaults and types; tests/ingest/test_wfdb_header.py compares with ``wfdb.rdheader``.
_RECORD_FIELDS = (
    "record_name",
    "n_seg",
    "n_sig",
    "fs",
    "counter_freq",
    "base_counter",
    "sig_len",
    "base_time",
    "base_date",
)
_SIGNAL_FIELDS = (
    "file_name",
    "fmt",
    "samps_per_frame",
    "skew",
    "byte_offset",
    "adc_gain",
    "baseline",
    "units",
    "adc_res",
    "adc_zero",
    "init_value",
    "checksum",
    "block_size",
    "sig_name",
)
_RECORD_SPECS: dict[str, tuple[Any, Any]] = {
    str(f): (
        wfdb_header_specs.RECORD_SPECS.loc[f, "read_default"],
        wfdb_header_specs.RECORD_SPECS.loc[f, "allowed_types"],
    )
    for f in wfdb_header_specs.RECORD_SPECS.index
}
_SIGNAL_SPECS: dict[str, tuple[Any, Any]] = {
    str(f): (
        wfdb_header_specs.SIGNAL_SPECS.loc[f, "read_default"],
        wfdb_header_specs.SIGNAL_SPECS.loc[f, "allowed_types"],
    )
    for f in wfdb_header_specs.SIGNAL_SPECS.index
}
_INT_TYPES = wfdb_header_specs.int_types
_FLOAT_TYPES = wfdb_header_specs.float_types


def header_path_for(path: Path) -> Path | None:
    """The ``.hea`` header that describes ``path``, if there is one.

    Parameters
    ----------
    path : Path
        A header, a signal file next to its header, or a record base name.

    Returns
    -------
    Path or None
        ``path`` itself for a ``.hea`` file; ``<stem>.hea`` beside a signal file or base
        name when it exists; otherwise None.
    """
    if path.suffix == ".hea":
        return path
    for candidate in (path.with_suffix(".hea"), path.with_name(path.name + ".hea")):
        if candidate.is_file():
            return candidate
    return None


def _sniff(head: bytes, path: Path) -> bool:
    if path.suffix == ".hea":
        lines = [ln for ln in head.splitlines() if ln.strip() and not ln.startswith(b"#")]
        return bool(lines) and _RECORD_LINE.match(lines[0]) is not None
    return header_path_for(path) is not None


def ecg_channel_indices(sig_names: list[str], units: list[str]) -> list[int]:
    """Indices of the channels that carry ECG (voltage units, not a known non-ECG name).

    Parameters
    ----------
    sig_names, units : list of str
        Channel names and physical units from the header.

    Returns
    -------
    list of int
        Channel indices to keep, in header order.

    Examples
    --------
    >>> ecg_channel_indices(["II", "V", "PLETH", "ABP"], ["mV", "mV", "NU", "mmHg"])
    [0, 1]
    """
    return [
        i
        for i, (name, unit) in enumerate(zip(sig_names, units, strict=True))
        if (unit or "mV").strip().lower() in _VOLTAGE_UNITS
        and name.strip().upper() not in _NON_ECG_NAMES
    ]


def _check_file_sizes(header: Record, header_path: Path) -> None:
    """Compare each signal file's size with what the header promises."""
    per_file: dict[str, list[object]] = {}
    offsets = header.byte_offset or [None] * header.n_sig
    for fname, fmt, offset in zip(header.file_name, header.fmt, offsets, strict=True):
        entry = per_file.setdefault(fname, [fmt, offset or 0, 0])
        entry[2] = int(str(entry[2])) + 1
    for fname, (fmt, offset, n_channels) in per_file.items():
        data_path = header_path.parent / fname
        if not data_path.is_file():
            raise CorruptRecordError(
                f"{header_path}: signal file {fname!r} named in the header is missing"
            )
        bytes_per_sample = _BYTES_PER_SAMPLE.get(str(fmt))
        if bytes_per_sample is None or header.sig_len is None:
            continue
        n_ch = int(str(n_channels))
        expected = int(str(offset)) + math.ceil(header.sig_len * n_ch * bytes_per_sample)
        actual = data_path.stat().st_size
        if actual < expected:
            held = int((actual - int(str(offset))) / (n_ch * bytes_per_sample))
            raise CorruptRecordError(
                f"{header_path}: signal file {fname!r} is truncated: {actual} bytes, header "
                f"promises {expected} ({header.sig_len} samples x {n_ch} channels, format "
                f"{fmt}); the file holds about {max(held, 0)} samples"
            )
        if actual > expected:
            held = int((actual - int(str(offset))) / (n_ch * bytes_per_sample))
            raise CorruptRecordError(
                f"{header_path}: header sample count {header.sig_len} disagrees with signal "
                f"file {fname!r} ({actual} bytes hold about {held} samples of {n_ch} "
                f"channels, format {fmt})"
            )


def _record_line_fields(record_line: str) -> dict[str, Any]:
    """``wfdb.io._header._parse_record_line`` with the field table read from a dict."""
    match = rx_record.match(record_line)
    if match is None:
        raise HeaderSyntaxError("invalid syntax in record line")
    fields: dict[str, Any] = dict(zip(_RECORD_FIELDS, match.groups(), strict=True))
    for field, (default, types) in _RECORD_SPECS.items():
        text = fields[field]
        if text == "":
            fields[field] = default
        elif types == _INT_TYPES:
            fields[field] = int(text)
        elif types == _FLOAT_TYPES:
            value = float(text)
            if field == "fs" and round(value, 8) == float(int(value)):
                value = int(value)
            fields[field] = value
        elif field == "base_time":
            fields[field] = wfdb_header_specs.wfdb_strptime(text)
        elif field == "base_date":
            fields[field] = datetime.strptime(text, "%d/%m/%Y").date()
    if fields["base_date"] and fields["base_time"]:
        fields["base_datetime"] = datetime.combine(fields["base_date"], fields["base_time"])
    return fields


def _signal_line_fields(signal_lines: list[str]) -> dict[str, list[Any]]:
    """``wfdb.io._header._parse_signal_lines`` with the field table read from a dict."""
    n_sig = len(signal_lines)
    fields: dict[str, list[Any]] = {field: [None] * n_sig for field in _SIGNAL_SPECS}
    for ch, line in enumerate(signal_lines):
        match = rx_signal.match(line)
        if match is None:
            raise HeaderSyntaxError("invalid syntax in signal line")
        for field, text in zip(_SIGNAL_FIELDS, match.groups(), strict=True):
            fields[field][ch] = text
        for field, (default, types) in _SIGNAL_SPECS.items():
            text = fields[field][ch]
            if text == "":
                fields[field][ch] = default
                # wfdb: a missing baseline defaults to the ADC zero when that is given
                if field == "baseline" and fields["adc_zero"][ch] != "":
                    fields["baseline"][ch] = int(fields["adc_zero"][ch])
            elif types is _INT_TYPES:
                fields[field][ch] = int(text)
            elif types is _FLOAT_TYPES:
                value = float(text)
                fields[field][ch] = 200.0 if field == "adc_gain" and value == 0 else value
    return fields


def _parse_header(text: str) -> Record | None:
    """A single-segment WFDB header as ``wfdb.rdheader`` builds it; None if multi-segment."""
    header_lines, comment_lines = parse_header_content(text)
    if not header_lines:
        raise HeaderSyntaxError("no record line")
    record_fields = _record_line_fields(header_lines[0])
    if record_fields["n_seg"] is not None:
        return None
    record = Record()
    if len(header_lines) > 1:
        for field, values in _signal_line_fields(header_lines[1:]).items():
            setattr(record, field, values)
    for field, value in record_fields.items():
        if field != "n_seg":
            setattr(record, field, value)
    record.comments = [line.strip(" \t#") for line in comment_lines]
    return record


def _read_header(header_path: Path) -> Record:
    raw = header_path.read_bytes()
    record_line = b""
    for line in raw.splitlines():
        if line.strip() and not line.lstrip().startswith(b"#"):
            record_line = line
            break
    if len(record_line.split()) < 3:
        raise SamplingRateError(
            f"{header_path}: the header's record line gives no sampling frequency "
            f"({record_line.decode(errors='replace').strip()!r})"
        )
    try:
        # wfdb.rdheader reads the text as ASCII, dropping other bytes
        header = _parse_header(raw.decode("ascii", errors="ignore"))
    except Exception as exc:  # HeaderSyntaxError, ValueError from a bad number or date
        raise CorruptRecordError(f"{header_path}: unreadable WFDB header ({exc})") from exc
    if header is None:
        raise CorruptRecordError(f"{header_path}: multi-segment WFDB records are not supported")
    return header


#: WFDB "digital NaN" of format 16 (wfdb ``INVALID_SAMPLE_VALUE["16"]``).
_FMT16_NAN = -32768


def _decode_fmt16(header: Record, header_path: Path, channels: list[int]) -> np.ndarray | None:
    """Decode the common case directly, or return None (wfdb then reads the record).

    The common case: every signal in format 16, in one file, one sample per frame, no
    skew. Same values as wfdb's ``rdrecord`` (little-endian int16 frames; samples equal to
    -32768 are NaN; ``(d - baseline) / adc_gain`` in float64, the operations of
    ``wfdb``'s ``dac``), without wfdb's per-call file-system layer and copies (0.8 -> 0.15
    ms per 10 s 12-lead record). Returned as the transpose of a C-ordered
    ``(n_channels, n_samples)`` array, so that the record's ``(leads, samples)`` copy
    needs no reordering.
    """
    n_sig = header.n_sig
    if (
        header.sig_len is None
        or not n_sig
        or any(str(f) != "16" for f in header.fmt)
        or len(set(header.file_name)) != 1
        or any(v not in (None, 0, 1) for v in (header.samps_per_frame or []))
        or any(v not in (None, 0) for v in (header.skew or []))
        or len({v or 0 for v in (header.byte_offset or [0])}) != 1
        or header.baseline is None
        or header.adc_gain is None
    ):
        return None
    offset = int((header.byte_offset or [0])[0] or 0)
    path = header_path.parent / header.file_name[0]
    raw = np.fromfile(path, dtype="<i2", count=header.sig_len * n_sig, offset=offset)
    if raw.size != header.sig_len * n_sig:
        return None  # short file: let wfdb report it
    frames = raw.reshape(header.sig_len, n_sig)
    if list(channels) != list(range(n_sig)):
        frames = frames[:, channels]
    frames = frames.T  # (n_channels, n_samples), a view when every channel is kept
    nan = frames == _FMT16_NAN
    p = frames.astype(np.float64, order="C")
    np.subtract(p, np.asarray([header.baseline[c] for c in channels])[:, None], p)
    np.divide(p, np.asarray([header.adc_gain[c] for c in channels])[:, None], p)
    if nan.any():
        p[nan] = np.nan
    return p.T


def _decode_signal(header: Record, header_path: Path, channels: list[int]) -> np.ndarray | None:
    """Physical signal (n_samples, n_channels) of the given channels, header already parsed.

    Format-16 single-file records are decoded directly (:func:`_decode_fmt16`); others by
    the single-segment branch of ``wfdb.rdrecord`` (which would parse the header again):
    wfdb's own segment reader, frame smoothing and digital-to-analogue conversion.
    ``header`` may be changed in place (its signal fields then describe ``channels`` only).
    """
    fast = _decode_fmt16(header, header_path, channels)
    if fast is not None:
        return fast
    if header.sig_len is None:  # length from the signal file size: let wfdb work it out
        rec = wfdb.rdrecord(str(header_path.with_suffix("")), channels=channels, physical=True)
        return None if rec.p_signal is None else np.asarray(rec.p_signal, dtype=np.float64)
    header.check_read_inputs(0, header.sig_len, channels, True, True, 64)
    header.e_d_signal = wfdb_signal._rd_segment(
        file_name=header.file_name,
        dir_name=str(header_path.parent.absolute()),
        pn_dir=None,
        fmt=header.fmt,
        n_sig=header.n_sig,
        sig_len=header.sig_len,
        byte_offset=header.byte_offset,
        samps_per_frame=header.samps_per_frame,
        skew=header.skew,
        init_value=header.init_value,
        sampfrom=0,
        sampto=header.sig_len,
        channels=channels,
        ignore_skew=False,
        no_file=False,
        sig_data=None,
        return_res=64,
    )
    header._arrange_fields(channels=channels, sampfrom=0, smooth_frames=True)
    header.dac(expanded=False, return_res=64, inplace=True)
    return None if header.p_signal is None else np.asarray(header.p_signal, dtype=np.float64)


def read_wfdb(path: Path, options: ReadOptions) -> EcgRecord:
    """Read a WFDB record given by its header, a signal file beside it or its base name.

    Parameters
    ----------
    path : Path
        ``<rec>.hea``, ``<rec>.dat`` / ``<rec>.mat`` next to ``<rec>.hea``, or ``<rec>``.
    options : ReadOptions
        Unused (the header states sampling rate and units).

    Returns
    -------
    EcgRecord
        ECG channels in mV; age and sex from the header comments when stated.

    Raises
    ------
    CorruptRecordError
        Unreadable header, missing or truncated signal file, wrong sample count.
    SamplingRateError
        No or implausible sampling frequency.
    InvalidSignalError
        No ECG channel in the record.
    """
    del options
    header_path = header_path_for(path)
    if header_path is None:
        raise InputError(f"{path}: no WFDB header ({path.stem}.hea) found beside it")
    header = _read_header(header_path)
    _check_file_sizes(header, header_path)
    names = [str(n) for n in (header.sig_name or [])]
    units = [str(u) for u in (header.units or ["mV"] * header.n_sig)]
    keep = ecg_channel_indices(names, units)
    if not keep:
        raise InvalidSignalError(
            f"{header_path}: no ECG channel (channels: {', '.join(names) or 'none'})"
        )
    comments = [str(c) for c in (header.comments or [])]
    age, sex = age_sex_from_text(comments)
    start: datetime | None = header.base_datetime if header.base_date is not None else None
    fs_hz = float(header.fs) if header.fs is not None else math.nan
    try:
        signal = _decode_signal(header, header_path, keep)
    except FileNotFoundError as exc:
        raise CorruptRecordError(f"{header_path}: signal file missing ({exc.filename})") from exc
    except Exception as exc:  # wfdb signals decoding problems with bare ValueError
        raise CorruptRecordError(f"{header_path}: cannot decode the signal ({exc})") from exc
    if signal is None:
        raise CorruptRecordError(f"{header_path}: the record holds no signal")
    return make_record(
        signal,
        fs_hz=fs_hz,
        leads=[names[i] for i in keep],
        units=[units[i] for i in keep],
        layout="samples_leads",
        record_id=record_id_for(header_path),
        source_format="wfdb",
        start_time=start,
        patient_age_years=age,
        patient_sex=sex,
        source=str(path),
    )


READER = Reader(
    name="wfdb",
    description="WFDB record (.hea header + .dat/.mat signal files)",
    sniff=_sniff,
    read=read_wfdb,
)
