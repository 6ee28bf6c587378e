"""Comparison of a resting 12-lead ECG with the same patient's previous ECG.

Pure: two analysed ECGs in their stored form (the ``measurements`` and ``findings`` of
the result JSON contract, :mod:`models.result`) in, a :class:`Comparison` out. No I/O:
the service looks the previous result up and passes it in as plain data.

Both ECGs are read from the same stored representation, so the comparison is like with
like (the same rounding, the same per-lead ST point) whether the previous result was
analysed a minute or a year ago.

What is compared, and why (Fourth Universal Definition of MI, Thygesen et al. JACC
2018;72:2231, "4th UDMI"):

- **New ST elevation**: the ST level of each lead the current ``ACUTE_MI`` (ST
  elevation) finding names, against the same lead on the previous ECG. The 4th UDMI
  requires *new* ST elevation for acute MI; an elevation already present before (the
  persistent ST elevation of a left-ventricular aneurysm after an old infarct) is not new.
- **Old-infarct Q pattern** on the previous ECG: the 4th UDMI ECG criteria of prior MI
  (any Q > 20 ms or QS in V2-V3; Q >= 30 ms and >= 0.1 mV deep, or QS, in two leads of a
  contiguous grouping I/aVL, V4-V6, II/aVF), via :func:`ecg_core.ischemia.q_wave_leads`;
  not read with QRS >= 120 ms (bundle-branch block: Q waves not interpretable).
- **Re-elevation**: new ST elevation in >= 2 contiguous leads of a territory whose
  previous ECG had that old-infarct Q pattern. The 4th UDMI ("Reinfarction"): "reinfarction
  should be considered when ST elevation >= 1 mm recurs, or new pathognomonic Q waves
  appear, in at least two contiguous leads, particularly when associated with ischaemic
  symptoms" (paraphrased); the Chinese catalogue item ``REINFARCTION`` is "new ST
  re-elevation over an old infarct pattern" (../shared/CRITICAL_VALUES.md, section A).
- **New Q waves** (current Q-wave territories absent before) and **new LBBB** (an
  ``LBBB`` finding now, none before) are reported as context; new LBBB alone is no longer
  a STEMI equivalent (O'Gara et al., 2013 ACCF/AHA STEMI guideline).
- **Acute MI already on the previous ECG** in the same territory: the current acute MI
  is then not first-found (the catalogue item is "first-found suspected acute MI").

Every threshold is passed in (rule profile data).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ecg_core.ischemia import contiguous_subset, q_wave_leads, q_wave_territory_leads, territories
from models.leads import CONTIGUOUS_GROUPS, STANDARD_12

__all__ = [
    "Comparison",
    "FindingSummary",
    "QCriteria",
    "ReElevation",
    "StoredEcg",
    "compare",
    "days_between",
    "stored_ecg",
]

#: Per-lead stored measure -> where it lives in ``measurements`` (``extra`` unless noted).
_PER_LEAD = {
    "st_j_mv": "st_j_mv",
    "st_j60_mv": "st_mv",  # top-level ``measurements.st_mv`` is ST at J+60 ms
    "st_j80_mv": "st_j80_mv",
    "q_ms": "q_ms",
    "q_mv": "q_mv",
    "r_mv": "r_mv",
    "t_mv": "t_mv",
}
#: ``ACUTE_MI`` evidence ``st_point`` -> per-lead ST measure of :class:`StoredEcg`.
ST_POINT_MEASURE = {"J": "st_j_mv", "J60": "st_j60_mv", "J80": "st_j80_mv"}

QSource = Literal["measures", "findings", "none"]


@dataclass(frozen=True)
class FindingSummary:
    """What the comparison reads of one stored finding.

    Attributes
    ----------
    code, severity, rule : str
        As stored.
    leads : tuple of str
        Leads the finding names.
    st_point : str or None
        ``evidence.st_point`` of an ST-elevation finding (``"J"``, ``"J60"``, ``"J80"``);
        None for findings not read from ST elevation.
    st_elevation : bool
        The finding is an ST-elevation ``ACUTE_MI`` (``evidence.st_mv`` present).
    q_territory : str or None
        ``evidence.territory`` of a Q-wave finding (``evidence.q_ms`` present).
    q_leads : tuple of str
        Leads with a pathological Q wave in that finding's evidence.
    """

    code: str
    severity: str
    rule: str
    leads: tuple[str, ...]
    st_point: str | None = None
    st_elevation: bool = False
    q_territory: str | None = None
    q_leads: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredEcg:
    """One analysed resting ECG as its stored result holds it.

    Attributes
    ----------
    record_id : str
        Record the result belongs to.
    recorded_at : str or None
        ISO 8601 time of the recording (the service uses the upload time).
    qrs_ms : float or None
        Global QRS duration, ms.
    per_lead : mapping of measure -> mapping lead -> float
        ``st_j_mv``, ``st_j60_mv``, ``st_j80_mv``, ``q_ms``, ``q_mv``, ``r_mv``, ``t_mv``
        (a measure absent from the stored result is an empty mapping; results analysed
        before Q waves were stored have no ``q_ms`` / ``q_mv``).
    findings : tuple of FindingSummary
        The result's findings.
    """

    record_id: str
    recorded_at: str | None
    qrs_ms: float | None
    per_lead: Mapping[str, Mapping[str, float]]
    findings: tuple[FindingSummary, ...]

    def lead_values(self, measure: str) -> Mapping[str, float]:
        """``{lead: value}`` of one per-lead measure (empty when not stored)."""
        return self.per_lead.get(measure, {})

    def codes(self, code: str) -> tuple[FindingSummary, ...]:
        """Findings with item code ``code``."""
        return tuple(f for f in self.findings if f.code == code)


@dataclass(frozen=True)
class QCriteria:
    """4th UDMI Q-wave criteria of prior MI (rule profile data; see ``q_wave_leads``)."""

    v2_v3_q_ms: float
    q_min_ms: float
    q_min_mv: float
    qs_r_max_mv: float
    qrs_max_ms: float


@dataclass(frozen=True)
class ReElevation:
    """New ST elevation over a territory with an old-infarct Q pattern on the prior ECG.

    Attributes
    ----------
    territory : str
        Q-wave territory (``"anterior"``, ``"lateral"``, ``"inferior"``).
    q_leads : tuple of str
        Leads with pathological Q waves on the previous ECG.
    leads : tuple of str
        >= 2 contiguous leads of that territory with new ST elevation now.
    st_mv, prior_st_mv : mapping lead -> float
        ST level now and on the previous ECG in those leads, mV.
    """

    territory: str
    q_leads: tuple[str, ...]
    leads: tuple[str, ...]
    st_mv: Mapping[str, float]
    prior_st_mv: Mapping[str, float]


@dataclass(frozen=True)
class Comparison:
    """What is new on the current ECG against the previous one.

    Attributes
    ----------
    prior_record_id : str
        The previous ECG's record.
    prior_recorded_at : str or None
        Its recording time (ISO 8601), when known.
    days_since_prior : float or None
        Days between the two recordings, when both times are known.
    st_point : str or None
        ST point of the current ST-elevation finding (None when there is none).
    st_rise_mv : mapping lead -> float
        Current minus previous ST level in each ST-elevated lead measured on both, mV.
    new_st_leads : tuple of str
        ST-elevated leads whose rise reaches the threshold and that form >= 2
        contiguous leads.
    persistent_st_leads : tuple of str
        ST-elevated leads already elevated as much before (not new).
    new_st_territories : tuple of str
        Territories (``models.leads.CONTIGUOUS_GROUPS``) of ``new_st_leads``.
    old_infarct_q : mapping territory -> tuple of str
        Old-infarct Q pattern on the previous ECG, per Q-wave territory.
    q_source : {"measures", "findings", "none"}
        Where the previous ECG's Q waves were read: its stored per-lead Q measures, the
        evidence of its Q-wave MI finding (results stored without Q measures), or
        nowhere (neither stored: the old-infarct pattern is unknown).
    re_elevation : tuple of ReElevation
        New ST elevation over an old-infarct Q territory.
    new_q : mapping territory -> tuple of str
        Q-wave territories now that the previous ECG did not have (only when both
        ECGs have stored Q measures).
    new_lbbb : bool
        LBBB now, not on the previous ECG.
    prior_acute_mi_territories : tuple of str
        Territories where both the current and the previous ECG have ``ACUTE_MI``.
    prior_acute_mi : bool
        The previous ECG had any ``ACUTE_MI`` finding.
    """

    prior_record_id: str
    prior_recorded_at: str | None
    days_since_prior: float | None
    st_point: str | None
    st_rise_mv: Mapping[str, float]
    new_st_leads: tuple[str, ...]
    persistent_st_leads: tuple[str, ...]
    new_st_territories: tuple[str, ...]
    old_infarct_q: Mapping[str, tuple[str, ...]]
    q_source: QSource
    re_elevation: tuple[ReElevation, ...]
    new_q: Mapping[str, tuple[str, ...]]
    new_lbbb: bool
    prior_acute_mi_territories: tuple[str, ...]
    prior_acute_mi: bool

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (the result's ``comparison`` block), deterministic order."""
        return {
            "prior_record_id": self.prior_record_id,
            "prior_recorded_at": self.prior_recorded_at,
            "days_since_prior": _round(self.days_since_prior, 2),
            "st_point": self.st_point,
            "st_rise_mv": {k: round(v, 3) for k, v in _by_lead(self.st_rise_mv)},
            "new_st_elevation_leads": list(self.new_st_leads),
            "new_st_elevation_territories": list(self.new_st_territories),
            "persistent_st_elevation_leads": list(self.persistent_st_leads),
            "old_infarct_q": {k: list(v) for k, v in sorted(self.old_infarct_q.items())},
            "q_source": self.q_source,
            "re_elevation": [
                {"territory": r.territory, "q_leads": list(r.q_leads), "leads": list(r.leads)}
                for r in self.re_elevation
            ],
            "new_q": {k: list(v) for k, v in sorted(self.new_q.items())},
            "new_lbbb": self.new_lbbb,
            "prior_acute_mi": self.prior_acute_mi,
            "prior_acute_mi_same_territory": list(self.prior_acute_mi_territories),
        }


