"""EDF, EDF+ (continuous ``EDF+C`` and discontinuous ``EDF+D``) and BDF/BDF+ files (``edfio``).

Only voltage channels are kept; when some channel labels name ECG (``ECG``/``EKG`` or a
standard lead), only those. Channels must share one sampling rate: the most common rate
among the kept channels wins and the others are dropped.

EDF+D: every data record starts at the onset given by its time-keeping annotation
(EDF+ specification, "Time keeping of data records"). Records are placed at their
onsets and the gaps between them are left NaN, which :func:`models.record.make_record`
reports as gaps; a discontinuous file is never read as if it were continuous.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import numpy as np
from edfio import Bdf, Edf, read_bdf, read_edf
from numpy.typing import NDArray

from ingest.readers.base import Reader, ReadOptions, record_id_for
from models.errors import CorruptRecordError, InvalidSignalError
from models.leads import STANDARD_12
from models.record import EcgRecord, Sex, make_record

__all__ = ["READER", "data_record_onsets_s", "read_edf_record"]

_EDF_MAGIC = b"0       "
_BDF_MAGIC = b"\xffBIOSEMI"
_VOLTAGE = {"uv": "uV", "µv": "uV", "μv": "uV", "mv": "mV", "v": "V"}
_ECG_PREFIX = re.compile(r"^(ECG|EKG)[\s_:-]*", re.IGNORECASE)
_ONSET = re.compile(rb"^([+-]\d+(?:\.\d*)?)\x14")
_ANNOTATION_LABELS = (b"EDF Annotations", b"BDF Annotations")
#: Longest span an EDF+D file may cover once its records are placed, seconds (7 days).
_MAX_SPAN_S = 7 * 24 * 3600.0
_STANDARD_UPPER = {name.upper() for name in STANDARD_12}


def _sniff(head: bytes, path: Path) -> bool:
    del path
    return len(head) >= 256 and (head.startswith(_EDF_MAGIC) or head.startswith(_BDF_MAGIC))


def data_record_onsets_s(path: Path) -> NDArray[np.float64]:
    """Onset of every data record from the EDF+/BDF+ time-keeping annotations.

    Parameters
    ----------
    path : Path
        An EDF+ or BDF+ file with an annotation signal.

    Returns
    -------
    ndarray, shape (n_records,)
        Onset of each data record in seconds after the file start time.

    Raises
    ------
    CorruptRecordError
        No annotation signal, a data record without time-keeping annotation, or a
        file shorter than its header says.
    """
    raw = path.read_bytes()
    bytes_per_sample = 3 if raw.startswith(_BDF_MAGIC) else 2
    try:
        header_bytes = int(raw[184:192])
        n_records = int(raw[236:244])
        n_signals = int(raw[252:256])
    except ValueError as exc:
        raise CorruptRecordError(f"{path}: malformed EDF header fields ({exc})") from exc
    block = raw[256 : 256 + 256 * n_signals]
    labels = [block[i * 16 : (i + 1) * 16].strip() for i in range(n_signals)]
    spr_at = 216 * n_signals
    samples_per_record = [
        int(block[spr_at + i * 8 : spr_at + (i + 1) * 8]) for i in range(n_signals)
    ]
    ann = next((i for i, label in enumerate(labels) if label in _ANNOTATION_LABELS), None)
    if ann is None:
        raise CorruptRecordError(f"{path}: EDF+ file without an annotation signal")
    record_bytes = sum(samples_per_record) * bytes_per_sample
    if n_records < 0:
        n_records = (len(raw) - header_bytes) // record_bytes
    if len(raw) < header_bytes + n_records * record_bytes:
        raise CorruptRecordError(
            f"{path}: file is truncated: {len(raw)} bytes, header promises "
            f"{header_bytes + n_records * record_bytes} ({n_records} data records)"
        )
    start = sum(samples_per_record[:ann]) * bytes_per_sample
    length = samples_per_record[ann] * bytes_per_sample
    onsets = np.empty(n_records, dtype=np.float64)
    for k in range(n_records):  # one regex per data record, not per sample
        offset = header_bytes + k * record_bytes + start
        match = _ONSET.match(raw[offset : offset + length])
        if match is None:
            raise CorruptRecordError(
                f"{path}: data record {k} has no time-keeping annotation (EDF+ spec)"
            )
        onsets[k] = float(match.group(1))
    return onsets


def _lead_name(label: str) -> str:
    stripped = _ECG_PREFIX.sub("", label.strip())
    return stripped or label.strip()


def _is_ecg_label(label: str) -> bool:
    return bool(_ECG_PREFIX.match(label.strip())) or _lead_name(label).upper() in _STANDARD_UPPER


def _patient(edf: Edf | Bdf, start: datetime | None) -> tuple[float | None, Sex | None]:
    try:
        patient = edf.patient
        sex_code = patient.sex
    except Exception:  # plain EDF: free-text patient field, edfio raises on parse
        return None, None
    sex: Sex | None = "M" if sex_code == "M" else "F" if sex_code == "F" else None
    age: float | None = None
    try:
        birth: date = patient.birthdate
    except Exception:  # anonymised 'X' birthdate
        birth = None  # type: ignore[assignment]
    if birth is not None and start is not None:
        ref = start.date()
        years = ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))
        age = float(years) if 0 <= years <= 125 else None
    return age, sex


def _start_time(edf: Edf | Bdf) -> datetime | None:
    try:
        return edf.startdatetime
    except Exception:  # anonymised or malformed start date
        return None


def _place_records(
    data: NDArray[np.float64],
    onsets_s: NDArray[np.float64],
    *,
    fs_hz: float,
    samples_per_record: int,
    path: Path,
) -> NDArray[np.float64]:
    """Put each data record at its onset; NaN in between. ``data``: (n_leads, n_total)."""
    rel = onsets_s - onsets_s[0]
    if np.any(np.diff(rel) < 0):
        raise CorruptRecordError(f"{path}: EDF+D data-record onsets are not in time order")
    start_idx = np.round(rel * fs_hz).astype(np.int64)
    if np.any(np.diff(start_idx) < samples_per_record):
        raise CorruptRecordError(f"{path}: EDF+D data records overlap in time")
    n_total = int(start_idx[-1]) + samples_per_record
    if n_total / fs_hz > _MAX_SPAN_S:
        raise CorruptRecordError(
            f"{path}: EDF+D records span {n_total / fs_hz:.0f} s, more than {_MAX_SPAN_S:.0f} s"
        )
    out = np.full((data.shape[0], n_total), np.nan)
    idx = (start_idx[:, np.newaxis] + np.arange(samples_per_record)).ravel()
    out[:, idx] = data[:, : idx.size]
    return out


def read_edf_record(path: Path, options: ReadOptions) -> EcgRecord:
    """Read an EDF/EDF+/BDF file; EDF+D records are placed at their onsets with NaN gaps.

    Parameters
    ----------
    path : Path
        The ``.edf`` / ``.bdf`` file.
    options : ReadOptions
        ``units`` is used for channels whose physical dimension is blank.

    Returns
    -------
    EcgRecord
        ECG channels in mV, start time and patient age/sex from the EDF+ header fields.

    Raises
    ------
    CorruptRecordError
        The library cannot parse the file, or EDF+D time keeping is broken.
    InvalidSignalError
        No voltage (ECG) channel.
    """
    is_bdf = _sniff_bdf(path)
    try:
        edf: Edf | Bdf = read_bdf(path) if is_bdf else read_edf(path, lazy_load_data=False)
        signals = edf.signals
    except Exception as exc:  # edfio raises ValueError/IndexError on malformed files
        raise CorruptRecordError(
            f"{path}: unreadable {'BDF' if is_bdf else 'EDF'} ({exc})"
        ) from exc
    candidates = []
    for sig in signals:
        unit = _VOLTAGE.get(sig.physical_dimension.strip().lower())
        if unit is None and not sig.physical_dimension.strip() and options.units:
            unit = options.units
        if unit is not None:
            candidates.append((sig, unit))
    if any(_is_ecg_label(sig.label) for sig, _ in candidates):
        candidates = [(sig, unit) for sig, unit in candidates if _is_ecg_label(sig.label)]
    if not candidates:
        found = ", ".join(f"{s.label} [{s.physical_dimension}]" for s in signals) or "none"
        raise InvalidSignalError(f"{path}: no ECG (voltage) channel; channels: {found}")
    fs_hz = Counter(sig.sampling_frequency for sig, _ in candidates).most_common(1)[0][0]
    kept = [(sig, unit) for sig, unit in candidates if sig.sampling_frequency == fs_hz]
    try:
        data = np.vstack([np.asarray(sig.data, dtype=np.float64) for sig, _ in kept])
    except Exception as exc:  # truncated data section
        raise CorruptRecordError(f"{path}: cannot read the signal data ({exc})") from exc
    if edf.reserved.strip().upper().endswith("+D"):
        data = _place_records(
            data,
            data_record_onsets_s(path),
            fs_hz=float(fs_hz),
            samples_per_record=kept[0][0].samples_per_data_record,
            path=path,
        )
    start = _start_time(edf)
    age, sex = _patient(edf, start)
    return make_record(
        data,
        fs_hz=float(fs_hz),
        leads=[_lead_name(sig.label) for sig, _ in kept],
        units=[unit for _, unit in kept],
        record_id=record_id_for(path),
        source_format="bdf" if is_bdf else "edf",
        start_time=start,
        patient_age_years=age,
        patient_sex=sex,
        source=str(path),
    )


def _sniff_bdf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(8) == _BDF_MAGIC


READER = Reader(
    name="edf",
    description="EDF / EDF+ (C and D) / BDF / BDF+ (European Data Format, BioSemi)",
    sniff=_sniff,
    read=read_edf_record,
)
