"""The one normalised ECG record every reader produces.

Signals are float64 ``(n_leads, n_samples)`` in millivolts, time on the last axis.
:func:`make_record` is the single door into :class:`EcgRecord`: it converts physical
units, normalises lead names, checks the sampling rate and length, reports NaN runs
as gaps (never filling them) and marks flat or saturated leads as unusable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import InvalidSignalError, SamplingRateError, SignalTooShortError
from models.leads import normalise_lead_names

__all__ = [
    "FS_HZ_MAX",
    "FS_HZ_MIN",
    "MIN_DURATION_S",
    "EcgRecord",
    "Gap",
    "Sex",
    "Unit",
    "UnusableLead",
    "make_record",
]

Sex = Literal["M", "F"]
Unit = Literal["uV", "mV", "V"]

#: Plausible sampling-rate range for clinical ECG, Hz.
FS_HZ_MIN = 50.0
FS_HZ_MAX = 10_000.0
#: Shortest record accepted, seconds.
MIN_DURATION_S = 2.0
#: A lead whose robust peak-to-peak amplitude is below this is flat (mV).
FLAT_PTP_MV = 0.01
#: A lead is saturated when more than this share of samples sit on its extreme values.
SATURATED_FRACTION = 0.2

_UNIT_TO_MV: dict[str, float] = {
    "uv": 1e-3,
    "µv": 1e-3,
    "μv": 1e-3,
    "mv": 1.0,
    "v": 1e3,
}


@dataclass(frozen=True)
class Gap:
    """A run of missing (NaN) samples in one lead.

    Attributes
    ----------
    lead : str
        Lead name.
    start_s, end_s : float
        Start and end of the gap, seconds from the record start (end exclusive).
    """

    lead: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class UnusableLead:
    """A lead that must not be analysed, and why.

    Attributes
    ----------
    lead : str
        Lead name.
    reason : {"flat", "saturated", "missing"}
        ``flat``: robust peak-to-peak below 0.01 mV; ``saturated``: clipped on more
        than 20 % of samples; ``missing``: no finite sample at all.
    """

    lead: str
    reason: Literal["flat", "saturated", "missing"]


@dataclass(frozen=True)
class EcgRecord:
    """A validated ECG recording in the project's one array contract.

    Build it with :func:`make_record`, which validates; the constructor trusts its input.

    Attributes
    ----------
    record_id : str
        Identifier (for a file, its name without extension).
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG in millivolts, float64. NaN marks missing samples (see ``gaps``).
    fs_hz : float
        Sampling rate in Hz.
    leads : tuple of str
        Normalised lead names, one per row of ``signal_mv``.
    source_format : str
        Reader that produced it (``wfdb``, ``edf``, ``csv``, ``hl7-aecg``, ...).
    start_time : datetime or None
        Recording start, if the file states it.
    patient_age_years : float or None
        Patient age, if the file states it.
    patient_sex : {"M", "F"} or None
        Patient sex, if the file states it.
    gaps : tuple of Gap
        NaN runs per lead.
    unusable_leads : tuple of UnusableLead
        Leads excluded from analysis.
    """

    record_id: str
    signal_mv: NDArray[np.float64]
    fs_hz: float
    leads: tuple[str, ...]
    source_format: str
    start_time: datetime | None = None
    patient_age_years: float | None = None
    patient_sex: Sex | None = None
    gaps: tuple[Gap, ...] = ()
    unusable_leads: tuple[UnusableLead, ...] = field(default=())

    @property
    def n_samples(self) -> int:
        """Number of samples per lead."""
        return int(self.signal_mv.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.n_samples / self.fs_hz

    @property
    def usable_mask(self) -> NDArray[np.bool_]:
        """Boolean mask over leads, True where the lead may be analysed."""
        bad = {u.lead for u in self.unusable_leads}
        return np.array([name not in bad for name in self.leads], dtype=bool)


def _unit_factor(unit: str, *, source: str) -> float:
    factor = _UNIT_TO_MV.get(unit.strip().lower())
    if factor is None:
        raise InvalidSignalError(
            f"{source}: unknown physical unit {unit!r}; expected one of uV, mV, V"
        )
    return factor


def _find_gaps(
    finite: NDArray[np.bool_], leads: tuple[str, ...], fs_hz: float, complete: NDArray[np.bool_]
) -> tuple[Gap, ...]:
    gaps: list[Gap] = []
    for row, name, whole in zip(finite, leads, complete, strict=True):
        if whole:
            continue
        missing = (~row).astype(np.int8)
        edges = np.diff(np.concatenate(([0], missing, [0])))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1)
        gaps.extend(
            Gap(lead=name, start_s=float(s / fs_hz), end_s=float(e / fs_hz))
            for s, e in zip(starts, ends, strict=True)
        )
    return tuple(gaps)


def _lead_reason(
    values: NDArray[np.float64], lo: float, hi: float
) -> Literal["flat", "saturated"] | None:
    """Why a lead with finite ``values`` and 1st / 99th percentiles ``lo``, ``hi`` is unusable."""
    if hi - lo < FLAT_PTP_MV:
        return "flat"
    vmin, vmax = values.min(), values.max()
    at_rails = np.count_nonzero(values == vmin) + np.count_nonzero(values == vmax)
    if at_rails > SATURATED_FRACTION * values.size:
        return "saturated"
    return None


def _find_unusable(
    signal_mv: NDArray[np.float64],
    leads: tuple[str, ...],
    finite: NDArray[np.bool_],
    complete: NDArray[np.bool_],
) -> tuple[UnusableLead, ...]:
    """Missing, flat or saturated leads, in lead order.

    The percentiles of the leads without NaN come from one ``np.percentile(..., axis=1)``
    call (the same values as one call per lead, without 11 more calls on a 12-lead
    record); leads with gaps are measured on their finite samples.
    """
    reasons: list[Literal["flat", "saturated", "missing"] | None] = [None] * len(leads)
    whole = np.flatnonzero(complete)
    if whole.size:
        block = signal_mv if whole.size == len(leads) else signal_mv[whole]
        q = np.percentile(block, [1.0, 99.0], axis=1)  # (2, n_whole)
        for j, i in enumerate(whole.tolist()):
            reasons[i] = _lead_reason(block[j], float(q[0, j]), float(q[1, j]))
    for i in np.flatnonzero(~complete).tolist():
        values = signal_mv[i][finite[i]]
        if values.size == 0:
            reasons[i] = "missing"
            continue
        lo, hi = np.percentile(values, [1.0, 99.0])
        reasons[i] = _lead_reason(values, float(lo), float(hi))
    return tuple(
        UnusableLead(name, reason) for name, reason in zip(leads, reasons, strict=True) if reason
    )


def make_record(
    signal: ArrayLike,
    *,
    fs_hz: float,
    leads: list[str] | tuple[str, ...],
    record_id: str,
    source_format: str,
    units: str | list[str] | tuple[str, ...] = "mV",
    layout: Literal["leads_samples", "samples_leads"] = "leads_samples",
    start_time: datetime | None = None,
    patient_age_years: float | None = None,
    patient_sex: Sex | None = None,
    source: str | None = None,
) -> EcgRecord:
    """Validate and normalise a signal into an :class:`EcgRecord`.

    Parameters
    ----------
    signal : array_like, shape (n_leads, n_samples) or (n_samples, n_leads)
        Samples in physical units (see ``units``); ``layout`` says which axis is time.
    fs_hz : float
        Sampling rate in Hz; must lie in [50, 10000].
    leads : sequence of str
        Lead names in channel order.
    record_id : str
        Record identifier.
    source_format : str
        Name of the reader.
    units : str or sequence of str, default "mV"
        Physical unit of all leads or of each lead: ``uV``/``µV``, ``mV`` or ``V``.
    layout : {"leads_samples", "samples_leads"}
        Axis order of ``signal``. WFDB ``p_signal`` is ``samples_leads``.
    start_time, patient_age_years, patient_sex
        Metadata, when the file states it.
    source : str, optional
        File name used in error messages (defaults to ``record_id``).

    Returns
    -------
    EcgRecord
        Float64 millivolt signal, lead names normalised, gaps and unusable leads listed.

    Raises
    ------
    SamplingRateError
        ``fs_hz`` missing, not finite or outside [50, 10000] Hz.
    SignalTooShortError
        Fewer than 2 s of samples.
    InvalidSignalError
        Wrong shape, lead count mismatch, unknown unit, or no finite sample at all.

    Examples
    --------
    >>> rec = make_record(np.zeros((1, 1000)) + np.sin(np.arange(1000) / 10), fs_hz=250,
    ...                   leads=["lead ii"], record_id="toy", source_format="array", units="mV")
    >>> rec.leads, rec.duration_s
    (('II',), 4.0)
    """
    where = source or record_id
    try:
        fs = float(fs_hz)
    except (TypeError, ValueError) as exc:
        raise SamplingRateError(f"{where}: sampling rate {fs_hz!r} is not a number") from exc
    if not np.isfinite(fs) or not FS_HZ_MIN <= fs <= FS_HZ_MAX:
        raise SamplingRateError(
            f"{where}: sampling rate {fs_hz!r} Hz is outside the plausible range "
            f"{FS_HZ_MIN:g}-{FS_HZ_MAX:g} Hz"
        )
    try:
        # no copy here: the unit conversion below writes a new array (the caller's array,
        # often just built by a reader, is neither copied twice nor modified)
        arr = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidSignalError(f"{where}: signal is not numeric ({exc})") from exc
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise InvalidSignalError(
            f"{where}: expected a 2-D signal (leads, samples), got shape {arr.shape}"
        )
    if layout == "samples_leads":
        arr = arr.T
    n_leads, n_samples = arr.shape
    if len(leads) != n_leads:
        raise InvalidSignalError(
            f"{where}: {n_leads} signal channels but {len(leads)} lead names {list(leads)!r}"
        )
    if n_leads == 0 or n_samples == 0:
        raise InvalidSignalError(f"{where}: the signal is empty (shape {arr.shape})")
    duration_s = n_samples / fs
    if duration_s < MIN_DURATION_S:
        raise SignalTooShortError(
            f"{where}: need at least {MIN_DURATION_S:g} s of signal, got {duration_s:.2f} s "
            f"({n_samples} samples at {fs:g} Hz)"
        )
    unit_list = [units] * n_leads if isinstance(units, str) else list(units)
    if len(unit_list) != n_leads:
        raise InvalidSignalError(f"{where}: {len(unit_list)} units given for {n_leads} leads")
    factors = np.array([_unit_factor(u, source=where) for u in unit_list])
    # a new C-ordered (leads, samples) array: the record owns its signal
    arr = np.multiply(arr, factors[:, np.newaxis], order="C")
    finite = np.isfinite(arr)
    complete = finite.all(axis=1)
    if not complete.all():
        arr[np.isinf(arr)] = np.nan
        if not finite.any():
            raise InvalidSignalError(f"{where}: every sample is missing (NaN); nothing to analyse")
    names = normalise_lead_names(list(leads))
    return EcgRecord(
        record_id=record_id,
        signal_mv=arr,
        fs_hz=fs,
        leads=names,
        source_format=source_format,
        start_time=start_time,
        patient_age_years=patient_age_years,
        patient_sex=patient_sex,
        gaps=_find_gaps(finite, names, fs, complete),
        unusable_leads=_find_unusable(arr, names, finite, complete),
    )
