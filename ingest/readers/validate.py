"""Cheap structural check of an uploaded record: format, fs, leads, samples, duration.

:func:`validate_record_files` answers "is this a readable ECG record, and what is it?"
without decoding the signal where the format allows it:

* **WFDB**: the header is parsed (``wfdb.rdheader``) and every signal file's size is
  compared with what the header promises (a truncated ``.dat`` is rejected).
* **EDF / BDF**: the fixed-width header is parsed (number of data records, record
  duration, samples per record, labels, physical dimensions) and the file size is
  compared with the header.
* **Other formats** (HL7 aECG XML, challenge ``.mat``, CSV): these are single files
  whose structure is their content, so they are read in full (they are small); above
  ``full_read_max_bytes`` only the format is checked and the worker's full read
  decides.

The upload API calls this before storing anything, and the worker's full read remains
the final word (a file can be structurally sound and still hold a flat signal).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ingest.readers.base import ensure_readable

# Direct imports of the readers' own helpers: a rename fails here, loudly, at import.
from ingest.readers.edf import _VOLTAGE, _is_ecg_label
from ingest.readers.wfdb_reader import (
    _check_file_sizes,
    _read_header,
    ecg_channel_indices,
    header_path_for,
)
from models.errors import (
    CorruptRecordError,
    InputError,
    InvalidSignalError,
    SamplingRateError,
    SignalTooShortError,
)
from models.record import FS_HZ_MAX, FS_HZ_MIN, MIN_DURATION_S

__all__ = ["Check", "RecordInfo", "primary_file", "validate_record_files"]

#: How a record was checked: header/size structure, a full read, or only its format.
Check = Literal["structure", "full_read", "format"]
#: Default size above which formats without a structural check get a format check only.
DEFAULT_FULL_READ_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RecordInfo:
    """What a cheap check learnt about a record.

    Attributes
    ----------
    format : str
        Source format as :attr:`EcgRecord.source_format` names it (``wfdb``, ``edf``,
        ``bdf``, ``hl7-aecg``, ...).
    primary : Path
        The file the record is read through (the ``.hea`` for WFDB).
    fs_hz : float or None
        Sampling rate of the ECG channels, Hz (None when only the format was checked).
    n_leads : int or None
        Number of ECG channels that will be read.
    n_samples : int or None
        Samples per lead.
    duration_s : float or None
        ``n_samples / fs_hz``, seconds.
    leads : tuple of str
        ECG channel names as stated in the file (not yet normalised).
    check : {"structure", "full_read", "format"}
        How the record was checked.
    """

    format: str
    primary: Path
    fs_hz: float | None
    n_leads: int | None
    n_samples: int | None
    duration_s: float | None
    leads: tuple[str, ...]
    check: Check


def primary_file(paths: Sequence[Path]) -> Path:
    """The file a record is read through: the only file, or the one WFDB ``.hea``.

    Parameters
    ----------
    paths : sequence of Path
        Every file of one record.

    Returns
    -------
    Path
        The primary file.

    Raises
    ------
    InputError
        No file, or several files without exactly one ``.hea`` header.
    """
    if not paths:
        raise InputError("no file given: a record needs at least one file")
    if len(paths) == 1:
        return Path(paths[0])
    headers = [Path(p) for p in paths if Path(p).suffix.lower() == ".hea"]
    if len(headers) != 1:
        names = ", ".join(Path(p).name for p in paths)
        raise InputError(
            f"{len(paths)} files given ({names}): several files form one record only for "
            "WFDB, with exactly one .hea header"
        )
    return headers[0]


def _plausible(path: Path, fs_hz: float, n_leads: int, n_samples: int) -> float:
    """Check rate, lead count and length against :mod:`models.record`; returns duration."""
    if not math.isfinite(fs_hz) or not FS_HZ_MIN <= fs_hz <= FS_HZ_MAX:
        raise SamplingRateError(
            f"{path}: sampling frequency {fs_hz} Hz is outside {FS_HZ_MIN:g}-{FS_HZ_MAX:g} Hz"
        )
    if n_leads < 1:
        raise InvalidSignalError(f"{path}: no ECG channel")
    duration_s = n_samples / fs_hz
    if duration_s < MIN_DURATION_S:
        raise SignalTooShortError(
            f"{path}: need >= {MIN_DURATION_S:g} s of signal, header gives {duration_s:.2f} s "
            f"({n_samples} samples at {fs_hz:g} Hz)"
        )
    return duration_s


def _check_wfdb(path: Path) -> RecordInfo:
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
    if header.sig_len is None:
        raise CorruptRecordError(f"{header_path}: the header gives no sample count")
    fs_hz = float(header.fs) if header.fs is not None else math.nan
    n_samples = int(header.sig_len)
    duration_s = _plausible(header_path, fs_hz, len(keep), n_samples)
    return RecordInfo(
        "wfdb",
        header_path,
        fs_hz,
        len(keep),
        n_samples,
        duration_s,
        tuple(names[i] for i in keep),
        "structure",
    )


def _field(raw: bytes, start: int, stop: int, path: Path, name: str) -> str:
    text = raw[start:stop].decode("ascii", errors="replace").strip()
    if not text:
        raise CorruptRecordError(f"{path}: EDF header field {name!r} is empty")
    return text


def _number(text: str, path: Path, name: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise CorruptRecordError(f"{path}: EDF header field {name!r} is {text!r}") from exc


def _check_edf(path: Path) -> RecordInfo:
    with path.open("rb") as fh:
        fixed = fh.read(256)
        if len(fixed) < 256:
            raise CorruptRecordError(f"{path}: EDF header is truncated ({len(fixed)} bytes)")
        n_signals = int(_number(_field(fixed, 252, 256, path, "ns"), path, "ns"))
        if n_signals < 1:
            raise CorruptRecordError(f"{path}: EDF header declares {n_signals} signals")
        block = fh.read(256 * n_signals)
    if len(block) < 256 * n_signals:
        raise CorruptRecordError(f"{path}: EDF signal headers are truncated")
    is_bdf = fixed.startswith(b"\xffBIOSEMI")
    header_bytes = int(_number(_field(fixed, 184, 192, path, "header bytes"), path, "bytes"))
    n_records = int(_number(_field(fixed, 236, 244, path, "records"), path, "records"))
    record_s = _number(_field(fixed, 244, 252, path, "duration"), path, "duration")
    if header_bytes != 256 * (n_signals + 1):
        raise CorruptRecordError(
            f"{path}: EDF header size field says {header_bytes} bytes, "
            f"{n_signals} signals need {256 * (n_signals + 1)}"
        )

    def column(offset: int, width: int) -> list[str]:
        base = offset * n_signals
        return [
            block[base + i * width : base + (i + 1) * width].decode("latin-1").strip()
            for i in range(n_signals)
        ]

    labels = column(0, 16)
    dims = column(16 + 80, 8)
    spr = [int(_number(s, path, "samples per record")) for s in column(16 + 80 + 8 * 5 + 80, 8)]
    record_bytes = sum(spr) * (3 if is_bdf else 2)
    size = path.stat().st_size
    if n_records < 0:  # -1: still being recorded; the file size tells
        n_records = (size - header_bytes) // max(record_bytes, 1)
    expected = header_bytes + n_records * record_bytes
    if size < expected:
        raise CorruptRecordError(
            f"{path}: file is truncated: {size} bytes, header promises {expected} "
            f"({n_records} data records of {record_bytes} bytes)"
        )
    voltage = [i for i, d in enumerate(dims) if d.lower() in _VOLTAGE or not d]
    ecg = [i for i in voltage if _is_ecg_label(labels[i])] or voltage
    if not ecg:
        found = ", ".join(f"{lab} [{dim}]" for lab, dim in zip(labels, dims, strict=True))
        raise InvalidSignalError(f"{path}: no ECG (voltage) channel; channels: {found}")
    if record_s <= 0:
        raise SamplingRateError(f"{path}: EDF data record duration {record_s} s is not positive")
    common_spr = Counter(spr[i] for i in ecg).most_common(1)[0][0]
    kept = [i for i in ecg if spr[i] == common_spr]
    fs_hz = common_spr / record_s
    n_samples = n_records * common_spr
    duration_s = _plausible(path, fs_hz, len(kept), n_samples)
    return RecordInfo(
        "bdf" if is_bdf else "edf",
        path,
        fs_hz,
        len(kept),
        n_samples,
        duration_s,
        tuple(labels[i] for i in kept),
        "structure",
    )


def validate_record_files(
    paths: Sequence[Path], *, full_read_max_bytes: float = DEFAULT_FULL_READ_MAX_BYTES
) -> RecordInfo:
    """Check that the files form one readable ECG record, cheaply where possible.

    Parameters
    ----------
    paths : sequence of Path
        Every file of the record (WFDB: the ``.hea`` plus its signal files, side by side).
    full_read_max_bytes : float, default 20 MiB
        Formats without a structural check are read in full up to this size.

    Returns
    -------
    RecordInfo
        Format, sampling rate, ECG lead count, samples and duration.

    Raises
    ------
    UnsupportedFormatError
        No reader recognises the content.
    CorruptRecordError
        Header unreadable, a signal file missing or truncated, sizes disagree.
    SamplingRateError, SignalTooShortError, InvalidSignalError
        Implausible rate, too short, or no ECG channel.

    Examples
    --------
    >>> info = validate_record_files([Path("sample_records/ludb1.hea"),
    ...                               Path("sample_records/ludb1.dat")])  # doctest: +SKIP
    >>> info.format, info.fs_hz, info.n_leads, info.duration_s  # doctest: +SKIP
    ('wfdb', 500.0, 12, 10.0)
    """
    from ingest.readers import detect_format, read_record

    primary = primary_file([Path(p) for p in paths])
    ensure_readable(primary)
    fmt = detect_format(primary)
    if fmt == "wfdb":
        return _check_wfdb(primary)
    if fmt == "edf":
        return _check_edf(primary)
    total = sum(Path(p).stat().st_size for p in paths)
    if total > full_read_max_bytes:
        return RecordInfo(fmt, primary, None, None, None, None, (), "format")
    rec = read_record(primary)
    n_samples = int(rec.signal_mv.shape[-1])
    return RecordInfo(
        rec.source_format,
        primary,
        float(rec.fs_hz),
        int(rec.signal_mv.shape[0]),
        n_samples,
        n_samples / float(rec.fs_hz),
        tuple(rec.leads),
        "full_read",
    )
