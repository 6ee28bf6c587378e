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

import numpy as np
import wfdb
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


def _read_header(header_path: Path) -> Record:
    record_line = b""
    for line in header_path.read_bytes().splitlines():
        if line.strip() and not line.lstrip().startswith(b"#"):
            record_line = line
            break
    if len(record_line.split()) < 3:
        raise SamplingRateError(
            f"{header_path}: the header's record line gives no sampling frequency "
            f"({record_line.decode(errors='replace').strip()!r})"
        )
    try:
        header = wfdb.rdheader(str(header_path.with_suffix("")))
    except Exception as exc:  # wfdb raises bare ValueError/KeyError/HeaderSyntaxError
        raise CorruptRecordError(f"{header_path}: unreadable WFDB header ({exc})") from exc
    if not isinstance(header, Record):
        raise CorruptRecordError(f"{header_path}: multi-segment WFDB records are not supported")
    return header


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
    try:
        rec = wfdb.rdrecord(str(header_path.with_suffix("")), channels=keep, physical=True)
    except FileNotFoundError as exc:
        raise CorruptRecordError(f"{header_path}: signal file missing ({exc.filename})") from exc
    except Exception as exc:  # wfdb signals decoding problems with bare ValueError
        raise CorruptRecordError(f"{header_path}: cannot decode the signal ({exc})") from exc
    if rec.p_signal is None:
        raise CorruptRecordError(f"{header_path}: the record holds no signal")
    comments = [str(c) for c in (header.comments or [])]
    age, sex = age_sex_from_text(comments)
    start: datetime | None = header.base_datetime if header.base_date is not None else None
    return make_record(
        np.asarray(rec.p_signal, dtype=np.float64),
        fs_hz=float(header.fs) if header.fs is not None else math.nan,
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