def _round(v: float | None, nd: int) -> float | None:
    return None if v is None else round(v, nd)


def _lead_key(name: str) -> tuple[int, str]:
    return (STANDARD_12.index(name) if name in STANDARD_12 else 99, name)


def _by_lead(values: Mapping[str, float]) -> list[tuple[str, float]]:
    return sorted(values.items(), key=lambda kv: _lead_key(kv[0]))


def _sorted_leads(leads: Collection[str]) -> tuple[str, ...]:
    return tuple(sorted(leads, key=_lead_key))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _lead_map(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, float] = {}
    for lead, v in value.items():
        x = _number(v)
        if isinstance(lead, str) and x is not None:
            out[lead] = x
    return out


def _str_tuple(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(x for x in value if isinstance(x, str))


def _finding_summary(raw: object) -> FindingSummary | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("code"), str):
        return None
    ev = raw.get("evidence")
    ev = ev if isinstance(ev, Mapping) else {}
    st_point = ev.get("st_point")
    q = _lead_map(ev.get("q_ms"))
    territory = ev.get("territory")
    return FindingSummary(
        code=str(raw["code"]),
        severity=str(raw.get("severity", "")),
        rule=str(raw.get("rule", "")),
        leads=_str_tuple(raw.get("leads")),
        st_point=st_point if isinstance(st_point, str) else None,
        st_elevation=isinstance(ev.get("st_mv"), Mapping) and raw.get("code") == "ACUTE_MI",
        q_territory=territory if q and isinstance(territory, str) else None,
        q_leads=_sorted_leads(q),
    )


