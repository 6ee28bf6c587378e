"""Ischaemia and conduction patterns on per-lead measurements (thresholds passed in).

Every threshold arrives from the rule profile; this module holds only the logic of the
Fourth Universal Definition of MI (Thygesen et al., JACC 2018;72:2231): contiguous-lead
pairs, territory names, reciprocal leads, bundle-branch-block morphology (AHA/ACCF/HRS
2009 part III, Surawicz et al. Circulation 2009;119:e235) and the Smith-modified
Sgarbossa criteria (Smith et al., Ann Emerg Med 2012;60:766).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from models.leads import CONTIGUOUS_GROUPS, PRECORDIAL_LEADS

__all__ = [
    "CONTIGUOUS_PAIRS",
    "RECIPROCAL",
    "BbbEvidence",
    "BbbType",
    "bbb_pattern",
    "contiguous_subset",
    "sgarbossa_leads",
    "territories",
]

BbbType = Literal["LBBB", "RBBB"]


def _pairs() -> frozenset[frozenset[str]]:
    out: set[frozenset[str]] = set()
    for group in CONTIGUOUS_GROUPS.values():
        out.update(frozenset((a, b)) for a in group for b in group if a != b)
    out.update(frozenset(p) for p in pairwise(PRECORDIAL_LEADS))  # adjacent precordial
    out.update(frozenset(p) for p in pairwise(("V7", "V8", "V9")))
    return frozenset(out)


#: Anatomically contiguous lead pairs: same CONTIGUOUS_GROUPS group, or adjacent precordial.
CONTIGUOUS_PAIRS: frozenset[frozenset[str]] = _pairs()

#: Territory -> leads where reciprocal ST depression supports the diagnosis.
RECIPROCAL: dict[str, tuple[str, ...]] = {
    "inferior": ("I", "aVL"),
    "lateral": ("II", "III", "aVF"),
    "anterior": ("II", "III", "aVF"),
    "septal": ("II", "III", "aVF"),
    "posterior": ("V1", "V2", "V3"),
    "right": ("I", "aVL"),
}


def contiguous_subset(leads: Collection[str]) -> frozenset[str]:
    """Leads of ``leads`` that have an anatomically contiguous partner also in ``leads``.

    Parameters
    ----------
    leads : set of str
        Leads meeting a criterion.

    Returns
    -------
    frozenset of str
        Those forming >= 2 contiguous leads.

    Examples
    --------
    >>> sorted(contiguous_subset({"V2", "V3", "III"}))
    ['V2', 'V3']
    """
    return frozenset(
        a for a in leads if any(frozenset((a, b)) in CONTIGUOUS_PAIRS for b in leads if b != a)
    )


def territories(leads: Collection[str]) -> list[str]:
    """Territory names (``CONTIGUOUS_GROUPS`` keys) covered by at least one of ``leads``."""
    return [name for name, group in CONTIGUOUS_GROUPS.items() if set(group) & set(leads)]


@dataclass(frozen=True)
class BbbEvidence:
    """Why a bundle-branch-block pattern was called."""

    pattern: BbbType
    qrs_ms: float
    detail: str


def bbb_pattern(
    qrs_ms: float,
    lead: Mapping[str, Mapping[str, float]],
    *,
    qrs_min_ms: float,
    lateral_s_ratio: float,
) -> BbbEvidence | None:
    """Complete bundle-branch-block pattern from QRS width and per-lead morphology.

    LBBB: QRS >= ``qrs_min_ms``; V1 predominantly negative (QS / rS); I and V6
    predominantly positive, lead I without an S wave of note (S after R <
    ``lateral_s_ratio`` x R; an RS pattern in V5-V6 is allowed, per AHA 2009).
    RBBB: QRS >= ``qrs_min_ms``; terminal R' in V1 (positive peak after the negative
    one and in the second half of the QRS, unlike the early tall R of posterior MI);
    late S in I and V6 (negative peak after R, second half of the QRS) with I or V6
    predominantly positive. AHA/ACCF/HRS 2009 part III (Surawicz et al.).

    Parameters
    ----------
    qrs_ms : float
        QRS duration, ms.
    lead : mapping lead -> mapping
        Per-lead ``r_mv, s_mv, qrs_net_mv, s_after_r_mv, r_time_ms, s_time_ms``.
    qrs_min_ms : float
        Complete BBB width (120 ms).
    lateral_s_ratio : float
        Largest S/R in I and V6 compatible with LBBB.

    Returns
    -------
    BbbEvidence or None
        The pattern, or None (also when V1 or both I and V6 are missing).
    """
    if qrs_ms < qrs_min_ms or "V1" not in lead:
        return None
    lateral = [lead[x] for x in ("I", "V6") if x in lead]
    if not lateral:
        return None
    v1 = lead["V1"]
    first = lateral[0]  # lead I (V6 when I is missing): monophasic R, no S of note
    if (
        v1["qrs_net_mv"] < 0
        and all(m["qrs_net_mv"] > 0 for m in lateral)
        and first["s_after_r_mv"] < lateral_s_ratio * first["r_mv"]
    ):
        return BbbEvidence("LBBB", qrs_ms, "V1 QS/rS, I/V6 monophasic R")
    half = 0.5 * qrs_ms  # R' in V1 and S in I/V6 are terminal: second half of the QRS
    late_r_v1 = v1["r_time_ms"] > max(v1["s_time_ms"], half) and v1["r_mv"] > 0.5 * v1["s_mv"]
    late_s = all(
        m["s_time_ms"] > max(m["r_time_ms"], half) and m["s_after_r_mv"] > 0 for m in lateral
    )
    if late_r_v1 and late_s and any(m["qrs_net_mv"] > 0 for m in lateral):
        return BbbEvidence("RBBB", qrs_ms, "terminal R' in V1, late S in I/V6")
    return None


def sgarbossa_leads(
    st_mv: Mapping[str, float],
    r_mv: Mapping[str, float],
    s_mv: Mapping[str, float],
    net_mv: Mapping[str, float],
    *,
    concordant_ste_mv: float,
    concordant_std_mv: float,
    discordant_ratio: float,
    discordant_min_mv: float,
) -> dict[str, str]:
    """Leads meeting a Smith-modified Sgarbossa criterion, with the criterion met.

    Parameters
    ----------
    st_mv : mapping lead -> float
        ST level at J, mV.
    r_mv, s_mv, net_mv : mapping lead -> float
        R height, S depth and R - S of the QRS, mV.
    concordant_ste_mv : float
        Concordant ST elevation in any lead (QRS positive), >= 0.1 mV.
    concordant_std_mv : float
        Concordant ST depression in V1-V3 (QRS negative), >= 0.1 mV.
    discordant_ratio : float
        Discordant ST deviation / preceding S (or R) amplitude, >= 0.25 in magnitude.
    discordant_min_mv : float
        Smallest discordant ST deviation counted, mV (>= 0.1 mV in Smith 2012).

    Returns
    -------
    dict of lead -> criterion name
    """
    out: dict[str, str] = {}
    for lead, st in st_mv.items():
        if lead == "aVR":
            continue
        positive = net_mv[lead] > 0
        if positive and st >= concordant_ste_mv:
            out[lead] = "concordant ST elevation"
        elif not positive and lead in ("V1", "V2", "V3") and st <= -concordant_std_mv:
            out[lead] = "concordant ST depression V1-V3"
        elif not positive and st >= discordant_min_mv and st >= discordant_ratio * s_mv[lead]:
            out[lead] = "discordant ST elevation >= 25% of S"
        elif positive and st <= -discordant_min_mv and -st >= discordant_ratio * r_mv[lead]:
            out[lead] = "discordant ST depression >= 25% of R"
    return out
