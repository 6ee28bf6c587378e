"""Limb-lead derivation (Einthoven / Goldberger) and limb-electrode reversal detection.

Many devices store 8 independent leads (I, II, V1-V6); III, aVR, aVL and aVF follow from
I and II: III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2.

The commonest limb-electrode error, left-arm/right-arm reversal, inverts lead I: P, QRS
and T are all negative in I and aVR looks like a normal aVL, while the precordial leads
are unaffected (V6 stays upright, unlike true dextrocardia). Batchvarov et al., Pacing
Clin Electrophysiol 2007;30:1133 (ECG lead misplacement review).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.errors import InvalidSignalError

__all__ = ["DerivedLeads", "derive_limb_leads", "detect_limb_reversal"]

_DERIVABLE = ("III", "aVR", "aVL", "aVF")


@dataclass(frozen=True)
class DerivedLeads:
    """Signal with derived limb leads appended.

    Attributes
    ----------
    signal_mv : ndarray, shape (n_leads + n_derived, n_samples)
        Input rows followed by the derived leads, mV.
    leads : tuple of str
        Lead names, same order.
    derived : tuple of str
        Names of the leads that were computed, not recorded.
    """

    signal_mv: NDArray[np.float64]
    leads: tuple[str, ...]
    derived: tuple[str, ...]


def derive_limb_leads(signal_mv: NDArray[np.float64], leads: tuple[str, ...]) -> DerivedLeads:
    """Append III, aVR, aVL, aVF when missing and I and II are present.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        ECG, mV.
    leads : tuple of str
        Normalised lead names of the rows.

    Returns
    -------
    DerivedLeads
        Input unchanged plus the derivable missing leads (none when I or II is absent).

    Raises
    ------
    InvalidSignalError
        Row count and lead names disagree.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [3.0, 1.0]])
    >>> d = derive_limb_leads(x, ("I", "II"))
    >>> d.leads, d.signal_mv[d.leads.index("III")].tolist()
    (('I', 'II', 'III', 'aVR', 'aVL', 'aVF'), [2.0, -1.0])
    """
    if signal_mv.ndim != 2 or signal_mv.shape[0] != len(leads):
        raise InvalidSignalError(
            f"signal_mv has shape {signal_mv.shape} but {len(leads)} lead names were given"
        )
    missing = tuple(name for name in _DERIVABLE if name not in leads)
    if not missing or "I" not in leads or "II" not in leads:
        return DerivedLeads(signal_mv, tuple(leads), ())
    lead_i = signal_mv[leads.index("I")]
    lead_ii = signal_mv[leads.index("II")]
    formulas = {
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) / 2.0,
        "aVL": lead_i - lead_ii / 2.0,
        "aVF": lead_ii - lead_i / 2.0,
    }
    extra = np.stack([formulas[name] for name in missing])
    return DerivedLeads(np.concatenate([signal_mv, extra], axis=0), (*leads, *missing), missing)


def detect_limb_reversal(
    leads: tuple[str, ...],
    qrs_area_mv_ms: NDArray[np.float64],
    p_mv: NDArray[np.float64],
    t_mv: NDArray[np.float64],
) -> str | None:
    """Name a likely limb-electrode reversal from per-lead polarities, or None.

    Parameters
    ----------
    leads : tuple of str
        Lead names of the per-lead arrays.
    qrs_area_mv_ms : ndarray, shape (n_leads,)
        Net QRS area per lead, mV*ms.
    p_mv, t_mv : ndarray, shape (n_leads,)
        Signed P (NaN when absent) and T amplitudes per lead, mV.

    Returns
    -------
    str or None
        ``"LA/RA"`` when lead I is globally inverted (negative P where a P wave exists,
        negative QRS and T) while aVR's QRS is positive and V6 (if recorded) upright;
        ``None`` otherwise or when the needed leads are missing.
    """
    if "I" not in leads or "aVR" not in leads:
        return None
    i, avr = leads.index("I"), leads.index("aVR")
    inverted_i = qrs_area_mv_ms[i] < 0 and t_mv[i] < 0 and not (p_mv[i] >= 0)
    upright_avr = qrs_area_mv_ms[avr] > 0
    v6_upright = "V6" not in leads or qrs_area_mv_ms[leads.index("V6")] > 0
    if inverted_i and upright_avr and v6_upright and np.isfinite(p_mv[i]):
        return "LA/RA"
    return None