def stored_ecg(
    result: Mapping[str, Any], *, record_id: str | None = None, recorded_at: str | None = None
) -> StoredEcg | None:
    """Read a stored result (the JSON contract, as a dict) for the comparison.

    Tolerant by design: a previous result that cannot be read must never fail the
    analysis of the current one; it only means "no prior".

    Parameters
    ----------
    result : mapping
        ``AnalysisResult`` JSON (``model_dump(mode="json")`` or parsed JSON).
    record_id : str, optional
        Record id (default: ``result["record_id"]``).
    recorded_at : str, optional
        ISO 8601 recording time.

    Returns
    -------
    StoredEcg or None
        None when ``result`` is not a resting, analysable result with 12-lead measures.

    Examples
    --------
    >>> r = {"record_id": "a", "recording_type": "resting", "measurements":
    ...      {"qrs_ms": 90.0, "st_mv": {"V2": 0.1}, "extra": {"st_j_mv": {"V2": 0.2}}},
    ...      "findings": []}
    >>> s = stored_ecg(r)
    >>> s.lead_values("st_j_mv"), s.lead_values("st_j60_mv"), s.qrs_ms
    ({'V2': 0.2}, {'V2': 0.1}, 90.0)
    """
    if not isinstance(result, Mapping):
        return None
    if result.get("recording_type", "resting") != "resting" or result.get("unanalysable"):
        return None
    meas = result.get("measurements")
    if not isinstance(meas, Mapping):
        return None
    extra = meas.get("extra")
    extra = extra if isinstance(extra, Mapping) else {}
    per_lead = {
        name: _lead_map(meas.get(key) if key == "st_mv" else extra.get(key))
        for name, key in _PER_LEAD.items()
    }
    if not per_lead["st_j_mv"] and not per_lead["st_j60_mv"]:
        return None  # no 12-lead measurement (e.g. too few beats)
    raw_findings = result.get("findings")
    findings = tuple(
        s
        for s in (
            _finding_summary(f) for f in (raw_findings if isinstance(raw_findings, list) else [])
        )
        if s is not None
    )
    rid = record_id if record_id is not None else result.get("record_id")
    return StoredEcg(
        record_id=str(rid) if rid is not None else "",
        recorded_at=recorded_at,
        qrs_ms=_number(meas.get("qrs_ms")),
        per_lead=per_lead,
        findings=findings,
    )


