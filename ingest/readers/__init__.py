"""ECG file readers: detect a file's format by content and read it into an ``EcgRecord``.

Public interface
----------------
- :func:`read_record` -- one file (or WFDB base name) to a validated record.
- :func:`detect_format` -- the format name a file's content matches.
- :func:`iter_record_paths` -- the records in a file, base name or directory.
- :func:`validate_record_files` -- a cheap structural check of a record's files
  (format, fs, leads, samples, duration; see :mod:`ingest.readers.validate`).

Every failure is an :class:`~models.errors.InputError` subclass whose message starts
with the file path; library errors are translated with ``from exc``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.readers.base import HEAD_BYTES, Reader, ReadOptions, ensure_readable, read_head
from ingest.readers.challenge_mat import is_annotation_mat
from ingest.readers.registry import READERS, reader_names
from ingest.readers.xml_common import looks_like_xml, reject_unknown_xml
from models.errors import InputError, UnsupportedFormatError
from models.record import EcgRecord, Unit

__all__ = [
    "ReadOptions",
    "Reader",
    "RecordInfo",
    "detect_format",
    "get_reader",
    "iter_record_paths",
    "read_record",
    "reader_names",
    "resolve_record_path",
    "validate_record_files",
]

#: Files in a directory that are never records (documentation, licences, label tables).
_SKIP_NAME = re.compile(
    r"^(readme|licen[cs]e|copying|records|annotators|sha256sums|md5sums|reference)([._-].*)?$",
    re.IGNORECASE,
)
_SKIP_SUFFIXES = frozenset({".md", ".txt", ".pdf", ".html", ".htm", ".json", ".py", ".sh"})
#: WFDB annotation extensions, skipped even when their record's header is absent.
_ANNOTATION_SUFFIXES = frozenset(
    {".atr", ".qrs", ".ann", ".pu", ".pu0", ".pu1", ".q1c", ".q2c", ".man", ".apn", ".st"}
)
_SIGNAL_HINT = {
    ".dat": "a WFDB .dat signal file needs its .hea header beside it",
    ".edf": "the content is not EDF: no EDF version field",
    ".bdf": "the content is not BDF: no BIOSEMI signature",
    ".xml": "the content is not XML",
    ".csv": "the content is not numeric delimited text",
}


def resolve_record_path(path: str | Path) -> Path:
    """Map a WFDB base name (``data/100``) to its header; any other path is returned as is.

    Parameters
    ----------
    path : str or Path
        A file, a directory or a WFDB record base name.

    Returns
    -------
    Path
        ``<path>.hea`` when ``path`` does not exist but that header does, else ``path``.
    """
    p = Path(path)
    if not p.exists():
        header = p.with_name(p.name + ".hea")
        if header.is_file():
            return header
    return p


def get_reader(name: str) -> Reader:
    """The registered reader called ``name``.

    Raises
    ------
    UnsupportedFormatError
        No reader of that name.
    """
    for reader in READERS:
        if reader.name == name:
            return reader
    raise UnsupportedFormatError(
        f"unknown format name {name!r}; known formats: {', '.join(reader_names())}"
    )


def _detect(path: Path) -> Reader:
    ensure_readable(path)
    head = read_head(path, HEAD_BYTES)
    for reader in READERS:
        if reader.sniff(head, path):
            return reader
    if looks_like_xml(head):
        reject_unknown_xml(path)  # raises: XML bomb, malformed, or unknown XML kind
    hint = _SIGNAL_HINT.get(path.suffix.lower(), "")
    raise UnsupportedFormatError(
        f"{path}: unknown format{f' ({hint})' if hint else ''}; supported: "
        f"{', '.join(reader_names())}"
    )


def detect_format(path: str | Path) -> str:
    """Name of the format whose content sniffer matches the file.

    Parameters
    ----------
    path : str or Path
        A file or WFDB base name.

    Returns
    -------
    str
        One of :func:`reader_names`.

    Raises
    ------
    InputError
        Missing or empty file.
    UnsupportedFormatError
        No reader recognises the content.
    """
    return _detect(resolve_record_path(path)).name


def read_record(
    path: str | Path,
    *,
    fs_hz: float | None = None,
    units: Unit | None = None,
    fmt: str | None = None,
) -> EcgRecord:
    """Read one ECG record, detecting its format by content.

    Parameters
    ----------
    path : str or Path
        A file of any supported format, a WFDB header or signal file, or a WFDB base name.
    fs_hz : float, optional
        Sampling rate in Hz, for formats that may lack it (CSV).
    units : {"uV", "mV", "V"}, optional
        Sample unit, for formats that may lack it (CSV, EDF channels without dimension).
    fmt : str, optional
        Force a reader by name instead of detecting.

    Returns
    -------
    EcgRecord
        Validated record, signal in mV, ``record_id`` = file name without extension.

    Raises
    ------
    InputError
        Any problem with the input; the message starts with the file path.

    Examples
    --------
    >>> rec = read_record("sample_records/ludb1.hea")  # doctest: +SKIP
    >>> rec.fs_hz, rec.leads[:3]  # doctest: +SKIP
    (500.0, ('I', 'II', 'III'))
    """
    p = resolve_record_path(path)
    reader = get_reader(fmt) if fmt else _detect(p)
    if fmt:
        ensure_readable(p)
    options = ReadOptions(fs_hz=fs_hz, units=units)
    try:
        return reader.read(p, options)
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from exc


def _is_record_file(path: Path, header_stems: set[str]) -> bool:
    name = path.name
    suffix = path.suffix.lower()
    if name.startswith(".") or not path.is_file():
        return False
    if _SKIP_NAME.match(name) or suffix in _SKIP_SUFFIXES or suffix in _ANNOTATION_SUFFIXES:
        return False
    if suffix != ".hea" and path.stem in header_stems:
        return False  # a signal or annotation file of a WFDB record counted by its .hea
    return not (suffix == ".mat" and is_annotation_mat(path))


def iter_record_paths(path: str | Path) -> list[Path]:
    """The records a command-line PATH stands for.

    Parameters
    ----------
    path : str or Path
        A file, a WFDB base name, or a directory (not searched recursively).

    Returns
    -------
    list of Path
        One path per record, sorted: a WFDB record by its ``.hea`` (its ``.dat``/``.mat``
        and annotation files are not listed again); annotation files, README, licence
        and label tables are skipped.

    Raises
    ------
    InputError
        The path does not exist, or a directory holds no record.
    """
    p = resolve_record_path(path)
    if p.is_dir():
        files = sorted(p.iterdir())
        header_stems = {f.stem for f in files if f.suffix == ".hea" and f.is_file()}
        records = [f for f in files if _is_record_file(f, header_stems)]
        if not records:
            raise InputError(f"{p}: no ECG record in this directory")
        return records
    if not p.exists():
        raise InputError(f"{p}: no such file or directory")
    return [p]


from ingest.readers.validate import RecordInfo, validate_record_files  # noqa: E402
