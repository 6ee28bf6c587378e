"""HL7 annotated ECG (aECG, HL7 v3 ``AnnotatedECG``), parsed safely with ``defusedxml``.

Reads the rhythm waveforms: the first ``series`` (``RHYTHM`` preferred; derived
representative-beat series are ignored), its first ``sequenceSet`` holding leads. The
time sequence (``TIME_ABSOLUTE`` / ``TIME_RELATIVE``) gives the sampling increment and
start; each lead sequence (``MDC_ECG_LEAD_*``, ``SLIST_PQ``) gives
``value = origin + scale * digits`` in the unit of ``scale`` (HL7 aECG implementation
guide, FDA 2005). Patient sex, birth date or reported age come from the demographics.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import numpy as np

from ingest.readers.base import Reader, ReadOptions, record_id_for
from ingest.readers.xml_common import local_name, looks_like_xml, parse_xml
from models.errors import CorruptRecordError, SamplingRateError, UnsupportedFormatError
from models.record import EcgRecord, Sex, make_record

__all__ = ["READER", "read_aecg"]

_NS = "{urn:hl7-org:v3}"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_LEAD_PREFIX = "MDC_ECG_LEAD_"
_TIME_CODES = frozenset({"TIME_ABSOLUTE", "TIME_RELATIVE"})
_TIME_UNIT_TO_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_REPORTED_AGE_LOINC = "21612-7"


def _sniff(head: bytes, path: Path) -> bool:
    del path
    return looks_like_xml(head) and b"AnnotatedECG" in head


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in elem if local_name(c.tag) == name]


def _child(elem: ET.Element, name: str) -> ET.Element | None:
    found = _children(elem, name)
    return found[0] if found else None


def _code(elem: ET.Element) -> str:
    code = _child(elem, "code")
    return code.get("code", "") if code is not None else ""


def _parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    digits = value.split(".")[0].split("+")[0].split("-")[0]
    for fmt in ("%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d"):
        try:
            return datetime.strptime(digits, fmt)
        except ValueError:
            continue
    return None


def _pick_series(root: ET.Element, path: Path) -> ET.Element:
    series = [s for comp in _children(root, "component") for s in _children(comp, "series")]
    if not series:
        raise CorruptRecordError(f"{path}: aECG without a <series> of waveforms")
    rhythm = [s for s in series if _code(s) == "RHYTHM"]
    return (rhythm or series)[0]


def _sequences(series: ET.Element, path: Path) -> list[ET.Element]:
    for comp in _children(series, "component"):
        for seq_set in _children(comp, "sequenceSet"):
            seqs = [s for c in _children(seq_set, "component") for s in _children(c, "sequence")]
            if any(_code(s).startswith(_LEAD_PREFIX) for s in seqs):
                return seqs
    raise CorruptRecordError(f"{path}: aECG series has no lead sequence (MDC_ECG_LEAD_*)")


def _increment_s(seq: ET.Element, path: Path) -> tuple[float, datetime | None]:
    value = _child(seq, "value")
    inc = _child(value, "increment") if value is not None else None
    if inc is None:
        raise SamplingRateError(f"{path}: aECG time sequence without <increment>")
    unit = inc.get("unit", "s")
    if unit not in _TIME_UNIT_TO_S:
        raise SamplingRateError(f"{path}: aECG time increment unit {unit!r} not understood")
    try:
        step_s = float(inc.get("value", "nan")) * _TIME_UNIT_TO_S[unit]
    except ValueError as exc:
        raise SamplingRateError(f"{path}: aECG time increment {inc.get('value')!r}") from exc
    head = _child(value, "head") if value is not None else None
    start = (
        _parse_ts(head.get("value")) if head is not None and _code(seq) == "TIME_ABSOLUTE" else None
    )
    return step_s, start


def _lead(seq: ET.Element, path: Path) -> tuple[str, np.ndarray, str]:
    name = _code(seq)[len(_LEAD_PREFIX) :]
    value = _child(seq, "value")
    digits = _child(value, "digits") if value is not None else None
    if value is None or digits is None or not (digits.text or "").strip():
        raise CorruptRecordError(f"{path}: aECG lead {name} has no <digits>")
    origin = _child(value, "origin")
    scale = _child(value, "scale")
    try:
        samples = np.array(digits.text.split(), dtype=np.float64)  # type: ignore[union-attr]
        scale_v = float(scale.get("value", "1")) if scale is not None else 1.0
        origin_v = float(origin.get("value", "0")) if origin is not None else 0.0
    except ValueError as exc:
        raise CorruptRecordError(f"{path}: aECG lead {name}: non-numeric digits ({exc})") from exc
    unit = scale.get("unit", "uV") if scale is not None else "uV"
    if origin is not None and origin.get("unit", unit) != unit:
        raise CorruptRecordError(
            f"{path}: aECG lead {name}: origin unit {origin.get('unit')!r} != scale unit {unit!r}"
        )
    return name, origin_v + scale_v * samples, unit


def _demographics(root: ET.Element, start: datetime | None) -> tuple[float | None, Sex | None]:
    sex: Sex | None = None
    age: float | None = None
    for person in root.iter(f"{_NS}subjectDemographicPerson"):
        gender = _child(person, "administrativeGenderCode")
        if gender is not None and gender.get("code") in ("M", "F"):
            sex = "M" if gender.get("code") == "M" else "F"
        birth_el = _child(person, "birthTime")
        birth = _parse_ts(birth_el.get("value")) if birth_el is not None else None
        if birth is not None and start is not None:
            years = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
            age = float(years) if 0 <= years <= 125 else None
    if age is None:
        for obs in root.iter(f"{_NS}relatedObservation"):
            value = _child(obs, "value")
            if _code(obs) == _REPORTED_AGE_LOINC and value is not None:
                try:
                    years_f = float(value.get("value", "nan"))
                except ValueError:
                    continue
                if value.get("unit", "a") == "a" and 0 <= years_f <= 125:
                    age = years_f
    return age, sex


def read_aecg(path: Path, options: ReadOptions) -> EcgRecord:
    """Read the rhythm waveforms of an HL7 aECG XML file.

    Parameters
    ----------
    path : Path
        The ``.xml`` file.
    options : ReadOptions
        Unused (the file states increment and units).

    Returns
    -------
    EcgRecord
        Leads in mV, start time from the absolute time sequence, age and sex from the
        subject demographics or the reported-age observation.

    Raises
    ------
    CorruptRecordError
        Unsafe XML (entity declarations: XML bomb), malformed XML, missing series, leads
        of unequal length.
    SamplingRateError
        Missing or unusable time increment.
    UnsupportedFormatError
        XML whose root is not ``AnnotatedECG``.
    """
    del options
    root = parse_xml(path)
    if local_name(root.tag) != "AnnotatedECG":
        raise UnsupportedFormatError(
            f"{path}: XML root <{local_name(root.tag)}> is not an HL7 aECG <AnnotatedECG>"
        )
    seqs = _sequences(_pick_series(root, path), path)
    time_seq = next((s for s in seqs if _code(s) in _TIME_CODES), None)
    if time_seq is None:
        raise SamplingRateError(f"{path}: aECG sequence set without a time sequence")
    step_s, start = _increment_s(time_seq, path)
    leads = [_lead(s, path) for s in seqs if _code(s).startswith(_LEAD_PREFIX)]
    lengths = {len(samples) for _, samples, _ in leads}
    if len(lengths) != 1:
        raise CorruptRecordError(f"{path}: aECG leads differ in length {sorted(lengths)}")
    if start is None:
        start = _parse_ts(next((e.get("value") for e in root.iter(f"{_NS}center")), None))
    age, sex = _demographics(root, start)
    return make_record(
        np.vstack([samples for _, samples, _ in leads]),
        fs_hz=1.0 / step_s if step_s > 0 else float("nan"),
        leads=[name for name, _, _ in leads],
        units=[unit for _, _, unit in leads],
        record_id=record_id_for(path),
        source_format="hl7-aecg",
        start_time=start,
        patient_age_years=age,
        patient_sex=sex,
        source=str(path),
    )


READER = Reader(
    name="hl7-aecg",
    description="HL7 annotated ECG XML (AnnotatedECG), parsed with defusedxml",
    sniff=_sniff,
    read=read_aecg,
)