def days_between(earlier: str | None, later: str | None) -> float | None:
    """Days from ``earlier`` to ``later`` (ISO 8601), None when either is unknown or bad.

    Examples
    --------
    >>> days_between("2026-11-01T08:00:00+00:00", "2026-11-03T20:00:00+00:00")
    2.5
    """
    if not earlier or not later:
        return None
    try:
        a, b = datetime.fromisoformat(earlier), datetime.fromisoformat(later)
        return (b - a).total_seconds() / 86400.0
    except (TypeError, ValueError):  # unparsable, or naive vs aware
        return None


def _q_pattern(ecg: StoredEcg, q: QCriteria) -> dict[str, tuple[str, ...]] | None:
    """Q-wave territories from stored measures; None when Q measures are not stored."""
    q_ms, q_mv, r_mv = ecg.lead_values("q_ms"), ecg.lead_values("q_mv"), ecg.lead_values("r_mv")
    leads = set(q_ms) & set(q_mv) & set(r_mv)
    if not leads:
        return None
    if ecg.qrs_ms is None or ecg.qrs_ms >= q.qrs_max_ms:
        return {}  # wide QRS: Q waves not interpretable
    found = q_wave_leads(
        {k: q_ms[k] for k in leads},
        {k: q_mv[k] for k in leads},
        {k: r_mv[k] for k in leads},
        v2_v3_q_ms=q.v2_v3_q_ms,
        q_min_ms=q.q_min_ms,
        q_min_mv=q.q_min_mv,
        qs_r_max_mv=q.qs_r_max_mv,
    )
    return {k: _sorted_leads(v) for k, v in sorted(found.items())}


