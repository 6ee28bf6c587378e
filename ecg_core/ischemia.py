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
    "q_wave_leads",
    "q_wave_territory_leads",
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


#: 4th UDMI Q-wave criteria outside V2-V3: "any two leads of a contiguous lead grouping
#: (I, aVL; V1-V6; II, III, aVF)" among I, II, aVL, aVF, V4-V6 (III and aVR not used).
_Q_GROUPS: dict[str, tuple[str, ...]] = {
    "lateral": ("I", "aVL"),
    "anterior": ("V4", "V5", "V6"),
    "inferior": ("II", "aVF"),
}
#: Leads of the territory in which ST-T evolution is read for each Q-wave group.
_Q_TERRITORY: dict[str, tuple[str, ...]] = {
    "anterior": ("V1", "V2", "V3", "V4", "V5", "V6"),
    "lateral": ("I", "aVL", "V5", "V6"),
    "inferior": ("II", "III", "aVF"),
}


def q_wave_leads(
    q_ms: Mapping[str, float],
    q_mv: Mapping[str, float],
    r_mv: Mapping[str, float],
    *,
    v2_v3_q_ms: float,
    q_min_ms: float,
    q_min_mv: float,
    qs_r_max_mv: float,
) -> dict[str, frozenset[str]]:
    """Pathological Q waves by the 4th UDMI criteria of prior MI, per territory.

    V2-V3: any Q wave > ``v2_v3_q_ms`` or a QS complex in both V2 and V3. Other leads:
    Q >= ``q_min_ms`` and >= ``q_min_mv`` deep, or QS, in any two leads of a contiguous
    grouping (I, aVL; V4-V6; II, aVF). Thygesen et al. JACC 2018;72:2231, table of ECG
    changes associated with prior MI.

    Parameters
    ----------
    q_ms, q_mv, r_mv : mapping lead -> float
        Initial negative deflection duration (ms) and depth (mV), and R height (mV).
    v2_v3_q_ms, q_min_ms, q_min_mv, qs_r_max_mv : float
        Criteria; a complex is QS when its R is below ``qs_r_max_mv``.

    Returns
    -------
    dict of territory -> frozenset of leads
        ``"anterior"``, ``"lateral"``, ``"inferior"`` with the leads meeting a criterion.

    Examples
    --------
    >>> q = {"V2": 60.0, "V3": 50.0, "II": 0.0}
    >>> d = {"V2": 0.8, "V3": 0.7, "II": 0.0}
    >>> r = {"V2": 0.0, "V3": 0.01, "II": 1.0}
    >>> q_wave_leads(q, d, r, v2_v3_q_ms=20, q_min_ms=30, q_min_mv=0.1, qs_r_max_mv=0.025)
    {'anterior': frozenset({'V2', 'V3'})}
    """

    def qs(lead: str) -> bool:
        return r_mv[lead] < qs_r_max_mv and q_ms[lead] > 0

    out: dict[str, frozenset[str]] = {}
    v23 = [x for x in ("V2", "V3") if x in q_ms]
    anterior = {x for x in v23 if q_ms[x] > v2_v3_q_ms and not qs(x)}
    if len(v23) == 2 and all(qs(x) for x in v23):
        anterior.update(v23)
    for name, group in _Q_GROUPS.items():
        hit = {
            x
            for x in group
            if x in q_ms and (qs(x) or (q_ms[x] >= q_min_ms and q_mv[x] >= q_min_mv))
        }
        if len(hit) >= 2:
            if name == "anterior":
                anterior |= hit
            else:
                out[name] = frozenset(hit)
    if anterior:
        out = {"anterior": frozenset(anterior), **out}
    return out


def q_wave_territory_leads(territory: str) -> tuple[str, ...]:
    """Leads in which the ST-T of a Q-wave territory is read (``q_wave_leads`` keys)."""
    return _Q_TERRITORY[territory]


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
