"""Challenge ``.mat`` files that come without a WFDB header (CPSC 2018, CPSC 2019).

- CPSC 2018: MATLAB 5 struct ``ECG`` with fields ``sex`` (``'Male'``/``'Female'``),
  ``age`` and ``data`` (12 x n float, mV), 500 Hz, leads I II III aVR aVL aVF V1-V6
  (China Physiological Signal Challenge 2018 data description).
- CPSC 2019: MATLAB 5 variable ``ecg`` (n x 1 float, mV), 500 Hz, one lead
  (CPSC 2019 QRS-detection challenge data description). Its reference files
  ``ref/R_*.mat`` (variable ``R_peak``) are annotations, not signals.

CinC ``.mat`` files (MAT v4, variable ``val``) belong to the WFDB reader together with
their ``.hea``; without it their gain and sampling rate are unknown, which is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from ingest.readers.base import Reader, ReadOptions, record_id_for
from models.errors import CorruptRecordError, UnsupportedFormatError
from models.leads import STANDARD_12
from models.record import EcgRecord, Sex, make_record

__all__ = ["ANNOTATION_VARIABLES", "READER", "is_annotation_mat", "read_challenge_mat"]

#: Sampling rate of the CPSC 2018 and CPSC 2019 recordings, Hz (challenge data descriptions).
CPSC_FS_HZ = 500.0
#: Variables that mark a MAT file as reference annotations rather than a signal.
ANNOTATION_VARIABLES = frozenset({"R_peak", "R_peaks", "ref", "label", "labels"})
_MAT5_MAGIC = b"MATLAB 5.0 MAT-file"
_MAT73_HINT = b"MATLAB 7.3 MAT-file"


def _sniff(head: bytes, path: Path) -> bool:
    return head.startswith(_MAT5_MAGIC) or head.startswith(_MAT73_HINT) or path.suffix == ".mat"


def _variables(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    try:
        return [(str(n), tuple(s), str(c)) for n, s, c in scipy.io.whosmat(str(path))]
    except NotImplementedError as exc:  # MAT v7.3 (HDF5)
        raise UnsupportedFormatError(
            f"{path}: MATLAB v7.3 (HDF5) files are not supported; save with -v7"
        ) from exc
    except Exception as exc:  # scipy raises ValueError/TypeError on garbage
        raise CorruptRecordError(f"{path}: not a readable MATLAB file ({exc})") from exc


def is_annotation_mat(path: Path) -> bool:
    """True when a MAT file holds only reference annotations (e.g. CPSC 2019 ``R_peak``).

    Parameters
    ----------
    path : Path
        A ``.mat`` file.

    Returns
    -------
    bool
        Whether every variable in it is an annotation variable. Unreadable files: False.
    """
    try:
        names = {name for name, _, _ in scipy.io.whosmat(str(path))}
    except Exception:  # unreadable: let the reader report it
        return False
    return bool(names) and names <= ANNOTATION_VARIABLES


def _scalar(value: Any) -> Any:
    arr = np.asarray(value).ravel()
    return arr[0] if arr.size else None


def _cpsc2018(path: Path, mat: dict[str, Any]) -> EcgRecord:
    ecg = mat["ECG"]
    fields = ecg.dtype.names or ()
    if "data" not in fields:
        raise CorruptRecordError(f"{path}: struct ECG has no field 'data' (fields: {fields})")
    item = ecg.ravel()[0]
    data = np.asarray(item["data"], dtype=np.float64)
    sex_raw = str(_scalar(item["sex"])) if "sex" in fields else ""
    sex_map: dict[str, Sex] = {"male": "M", "female": "F"}
    sex = sex_map.get(sex_raw.strip().lower())
    age_raw = _scalar(item["age"]) if "age" in fields else None
    age = float(age_raw) if age_raw is not None and 0 <= float(age_raw) <= 125 else None
    if data.ndim != 2 or data.shape[0] != len(STANDARD_12):
        raise CorruptRecordError(
            f"{path}: CPSC 2018 layout expects ECG.data of 12 leads x samples, "
            f"got shape {data.shape}"
        )
    return make_record(
        data,
        fs_hz=CPSC_FS_HZ,
        leads=list(STANDARD_12),
        units="mV",
        record_id=record_id_for(path),
        source_format="cpsc2018-mat",
        patient_age_years=age,
        patient_sex=sex,
        source=str(path),
    )


def _cpsc2019(path: Path, mat: dict[str, Any]) -> EcgRecord:
    data = np.asarray(mat["ecg"], dtype=np.float64)
    if data.ndim != 2 or 1 not in data.shape:
        raise CorruptRecordError(
            f"{path}: CPSC 2019 layout expects 'ecg' of n x 1 samples, got shape {data.shape}"
        )
    return make_record(
        data.reshape(1, -1),
        fs_hz=CPSC_FS_HZ,
        leads=["ECG"],
        units="mV",
        record_id=record_id_for(path),
        source_format="cpsc2019-mat",
        source=str(path),
    )


def read_challenge_mat(path: Path, options: ReadOptions) -> EcgRecord:
    """Read a CPSC 2018 (``ECG`` struct) or CPSC 2019 (``ecg`` vector) MAT file.

    Parameters
    ----------
    path : Path
        The ``.mat`` file.
    options : ReadOptions
        Unused; the layouts fix sampling rate (500 Hz) and unit (mV).

    Returns
    -------
    EcgRecord
        12 leads (CPSC 2018, with age and sex) or one lead ``ECG`` (CPSC 2019).

    Raises
    ------
    UnsupportedFormatError
        An annotation file, MAT v7.3, or an unknown variable layout.
    CorruptRecordError
        Unreadable MAT content, wrong array shape, or a CinC ``val`` file without header.
    """
    del options
    variables = {name: (shape, cls) for name, shape, cls in _variables(path)}
    if variables and set(variables) <= ANNOTATION_VARIABLES:
        raise UnsupportedFormatError(
            f"{path}: reference annotation file (variables {sorted(variables)}), not an ECG signal"
        )
    if "val" in variables and not {"ECG", "ecg"} & set(variables):
        raise CorruptRecordError(
            f"{path}: WFDB/CinC .mat signal without its .hea header; sampling rate and gain "
            f"are unknown (put {path.stem}.hea beside it)"
        )
    if "ECG" not in variables and "ecg" not in variables:
        raise UnsupportedFormatError(
            f"{path}: MAT file of unknown layout (variables {sorted(variables) or 'none'}); "
            "expected struct 'ECG' (CPSC 2018) or 'ecg' (CPSC 2019)"
        )
    try:
        mat = scipy.io.loadmat(str(path))
    except Exception as exc:  # scipy raises ValueError/TypeError on broken content
        raise CorruptRecordError(f"{path}: MAT content cannot be decoded ({exc})") from exc
    return _cpsc2018(path, mat) if "ECG" in mat else _cpsc2019(path, mat)


READER = Reader(
    name="challenge-mat",
    description="CPSC 2018 / CPSC 2019 MATLAB files without header (500 Hz, mV)",
    sniff=_sniff,
    read=read_challenge_mat,
)