def _q_from_findings(ecg: StoredEcg) -> dict[str, tuple[str, ...]]:
    out: dict[str, set[str]] = {}
    for f in ecg.findings:
        if f.q_territory is not None and f.q_leads:
            out.setdefault(f.q_territory, set()).update(f.q_leads)
    return {k: _sorted_leads(v) for k, v in sorted(out.items())}


def compare(
    current: StoredEcg,
    prior: StoredEcg,
    *,
    q: QCriteria,
    new_st_rise_mv: float,
) -> Comparison:
    """Compare the current ECG with the previous ECG of the same patient.

    Parameters
    ----------
    current, prior : StoredEcg
        The two ECGs (see :func:`stored_ecg`).
    q : QCriteria
        4th UDMI Q-wave criteria of prior MI.
    new_st_rise_mv : float
        Rise of the ST level against the previous ECG from which an ST elevation is new,
        mV (4th UDMI: ST elevation >= 1 mm, i.e. 0.1 mV, that recurs).

    Returns
    -------
    Comparison
    """
    ste = [f for f in current.codes("ACUTE_MI") if f.st_elevation]
    st_point = ste[0].st_point if ste and ste[0].st_point in ST_POINT_MEASURE else None
    elevated = {lead for f in ste for lead in f.leads}
    rise: dict[str, float] = {}
    prior_st: Mapping[str, float] = {}
    now_st: Mapping[str, float] = {}
    if st_point is not None:
        key = ST_POINT_MEASURE[st_point]
        now_st, prior_st = current.lead_values(key), prior.lead_values(key)
        rise = {x: now_st[x] - prior_st[x] for x in elevated if x in now_st and x in prior_st}
    risen = {x for x, v in rise.items() if v >= new_st_rise_mv}
    new_leads = contiguous_subset(risen)
    persistent = {x for x in rise if x not in risen}

    measured = _q_pattern(prior, q)
    q_source: QSource
    if measured is not None:
        old_q, q_source = measured, "measures"
    else:
        old_q = _q_from_findings(prior)
        q_source = "findings" if old_q else "none"
    re_elev = []
    for territory, q_leads in old_q.items():
        hit = contiguous_subset(new_leads & set(q_wave_territory_leads(territory)))
        if hit:
            leads = _sorted_leads(hit)
            re_elev.append(
                ReElevation(
                    territory=territory,
                    q_leads=q_leads,
                    leads=leads,
                    st_mv={x: now_st[x] for x in leads},
                    prior_st_mv={x: prior_st[x] for x in leads},
                )
            )

    now_q = _q_pattern(current, q)
    new_q: dict[str, tuple[str, ...]] = {}
    if now_q is not None and measured is not None:
        new_q = {k: v for k, v in now_q.items() if k not in measured}

    now_mi = {t for f in current.codes("ACUTE_MI") for t in territories(f.leads)}
    before_mi = {t for f in prior.codes("ACUTE_MI") for t in territories(f.leads)}
    return Comparison(
        prior_record_id=prior.record_id,
        prior_recorded_at=prior.recorded_at,
        days_since_prior=days_between(prior.recorded_at, current.recorded_at),
        st_point=st_point,
        st_rise_mv=rise,
        new_st_leads=_sorted_leads(new_leads),
        persistent_st_leads=_sorted_leads(persistent),
        new_st_territories=tuple(territories(new_leads)),
        old_infarct_q=old_q,
        q_source=q_source,
        re_elevation=tuple(re_elev),
        new_q=new_q,
        new_lbbb=bool(current.codes("LBBB")) and not prior.codes("LBBB"),
        prior_acute_mi_territories=tuple(t for t in CONTIGUOUS_GROUPS if t in now_mi & before_mi),
        prior_acute_mi=bool(prior.codes("ACUTE_MI")),
    )
