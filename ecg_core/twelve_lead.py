"""12-lead stage: lead derivation, noisy-lead exclusion, delineation and measurements.

Entry point of the pipeline's "12-lead delineation and measurements" slot. The rules
read :class:`TwelveLeadFeatures` from ``ctx.features["twelve_lead"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecg_core.delineation import Delineation, PWaves, delineate_record, p_waves_from_delineation
from ecg_core.delineation.delineate import median_qt_bounds
from ecg_core.intervals import LeadMeasures, measure_leads
from ecg_core.lead_derivation import derive_limb_leads, detect_limb_reversal
from models.errors import AnalysisError
from models.leads import STANDARD_12

__all__ = [
    "NOISY_LEAD_MV",
    "TwelveLeadFeatures",
    "analyze_twelve_lead",
    "lead_noise_mv",
    "measurement_update",
]

#: Leads the 12-lead stage measures (others, such as Frank X/Y/Z, are left out).
_CLINICAL_LEADS = frozenset((*STANDARD_12, "V7", "V8", "V9", "V3R", "V4R", "V5R", "V6R"))
#: A lead whose beats differ from its median beat by more than this RMS is too noisy to
#: measure (technical constant: twice the 0.05 mV ST-depression criterion would be
#: swamped), mV.
NOISY_LEAD_MV = 0.10
#: ... or more than half of that and more than this share of its QRS amplitude.
NOISY_LEAD_REL = 0.5
#: QT is withheld (null) when the median beats of the even and the odd beats give QT
#: intervals further apart than this: the T end is then not reproducible (flat T,
#: noise). Manual QT readings of one ECG differ by ~10-20 ms (Kligfield et al.,
#: AHA/ACCF/HRS 2009 part I); 40 ms is twice that. Technical constant, set on the
#: CinC 2017 normals (withholds 31 of 36 spurious QTc >= 550 ms, 6 % of the others), ms.
QT_SPLIT_HALF_MAX_MS = 40.0


@dataclass(frozen=True)
class TwelveLeadFeatures:
    """What the 12-lead rules read.

    Attributes
    ----------
    leads : tuple of str
        Leads measured (recorded and derived, noisy leads removed); per-lead arrays of
        ``measures`` follow this order.
    derived_leads : tuple of str
        Leads computed from I and II rather than recorded.
    excluded_leads : tuple of (str, str)
        ``(lead, reason)`` for leads left out of measurement.
    reversal : str or None
        Likely limb-electrode reversal (``"LA/RA"``); limb-lead diagnoses are withheld.
    measures : LeadMeasures
        Intervals, axis, amplitudes and ST levels.
    p_waves : PWaves
        Per-beat P waves.
    n_beats : int
        Beats in the median beat.
    qt_withheld : str or None
        Why QT / QTc were withheld (not reproducible), None when measured.
    delineation : Delineation or None
        The delineation of ``leads`` the measures come from (median beat, fiducials), so
        that later measures (e.g. the U waves of :mod:`ecg_core.hypokalemia`) need not
        delineate the record again.
    """

    leads: tuple[str, ...]
    derived_leads: tuple[str, ...]
    excluded_leads: tuple[tuple[str, str], ...]
    reversal: str | None
    measures: LeadMeasures
    p_waves: PWaves
    n_beats: int
    qt_withheld: str | None = None
    delineation: Delineation | None = field(default=None, repr=False, compare=False)

    def per_lead(self, name: str) -> dict[str, float]:
        """One per-lead measure (e.g. ``"st_j_mv"``) as ``{lead: value}``."""
        values: NDArray[np.float64] = getattr(self.measures, name)
        return {lead: float(v) for lead, v in zip(self.leads, values, strict=True)}


def lead_noise_mv(d: Delineation, measures: LeadMeasures) -> NDArray[np.float64]:
    """Per-lead noise the noisy-lead check reads: beat-to-median RMS over each beat's QRS-T.

    ``d.lead_noise_mv`` (each dominant beat's own QRS-T span, clipped at its neighbours,
    median over beats); the whole-window residual ``measures.noise_mv`` when absent.
    """
    return measures.noise_mv if d.lead_noise_mv is None else d.lead_noise_mv


def _noisy(noise: NDArray[np.float64], measures: LeadMeasures) -> NDArray[np.bool_]:
    qrs_amp = measures.r_mv + measures.s_mv
    out: NDArray[np.bool_] = (noise > NOISY_LEAD_MV) | (
        (noise > 0.5 * NOISY_LEAD_MV) & (noise > NOISY_LEAD_REL * qrs_amp)
    )
    return out


def _run(
    signal_mv: NDArray[np.float64],
    leads: tuple[str, ...],
    fs_hz: float,
    r_idx: NDArray[np.intp] | None,
    labels: NDArray[np.str_] | None,
    filtered_mv: NDArray[np.float64] | None = None,
) -> tuple[Delineation, PWaves, LeadMeasures]:
    d = delineate_record(
        signal_mv, fs_hz=fs_hz, r_idx=r_idx, labels=labels, filtered_mv=filtered_mv
    )
    pw = p_waves_from_delineation(d)
    return d, pw, measure_leads(d, pw, leads)


def analyze_twelve_lead(
    signal_mv: NDArray[np.float64],
    leads: tuple[str, ...],
    *,
    fs_hz: float,
    r_idx: NDArray[np.intp] | None = None,
    labels: NDArray[np.str_] | None = None,
) -> TwelveLeadFeatures:
    """Delineate and measure a resting multi-lead ECG.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        Usable leads, mV. Only standard 12-lead, posterior and right-sided leads are
        measured when at least two of them are present.
    leads : tuple of str
        Normalised names of the rows.
    fs_hz : float
        Sampling rate, Hz.
    r_idx : ndarray of intp, shape (n_beats,), optional
        Beats from the QRS detector (located on the signal when omitted).
    labels : ndarray of str, shape (n_beats,), optional
        AAMI labels of those beats.

    Returns
    -------
    TwelveLeadFeatures
        Measurements, per-beat P waves, derived / excluded leads and reversal.

    Raises
    ------
    AnalysisError
        No beat to delineate.

    Examples
    --------
    >>> fs = 500.0
    >>> t = np.arange(int(10 * fs)) / fs
    >>> beat = np.exp(-(((t % 1.0) - 0.5) ** 2) / (2 * 0.01**2))  # 60 bpm spikes
    >>> f = analyze_twelve_lead(np.stack([beat, 1.5 * beat]), ("I", "II"), fs_hz=fs)
    >>> f.derived_leads, round(f.measures.hr_bpm)
    (('III', 'aVR', 'aVL', 'aVF'), 60)
    """
    if r_idx is not None and r_idx.size == 0:
        raise AnalysisError("12-lead stage: no beat to delineate")
    standard = [i for i, name in enumerate(leads) if name in _CLINICAL_LEADS]
    if 2 <= len(standard) < len(leads):  # e.g. PTB's Frank X, Y, Z: not 12-lead leads
        signal_mv, leads = signal_mv[standard], tuple(leads[i] for i in standard)
    der = derive_limb_leads(signal_mv, leads)
    x, names = der.signal_mv, der.leads
    d, pw, meas = _run(x, names, fs_hz, r_idx, labels)
    noise = lead_noise_mv(d, meas)
    noisy = _noisy(noise, meas)
    excluded: tuple[tuple[str, str], ...] = ()
    if noisy.any() and not noisy.all():
        excluded = tuple(
            (name, f"noise {n:.2f} mV RMS around the median beat")
            for name, n, bad in zip(names, noise, noisy, strict=True)
            if bad
        )
        keep = ~noisy
        names = tuple(n for n, k in zip(names, keep, strict=True) if k)
        # the band-pass filters each lead alone: its kept rows are the kept leads' filtering
        d, pw, meas = _run(x[keep], names, fs_hz, r_idx, labels, d.filtered_mv[keep])
    reversal = detect_limb_reversal(names, meas.qrs_area_mv_ms, meas.p_mv, meas.t_mv)
    withheld = _qt_not_reproducible(fs_hz, d, labels, meas)
    if withheld is not None:
        meas = replace(meas, qt_ms=None, qtc_ms={})
    return TwelveLeadFeatures(
        leads=names,
        derived_leads=tuple(n for n in der.derived if n in names),
        excluded_leads=excluded,
        reversal=reversal,
        measures=meas,
        p_waves=pw,
        n_beats=d.median.n_beats,
        qt_withheld=withheld,
        delineation=d,
    )


def _qt_not_reproducible(
    fs_hz: float,
    d: Delineation,
    labels: NDArray[np.str_] | None,
    meas: LeadMeasures,
) -> str | None:
    """Reason to withhold QT when the even and odd beats disagree, else None.

    The median beat of the even and of the odd dominant beats are delineated apart
    (split-half reproducibility); a T end that moves by more than
    :data:`QT_SPLIT_HALF_MAX_MS` between them is noise, not a measurement.
    """
    dom = np.flatnonzero(d.dominant)
    if meas.qt_ms is None or dom.size < 4:
        return None
    base = np.asarray(labels) if labels is not None else np.full(d.r_idx.size, "N")
    qts: list[float] = []
    for half in (dom[0::2], dom[1::2]):
        lab = np.full(d.r_idx.size, "Q")
        lab[half] = base[half]
        qrs_on, t_off = median_qt_bounds(d, lab)  # as a median_only delineate_record
        if t_off is None:
            return "QT: no T end in one half of the beats"
        qts.append((t_off - qrs_on) * 1000.0 / fs_hz)
    spread = abs(qts[0] - qts[1])
    if spread > QT_SPLIT_HALF_MAX_MS:
        return f"QT not reproducible: even/odd beats {qts[0]:.0f} vs {qts[1]:.0f} ms"
    return None


def _round(v: float | None, nd: int = 1) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def measurement_update(f: TwelveLeadFeatures, *, qtc_formula: str) -> dict[str, Any]:
    """Fields for ``Measurements.model_copy(update=...)`` (hr_bpm left to the QRS stage).

    Parameters
    ----------
    f : TwelveLeadFeatures
        Stage output.
    qtc_formula : str
        Profile setting naming the QTc that fills ``qtc_ms``.

    Returns
    -------
    dict
        ``pr_ms, qrs_ms, qt_ms, qtc_ms, st_mv`` (J+60 ms) and ``extra``.
    """
    m = f.measures

    def lead_map(name: str, nd: int = 3) -> dict[str, float | None]:
        return {k: _round(v, nd) for k, v in f.per_lead(name).items()}

    extra: dict[str, Any] = {
        "axis_deg": _round(m.axis_deg, 0),
        "qtc_ms_by_formula": {k: _round(v) for k, v in m.qtc_ms.items()},
        "qtc_formula": qtc_formula,
        "rr_ms": _round(m.rr_ms),
        "st_j_mv": lead_map("st_j_mv"),
        "st_j80_mv": lead_map("st_j80_mv"),
        "r_mv": lead_map("r_mv"),
        "s_mv": lead_map("s_mv"),
        "t_mv": lead_map("t_mv"),
        "q_ms": lead_map("q_ms", 1),
        "q_mv": lead_map("q_mv"),
        "p_present_fraction": _round(m.p_present_fraction, 2),
        "derived_leads": list(f.derived_leads),
        "excluded_leads": [lead for lead, _ in f.excluded_leads],
        "lead_reversal": f.reversal,
        "median_beats": f.n_beats,
        "qt_withheld": f.qt_withheld,
    }
    return {
        "pr_ms": _round(m.pr_ms),
        "qrs_ms": _round(m.qrs_ms),
        "qt_ms": _round(m.qt_ms),
        "qtc_ms": _round(m.qtc_ms.get(qtc_formula)),
        "st_mv": lead_map("st_j60_mv"),
        "extra": extra,
    }
