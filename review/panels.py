"""What the item page shows beside the trace, read from the stored result JSON.

Plain dicts in (the ``AnalysisResult`` contract of :mod:`models.result`), display rows
out. Nothing is computed that the result does not store: a value that is absent, None or
not a finite number is shown as ``"-"``.

* :func:`measurement_panel`: resting ECG global measurements (HR, PR, QRS, QT, QTc and
  its formula, frontal axis) and the per-lead table (ST at J / J+60 / J+80, R, S, T
  amplitudes, Q waves), with the leads excluded as noisy or derived marked;
* :func:`holter_rows`: the Holter ``summary`` as table rows;
* :func:`comparison_rows`: the ``comparison`` block (the prior ECG).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from models.leads import STANDARD_12

__all__ = [
    "MISSING",
    "LeadRow",
    "MeasurementPanel",
    "SummaryRow",
    "clock",
    "comparison_rows",
    "fmt",
    "holter_rows",
    "lead_status",
    "measurement_panel",
]

MISSING = "-"
#: Per-lead columns: (header, where in ``measurements``, decimals). ``st_mv`` is the
#: top-level J+60 ms map; the others live in ``measurements.extra``.
_LEAD_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("ST at J (mV)", "st_j_mv", 3),
    ("ST at J+60 ms (mV)", "st_mv", 3),
    ("ST at J+80 ms (mV)", "st_j80_mv", 3),
    ("R (mV)", "r_mv", 3),
    ("S (mV)", "s_mv", 3),
    ("T (mV)", "t_mv", 3),
    ("Q duration (ms)", "q_ms", 0),
    ("Q depth (mV)", "q_mv", 3),
)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def fmt(value: object, decimals: int = 0, unit: str = "") -> str:
    """A stored number for display (``"-"`` when missing or not a finite number)."""
    x = _number(value)
    if x is None:
        return MISSING
    text = f"{x:.{decimals}f}"
    return f"{text} {unit}" if unit else text


def clock(t_s: object) -> str:
    """Seconds from the start as ``hh:mm:ss`` (``"-"`` when missing)."""
    x = _number(t_s)
    if x is None:
        return MISSING
    h, rem = divmod(int(x), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


@dataclass(frozen=True)
class LeadRow:
    """One lead of the per-lead table."""

    lead: str
    status: str  # "" for a lead used as recorded
    values: list[str]


@dataclass(frozen=True)
class MeasurementPanel:
    """Global measurements and the per-lead table of a resting ECG."""

    globals: list[tuple[str, str]]
    columns: list[str]
    rows: list[LeadRow]
    notes: list[str] = field(default_factory=list)


def _lead_order(name: str) -> tuple[int, str]:
    return (STANDARD_12.index(name) if name in STANDARD_12 else 99, name)


def lead_status(result: dict[str, Any]) -> dict[str, list[str]]:
    """Leads excluded as noisy or derived: ``{lead: [reason, ...]}``.

    From the ``LEAD_UNUSABLE`` and ``LEAD_DERIVED`` findings (their ``value`` is the
    reason) and ``measurements.extra.excluded_leads`` / ``derived_leads``.
    """
    out: dict[str, list[str]] = {}

    def add(lead: object, text: str) -> None:
        if isinstance(lead, str) and text not in out.setdefault(lead, []):
            out[lead].append(text)

    for f in result.get("findings") or []:
        if not isinstance(f, dict):
            continue
        if f.get("code") == "LEAD_UNUSABLE":
            reason = f.get("value")
            for lead in f.get("leads") or []:
                add(lead, f"excluded: {reason}" if reason else "excluded (noisy)")
        elif f.get("code") == "LEAD_DERIVED":
            for lead in f.get("leads") or []:
                add(lead, "derived from I and II (not recorded)")
    extra = (result.get("measurements") or {}).get("extra") or {}
    for lead in extra.get("excluded_leads") or []:
        if not any(s.startswith("excluded") for s in out.get(lead, [])):
            add(lead, "excluded from measurement (noisy)")
    for lead in extra.get("derived_leads") or []:
        if not any(s.startswith("derived") for s in out.get(lead, [])):
            add(lead, "derived from I and II (not recorded)")
    return out


def measurement_panel(result: dict[str, Any]) -> MeasurementPanel | None:
    """The measurements of a resting ECG; None for a Holter result or none measured."""
    if result.get("recording_type", "resting") != "resting":
        return None
    meas = result.get("measurements")
    if not isinstance(meas, dict):
        return None
    extra = meas.get("extra") if isinstance(meas.get("extra"), dict) else {}
    assert isinstance(extra, dict)
    formula = extra.get("qtc_formula")
    by_formula = extra.get("qtc_ms_by_formula")
    others = ""
    if isinstance(by_formula, dict):
        others = ", ".join(
            f"{k.capitalize()} {fmt(v, 0, 'ms')}" for k, v in by_formula.items() if k != formula
        )
    axis = _number(extra.get("axis_deg"))
    p_frac = _number(extra.get("p_present_fraction"))
    glob = [
        ("Heart rate", fmt(meas.get("hr_bpm"), 0, "bpm")),
        ("RR (median beat)", fmt(extra.get("rr_ms"), 0, "ms")),
        ("PR", fmt(meas.get("pr_ms"), 0, "ms")),
        ("QRS", fmt(meas.get("qrs_ms"), 0, "ms")),
        ("QT", fmt(meas.get("qt_ms"), 0, "ms")),
        (
            f"QTc ({formula.capitalize()})" if isinstance(formula, str) else "QTc",
            fmt(meas.get("qtc_ms"), 0, "ms"),
        ),
        ("QTc, other formulas", others or MISSING),
        ("Frontal QRS axis", MISSING if axis is None else f"{axis:+.0f}°"),
        ("P waves present", MISSING if p_frac is None else f"{100 * p_frac:.0f} % of beats"),
        ("Median beat from", fmt(extra.get("median_beats"), 0, "beats")),
    ]
    if extra.get("qt_withheld"):
        glob.append(("QT withheld", str(extra["qt_withheld"])))
    if extra.get("lead_reversal"):
        glob.append(("Electrode reversal", f"likely {extra['lead_reversal']}"))
    maps: dict[str, dict[str, Any]] = {}
    for _h, key, _d in _LEAD_COLUMNS:
        found = meas.get(key) if key == "st_mv" else extra.get(key)
        maps[key] = found if isinstance(found, dict) else {}
    status = lead_status(result)
    leads = [x for x in result.get("leads") or [] if isinstance(x, str)]
    seen = set(leads)
    more = {lead for m in maps.values() for lead in m} | set(status)
    leads += sorted(more - seen, key=_lead_order)
    rows = [
        LeadRow(
            lead=lead,
            status="; ".join(status.get(lead, [])),
            values=[fmt(maps[key].get(lead), d) for _h, key, d in _LEAD_COLUMNS],
        )
        for lead in leads
    ]
    notes = []
    if not maps["q_ms"] and not maps["q_mv"]:
        notes.append("Q waves are not stored by this analysis (shown as -).")
    if not any(maps.values()):
        notes.append("No per-lead measurement stored (too few beats, or not a 12-lead ECG).")
    return MeasurementPanel(
        globals=glob, columns=[h for h, _k, _d in _LEAD_COLUMNS], rows=rows, notes=notes
    )


@dataclass(frozen=True)
class SummaryRow:
    """One line of the Holter summary: group, item, value, optional time to jump to."""

    group: str
    item: str
    value: str
    at_s: float | None = None


def _pct(v: object) -> str:
    return fmt(v, 2, "%")


def holter_rows(summary: dict[str, Any] | None) -> list[SummaryRow]:
    """The stored Holter summary (:func:`ecg_core.holter.holter_summary`) as rows.

    Known keys get a label and unit; any other stored key is listed as stored.
    """
    if not isinstance(summary, dict):
        return []
    s = summary
    rows: list[SummaryRow] = []

    def sub(key: str) -> dict[str, Any]:
        v = s.get(key)
        return v if isinstance(v, dict) else {}

    def at(v: object) -> float | None:
        return _number(v)

    def when(label: str, v: object) -> str:
        return label if _number(v) is None else f"{label} at {clock(v)}"

    rows += [
        SummaryRow("Recording", "Duration", clock(s.get("duration_s"))),
        SummaryRow("Recording", "Analysed", clock(s.get("analysed_s"))),
        SummaryRow("Recording", "Noise", _pct(s.get("noise_pct"))),
        SummaryRow("Beats", "Total beats", fmt(s.get("total_beats"))),
        SummaryRow("Heart rate", "Mean", fmt(s.get("hr_mean_bpm"), 0, "bpm")),
        SummaryRow(
            "Heart rate",
            when("Minimum (1-min mean)", s.get("hr_min_at_s")),
            fmt(s.get("hr_min_bpm"), 0, "bpm"),
            at(s.get("hr_min_at_s")),
        ),
        SummaryRow(
            "Heart rate",
            when("Maximum (1-min mean)", s.get("hr_max_at_s")),
            fmt(s.get("hr_max_bpm"), 0, "bpm"),
            at(s.get("hr_max_at_s")),
        ),
    ]
    pvc, pac, vt, af = sub("pvc"), sub("pac"), sub("vt"), sub("af")
    rows += [
        SummaryRow("PVC", "Count", fmt(pvc.get("count"))),
        SummaryRow("PVC", "Burden", _pct(pvc.get("burden_pct"))),
        SummaryRow("PVC", "Couplets", fmt(pvc.get("couplets"))),
        SummaryRow("PVC", "Runs of >= 3", fmt(pvc.get("runs_ge3"))),
        SummaryRow("PVC", "Bigeminy episodes", fmt(pvc.get("bigeminy_episodes"))),
        SummaryRow("PVC", "Trigeminy episodes", fmt(pvc.get("trigeminy_episodes"))),
        SummaryRow("PVC", "Morphologies", fmt(pvc.get("morphologies"))),
        SummaryRow("PAC", "Count", fmt(pac.get("count"))),
        SummaryRow("PAC", "Burden", _pct(pac.get("burden_pct"))),
        SummaryRow("PAC", "SVT runs", fmt(pac.get("svt_runs"))),
        SummaryRow("VT", "Runs", fmt(vt.get("runs"))),
        SummaryRow("VT", "Longest run", fmt(vt.get("longest_beats"), 0, "beats")),
        SummaryRow("VT", "Fastest run", fmt(vt.get("fastest_bpm"), 0, "bpm")),
        SummaryRow("VF", "Episodes", fmt(s.get("vf_episodes"))),
        SummaryRow("AF", "Burden", _pct(af.get("burden_pct"))),
        SummaryRow("AF", "Episodes", fmt(af.get("episodes"))),
        SummaryRow(
            "AF",
            when("Longest", af.get("longest_at_s")),
            fmt(af.get("longest_s"), 1, "s"),
            at(af.get("longest_at_s")),
        ),
    ]
    pauses = sub("pauses")
    rows.append(
        SummaryRow(
            "Pauses",
            when("Longest", pauses.get("longest_at_s")),
            fmt(pauses.get("longest_s"), 2, "s"),
            at(pauses.get("longest_at_s")),
        )
    )
    for key, v in pauses.items():
        if key.startswith("count_ge_"):
            rows.append(SummaryRow("Pauses", f"Count >= {key[len('count_ge_') :]}", fmt(v)))
    hrv = sub("hrv")
    for key, label in (
        ("sdnn_ms", "SDNN"),
        ("rmssd_ms", "RMSSD"),
        ("sdann_ms", "SDANN"),
    ):
        rows.append(SummaryRow("HRV", label, fmt(hrv.get(key), 1, "ms")))
    rows.append(SummaryRow("HRV", "pNN50", _pct(hrv.get("pnn50_pct"))))
    for key, v in sub("episode_counts").items():
        rows.append(SummaryRow("Episodes", str(key), fmt(v)))
    qt = sub("qt")
    if qt:
        formula = qt.get("formula")
        name = f" ({formula.capitalize()})" if isinstance(formula, str) else ""
        rows += [
            SummaryRow("QT", f"Median QTc{name}", fmt(qt.get("median_qtc_ms"), 0, "ms")),
            SummaryRow(
                "QT",
                f"Max QTc before a ventricular run{name}",
                fmt(qt.get("max_qtc_before_v_run_ms"), 0, "ms"),
            ),
        ]
    known = {
        "duration_s",
        "analysed_s",
        "noise_pct",
        "total_beats",
        "hr_mean_bpm",
        "hr_min_bpm",
        "hr_min_at_s",
        "hr_max_bpm",
        "hr_max_at_s",
        "hourly_hr_bpm",
        "pauses",
        "pvc",
        "pac",
        "vt",
        "vf_episodes",
        "af",
        "hrv",
        "episode_counts",
        "qt",
    }
    for key in sorted(set(s) - known):
        rows.append(SummaryRow("Other", key, json.dumps(s[key], default=str)[:200]))
    return rows


def _leads(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, list | tuple) and value:
        return ", ".join(str(x) for x in value)
    return "none"


def _territories(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, dict) and value:
        return "; ".join(f"{k}: {_leads(v)}" for k, v in value.items())
    return "none"


def comparison_rows(comparison: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``comparison`` block of a result with a prior ECG, as (label, value) rows."""
    c = comparison
    rise = c.get("st_rise_mv")
    rise_text = (
        ", ".join(f"{k} {fmt(v, 2)}" for k, v in rise.items())
        if isinstance(rise, dict) and rise
        else MISSING
        if rise is None
        else "none"
    )
    q_source = {
        "measures": "from the prior ECG's Q-wave measures",
        "findings": "from the prior ECG's Q-wave finding",
        "none": "unknown: Q waves of the prior ECG not stored",
    }.get(str(c.get("q_source")), str(c.get("q_source") or MISSING))
    re_el = c.get("re_elevation")
    re_text = (
        "; ".join(
            f"{r.get('territory')}: ST {_leads(r.get('leads'))} over Q {_leads(r.get('q_leads'))}"
            for r in re_el
            if isinstance(r, dict)
        )
        if isinstance(re_el, list) and re_el
        else MISSING
        if re_el is None
        else "none"
    )
    rows = [
        ("Interval", fmt(c.get("days_since_prior"), 1, "days")),
        ("ST point compared", str(c.get("st_point") or "none (no ST-elevation finding)")),
        (
            "New ST elevation",
            _leads(c.get("new_st_elevation_leads"))
            + (
                f" ({_leads(c.get('new_st_elevation_territories'))})"
                if c.get("new_st_elevation_territories")
                else ""
            ),
        ),
        ("ST elevation already present (not new)", _leads(c.get("persistent_st_elevation_leads"))),
        ("ST rise against the prior (mV)", rise_text),
        (
            "Old-infarct Q pattern on the prior",
            f"{_territories(c.get('old_infarct_q'))} ({q_source})",
        ),
        ("ST re-elevation over old Q waves", re_text),
        ("New Q waves", _territories(c.get("new_q"))),
        ("New LBBB", _yes_no(c.get("new_lbbb"))),
        ("Acute MI on the prior", _yes_no(c.get("prior_acute_mi"))),
        ("  in the same territory", _leads(c.get("prior_acute_mi_same_territory"))),
    ]
    if c.get("note"):
        rows.append(("Note", str(c["note"])))
    return rows


def _yes_no(v: object) -> str:
    return MISSING if v is None else "yes" if v else "no"
