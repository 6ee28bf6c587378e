"""The reader protocol shared by every format module, plus small helpers.

Each format lives in one module that exposes ``READER``, a :class:`Reader` with

- ``name``: the format name (also ``EcgRecord.source_format``);
- ``sniff(head, path)``: True when the first bytes (and the path, for formats split
  over several files such as WFDB) say the file is of this format;
- ``read(path, options)``: the file as a validated :class:`~models.record.EcgRecord`,
  built through :func:`models.record.make_record`.

Adding a format (DICOM-ECG, GE MUSE XML, ...) is one new module plus one line in
``ingest/readers/registry.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from models.errors import CorruptRecordError, InputError
from models.record import EcgRecord, Sex, Unit

__all__ = [
    "HEAD_BYTES",
    "ReadOptions",
    "Reader",
    "age_sex_from_text",
    "ensure_readable",
    "read_head",
    "record_id_for",
]

#: How many leading bytes the sniffers see.
HEAD_BYTES = 4096


@dataclass(frozen=True)
class ReadOptions:
    """Caller-supplied facts a file may lack.

    Attributes
    ----------
    fs_hz : float or None
        Sampling rate in Hz (CSV without a time column).
    units : {"uV", "mV", "V"} or None
        Physical unit of the samples (CSV without units in its header).
    """

    fs_hz: float | None = None
    units: Unit | None = None


@dataclass(frozen=True)
class Reader:
    """One file format: a name, a content sniffer and a read function.

    Attributes
    ----------
    name : str
        Format name, used as ``EcgRecord.source_format`` and by ``--format``-style overrides.
    description : str
        One line for docs and error messages.
    sniff : callable (head: bytes, path: Path) -> bool
        True when ``head`` (the first :data:`HEAD_BYTES` bytes) and ``path`` belong to
        this format. Must not raise and must not read more of the file.
    read : callable (path: Path, options: ReadOptions) -> EcgRecord
        Read and validate the record; raises :class:`~models.errors.InputError` subclasses
        whose message starts with the file path.
    """

    name: str
    description: str
    sniff: Callable[[bytes, Path], bool]
    read: Callable[[Path, ReadOptions], EcgRecord]


def ensure_readable(path: Path) -> None:
    """Raise a clear :class:`InputError` when ``path`` is missing, a folder or empty.

    Parameters
    ----------
    path : Path
        File to check.

    Raises
    ------
    InputError
        The path does not exist or is not a regular file.
    CorruptRecordError
        The file is empty (0 bytes).
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise CorruptRecordError(f"{path}: file is empty (0 bytes)")


def read_head(path: Path, n_bytes: int = HEAD_BYTES) -> bytes:
    """Return the first ``n_bytes`` bytes of ``path``.

    Raises
    ------
    InputError
        The file cannot be opened.
    """
    try:
        with path.open("rb") as fh:
            return fh.read(n_bytes)
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from exc


def record_id_for(path: Path) -> str:
    """Record identifier of a file: its name without the extension."""
    return path.stem if path.suffix else path.name


_AGE_PATTERNS = (
    re.compile(r"<?\bage\b>?\s*[:=]\s*(\d{1,3}(?:\.\d+)?)", re.IGNORECASE),
    # MIT-BIH first comment line: "<age> <sex> <...>", e.g. "# 51 F 1129 654 x2"
    re.compile(r"^\s*(\d{1,3})\s+[MF]\b"),
)
_SEX_PATTERNS = (
    re.compile(r"<?\b(?:sex|gender)\b>?\s*[:=]\s*([A-Za-z]+)", re.IGNORECASE),
    re.compile(r"^\s*\d{1,3}\s+([MF])\b"),
)
_SEX_WORDS: dict[str, Sex] = {"m": "M", "male": "M", "f": "F", "female": "F"}
#: Ages outside this range (years) are treated as not stated (placeholders like 999).
_AGE_MAX_YEARS = 125.0


def age_sex_from_text(lines: Iterable[str]) -> tuple[float | None, Sex | None]:
    """Find patient age and sex in free-text header lines.

    Understands LUDB ``<age>: 50`` / ``<sex>: M``, PTB ``age: 81`` / ``sex: female``,
    CinC 2021 ``Age: 78`` / ``Sex: Male`` and the MIT-BIH first comment ``51 F ...``.

    Parameters
    ----------
    lines : iterable of str
        Comment lines (without the leading ``#``).

    Returns
    -------
    age_years : float or None
        Age in years when stated and plausible (0-125).
    sex : {"M", "F"} or None
        Sex when stated.

    Examples
    --------
    >>> age_sex_from_text(["<age>: 51", "<sex>: F"])
    (51.0, 'F')
    >>> age_sex_from_text(["Age: NaN", "Sex: Unknown"])
    (None, None)
    """
    age: float | None = None
    sex: Sex | None = None
    for line in lines:
        if age is None:
            for pattern in _AGE_PATTERNS:
                match = pattern.search(line)
                if match and 0.0 <= float(match.group(1)) <= _AGE_MAX_YEARS:
                    age = float(match.group(1))
                    break
        if sex is None:
            for pattern in _SEX_PATTERNS:
                match = pattern.search(line)
                if match and match.group(1).lower() in _SEX_WORDS:
                    sex = _SEX_WORDS[match.group(1).lower()]
                    break
    return age, sex
