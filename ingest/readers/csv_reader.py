"""Delimited text (CSV / TSV / semicolon): one column per lead, one row per sample.

- Optional header row naming the leads, optionally with units: ``II [mV]``, ``V1 (uV)``,
  ``aVF_mV``. Without a header the leads are called ``ECG1``, ``ECG2``, ...
- Sampling rate: ``--fs-hz``, or a time column named ``t_s`` / ``time_s`` / ``time``
  (seconds) or ``t_ms`` / ``time_ms`` (milliseconds) that must be uniformly spaced.
  Neither: ``no sampling rate: pass --fs-hz``.
- Units: ``--units`` or in the header; neither is an error (never a silent guess).
- Missing samples: ``nan`` or empty cells become NaN (reported as gaps).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ingest.readers.base import Reader, ReadOptions, record_id_for
from models.errors import CorruptRecordError, InputError, SamplingRateError
from models.record import EcgRecord, make_record

__all__ = ["READER", "read_csv_record"]

_DELIMITERS = (",", ";", "\t")
_TIME_S = frozenset({"t", "t_s", "time", "time_s", "time_sec", "seconds", "sec"})
_TIME_MS = frozenset({"t_ms", "time_ms", "ms"})
_UNIT_IN_NAME = re.compile(
    r"^(?P<name>.+?)\s*(?:\[(?P<a>[uµμm]?v)\]|\((?P<b>[uµμm]?v)\)|_(?P<c>[uµμm]?v))$",
    re.IGNORECASE,
)
_UNIT_SPELLING = {"uv": "uV", "µv": "uV", "μv": "uV", "mv": "mV", "v": "V"}
#: Largest relative deviation of a time-column step from the median step.
_TIME_STEP_TOLERANCE = 0.01
#: Largest CSV file read, bytes (a 24 h 12-lead Holter at 500 Hz is ~4 GB; refuse those).
_MAX_BYTES = 512 * 1024 * 1024


def _is_number(field: str) -> bool:
    text = field.strip()
    if not text:
        return True  # empty cell: a missing sample
    try:
        float(text)
    except ValueError:
        return False
    return True


def _content_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def _delimiter(line: str) -> str | None:
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def _sniff(head: bytes, path: Path) -> bool:
    del path
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte char cut at the end of head is fine
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8")
    lines = _content_lines(text)
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # last line may be cut by the head limit
    if not lines:
        return False
    delim = _delimiter(lines[0])
    body = lines[1:] if not all(_is_number(f) for f in lines[0].split(delim)) else lines
    return bool(body) and all(all(_is_number(f) for f in ln.split(delim)) for ln in body[:20])


def _split_unit(name: str) -> tuple[str, str | None]:
    match = _UNIT_IN_NAME.match(name.strip())
    if match is None:
        return name.strip(), None
    unit = match.group("a") or match.group("b") or match.group("c")
    return match.group("name"), _UNIT_SPELLING[unit.lower()]


def _fs_from_time(t: NDArray[np.float64], scale_to_s: float, path: Path) -> float:
    steps = np.diff(t) * scale_to_s
    if steps.size == 0 or not np.all(np.isfinite(steps)):
        raise SamplingRateError(f"{path}: the time column has missing or too few values")
    step = float(np.median(steps))
    if step <= 0:
        raise SamplingRateError(f"{path}: the time column does not increase")
    if np.max(np.abs(steps - step)) > _TIME_STEP_TOLERANCE * step:
        raise SamplingRateError(
            f"{path}: the time column is not uniformly spaced (median step {step * 1e3:g} ms)"
        )
    return 1.0 / step


def _load_table(text: str, delim: str | None, skip: int, path: Path) -> NDArray[np.float64]:
    try:
        table = np.genfromtxt(
            io.StringIO(text),
            delimiter=delim,
            skip_header=skip,
            comments="#",
            dtype=np.float64,
            invalid_raise=True,
        )
    except ValueError as exc:
        raise CorruptRecordError(f"{path}: malformed rows ({exc})") from exc
    if table.ndim == 1:
        table = table[:, np.newaxis] if delim is None or table.size == 0 else table[np.newaxis, :]
    return np.asarray(table, dtype=np.float64)


def read_csv_record(path: Path, options: ReadOptions) -> EcgRecord:
    """Read a delimited-text ECG.

    Parameters
    ----------
    path : Path
        The text file.
    options : ReadOptions
        ``fs_hz`` (needed when there is no time column) and ``units`` (needed when the
        header does not state them).

    Returns
    -------
    EcgRecord
        One lead per non-time column, in mV.

    Raises
    ------
    SamplingRateError
        No sampling rate (``no sampling rate: pass --fs-hz``), a non-uniform time column,
        or ``--fs-hz`` disagreeing with the time column.
    InputError
        No unit given anywhere.
    CorruptRecordError
        Not decodable as text, ragged or non-numeric rows, too large.
    """
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise CorruptRecordError(f"{path}: {size} bytes is too large for CSV; use EDF or WFDB")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptRecordError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    lines = _content_lines(text)
    if not lines:
        raise CorruptRecordError(f"{path}: no data rows")
    delim = _delimiter(lines[0])
    first = [f.strip() for f in lines[0].split(delim)] if delim else [lines[0].strip()]
    has_header = not all(_is_number(f) for f in first)
    header_at = text.splitlines().index(lines[0]) + 1 if has_header else 0
    table = _load_table(text, delim, header_at, path)
    n_rows, n_cols = table.shape
    names = first if has_header else [f"ECG{i + 1}" for i in range(n_cols)]
    if len(names) != n_cols:
        raise CorruptRecordError(f"{path}: header names {len(names)} columns, rows have {n_cols}")
    fs_hz = options.fs_hz
    lead_cols: list[int] = []
    for i, name in enumerate(names):
        key = name.strip().lower()
        if key in _TIME_S or key in _TIME_MS:
            fs_time = _fs_from_time(table[:, i], 1.0 if key in _TIME_S else 1e-3, path)
            if fs_hz is not None and abs(fs_time - fs_hz) > _TIME_STEP_TOLERANCE * fs_hz:
                raise SamplingRateError(
                    f"{path}: --fs-hz {fs_hz:g} disagrees with the time column ({fs_time:.6g} Hz)"
                )
            fs_hz = fs_hz if fs_hz is not None else fs_time
        else:
            lead_cols.append(i)
    if fs_hz is None:
        raise SamplingRateError(
            f"{path}: no sampling rate: pass --fs-hz (or add a time column t_s / time_ms)"
        )
    if not lead_cols:
        raise CorruptRecordError(f"{path}: no signal column besides time")
    leads, units = [], []
    for i in lead_cols:
        lead, unit = _split_unit(names[i])
        unit = unit or options.units
        if unit is None:
            raise InputError(
                f"{path}: no units for column {names[i]!r}: pass --units uV|mV|V or name them "
                "in the header (e.g. 'II [mV]')"
            )
        leads.append(lead)
        units.append(unit)
    del n_rows
    return make_record(
        table[:, lead_cols],
        fs_hz=fs_hz,
        leads=leads,
        units=units,
        layout="samples_leads",
        record_id=record_id_for(path),
        source_format="csv",
        source=str(path),
    )


READER = Reader(
    name="csv",
    description="delimited text, one column per lead (needs --fs-hz or a time column)",
    sniff=_sniff,
    read=read_csv_record,
)
