"""Item page panels: resting measurements, Holter summary and HR trend, the prior ECG.

Real analyses of sample records (ludb1, ludb7: 10 s 12-lead; mitdb203: 300 s Holter),
run once per module (a few s of CPU).
"""

from __future__ import annotations

import copy
import html
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from models.db_review import AuditEntry
from review.holter_trend import hr_trend, image_map, trend_spans
from review.panels import fmt, holter_rows, lead_status, measurement_panel
from tests.review.webenv import SAMPLES, WebEnv


def _analyse(name: str, recording: str) -> dict[str, Any]:
    from ecg_core.analysis import analyze_record
    from ingest.readers import read_record
    from models.profile import load_profile

    profile = load_profile("cn-2017-national")
    rec = read_record(Path(SAMPLES / f"{name}.hea"))
    return analyze_record(rec, profile=profile, recording=recording).model_dump(  # type: ignore[arg-type]
        mode="json"
    )


@pytest.fixture(scope="module")
def ludb1() -> dict[str, Any]:
    return _analyse("ludb1", "resting")


@pytest.fixture(scope="module")
def ludb7() -> dict[str, Any]:
    return _analyse("ludb7", "resting")


@pytest.fixture(scope="module")
def holter203() -> dict[str, Any]:
    return _analyse("mitdb203_0-300s", "holter")


def _audit(web: WebEnv) -> list[AuditEntry]:
    with web.sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _row(page: str, lead: str) -> str:
    m = re.search(rf'<tr[^>]*><th scope="row">{re.escape(lead)}</th>(.*?)</tr>', page, re.S)
    assert m is not None, lead
    return m.group(1)


def _cells(row_html: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)]


def _compared(ludb7: dict[str, Any], prior: dict[str, Any], prior_id: str) -> dict[str, Any]:
    """ludb7 compared with ``prior`` stored as record ``prior_id`` (the worker's step)."""
    from ecg_core.comparison import stored_ecg
    from ecg_core.rules.comparison_rules import compare_with_prior
    from models.profile import load_profile
    from models.result import AnalysisResult

    profile = load_profile("cn-2017-national")
    prior_ecg = stored_ecg(prior, record_id=prior_id, recorded_at="2026-11-01T08:00:00+00:00")
    assert prior_ecg is not None
    out = compare_with_prior(
        AnalysisResult.model_validate(ludb7),
        prior_ecg,
        profile,
        recorded_at="2026-11-20T08:00:00+00:00",
    ).model_dump(mode="json")
    assert out["comparison"]["prior_record_id"] == prior_id
    return out


def test_measurements_panel_shows_the_stored_values(web: WebEnv, ludb1: dict[str, Any]) -> None:
    # Given the real analysis of ludb1 on the worklist
    record_id = web.record("ludb1")
    item_id = web.result_item(record_id, ludb1)
    meas, extra = ludb1["measurements"], ludb1["measurements"]["extra"]
    # When a reviewer opens it
    with web.client("alice") as alice:
        page = alice.get(f"/review/items/{item_id}").text
    # Then the global measurements are the stored ones, with the QTc formula named
    assert "Measurements" in page
    for label, key in (("PR", "pr_ms"), ("QRS", "qrs_ms"), ("QT", "qt_ms")):
        assert _cells(_row(page, label)) == [fmt(meas[key], 0, "ms")]
    qtc_label = f"QTc ({extra['qtc_formula'].capitalize()})"
    assert _cells(_row(page, qtc_label)) == [fmt(meas["qtc_ms"], 0, "ms")]
    assert _cells(_row(page, "Heart rate")) == [fmt(meas["hr_bpm"], 0, "bpm")]
    assert _cells(_row(page, "Frontal QRS axis")) == [f"{extra['axis_deg']:+.0f}°"]
    # And every lead's ST at J / J+60, R/S/T amplitudes and Q waves as stored
    for lead in ludb1["leads"]:
        cells = _cells(_row(page, lead))
        assert cells[0] == "used"
        assert cells[1:] == [
            fmt(extra["st_j_mv"][lead], 3),
            fmt(meas["st_mv"][lead], 3),
            fmt(extra["st_j80_mv"][lead], 3),
            fmt(extra["r_mv"][lead], 3),
            fmt(extra["s_mv"][lead], 3),
            fmt(extra["t_mv"][lead], 3),
            fmt(extra["q_ms"].get(lead), 0),
            fmt(extra["q_mv"].get(lead), 3),
        ]
    assert "Q waves are not stored" not in page
    assert "Holter summary" not in page


def test_excluded_and_derived_leads_are_marked(web: WebEnv, ludb1: dict[str, Any]) -> None:
    # Given a result where V3 was excluded as noisy and III/aVR/aVL/aVF were derived
    result = copy.deepcopy(ludb1)
    derived = ["III", "aVR", "aVL", "aVF"]
    result["measurements"]["extra"]["derived_leads"] = derived
    result["measurements"]["extra"]["excluded_leads"] = ["V3"]
    del result["measurements"]["extra"]["st_j_mv"]["V3"]
    stored = {"onset_s": None, "offset_s": None, "threshold": None, "evidence": {}}
    result["findings"] += [
        {**stored, "code": "LEAD_UNUSABLE", "severity": "info", "leads": ["V3"],
         "value": "flat line", "rule": "technical.lead_quality", "message": "lead V3 excluded"},
        {**stored, "code": "LEAD_DERIVED", "severity": "info", "leads": derived, "value": 4,
         "rule": "twelve_lead.derived", "message": "derived"},
    ]  # fmt: skip
    assert lead_status(result)["V3"] == ["excluded: flat line"]
    item_id = web.result_item(web.record("ludb1"), result)
    with web.client("alice") as alice:
        page = alice.get(f"/review/items/{item_id}").text
        trace = alice.get(f"/review/items/{item_id}/trace.svg").text
    # Then those rows are marked (class and text), the others are "used"
    v3 = _row(page, "V3")
    assert "excluded: flat line" in v3
    assert _cells(v3)[1] == "-"  # ST at J no longer stored for V3
    assert re.search(r'<tr class="lead-marked"><th scope="row">V3</th>', page)
    for lead in derived:
        assert "derived from I and II" in _row(page, lead)
    assert _cells(_row(page, "V1"))[0] == "used"
    # and the trace names them too (matplotlib keeps each label as an SVG comment)
    assert "<!-- V3 (excluded: flat line) -->" in trace
    assert "<!-- aVF (derived from I and II (not recorded)) -->" in trace
    assert "<!-- V1 -->" in trace


def test_holter_item_shows_summary_and_trend(web: WebEnv, holter203: dict[str, Any]) -> None:
    # Given the real Holter analysis of mitdb203 (300 s) on the worklist
    item_id = web.result_item(web.record("mitdb203_0-300s", recording_type="holter"), holter203)
    s = holter203["summary"]
    with web.client("alice") as alice:
        page = alice.get(f"/review/items/{item_id}").text
        svg = alice.get(f"/review/items/{item_id}/hr_trend.svg")
    # Then the summary table carries the stored counts and burdens
    assert "Holter summary" in page
    assert "Measurements <span" not in page
    rows = {(r.group, r.item): r.value for r in holter_rows(s)}
    assert rows[("Beats", "Total beats")] == str(s["total_beats"])
    assert rows[("PVC", "Count")] == str(s["pvc"]["count"])
    assert rows[("PAC", "Burden")] == f"{s['pac']['burden_pct']:.2f} %"
    for value in (str(s["total_beats"]), str(s["pvc"]["count"]), f"{s['pac']['burden_pct']:.2f} %"):
        assert f">{value}<" in page
    # And the trend is a valid SVG, linked with an image map to the flagged findings
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.content)
    assert root.tag.endswith("svg")
    assert f'src="/review/items/{item_id}/hr_trend.svg"' in page
    nsvt = next(f for f in holter203["findings"] if f["code"] == "NSVT")
    assert f'href="?start_s={round(nsvt["onset_s"] - 2, 1)}#trace"' in page
    assert [r.action for r in _audit(web)][-2:] == ["view_item", "view_hr_trend"]


def test_trend_matches_the_summary_minute_rates(holter203: dict[str, Any]) -> None:
    # 1-min bins from the stored beats: same min/max as the analyser's 1-min means
    t_s, hr, bin_s = hr_trend(holter203)
    s = holter203["summary"]
    assert bin_s == 60.0
    assert t_s.size == 5
    assert float(np.nanmin(hr)) == pytest.approx(s["hr_min_bpm"], abs=0.05)
    assert float(np.nanmax(hr)) == pytest.approx(s["hr_max_bpm"], abs=0.05)
    assert t_s[int(np.nanargmax(hr))] == s["hr_max_at_s"]


def test_trend_leaves_noise_out_and_uses_5_min_bins_over_24_h() -> None:
    fs = 100.0
    beats = np.arange(0, 24 * 3600, 1.0)  # 60 bpm for 24 h
    result = {
        "fs_hz": fs,
        "duration_s": 24 * 3600.0,
        "beats": {"sample": (beats * fs).astype(int).tolist()},
        "episodes": [{"type": "NOISE", "onset_s": 600.0, "offset_s": 900.0}],
    }
    t_s, hr, bin_s = hr_trend(result)
    assert bin_s == 300.0
    assert t_s.size == 288
    assert np.isnan(hr[2])  # 600-900 s all noise
    assert hr[0] == pytest.approx(60.0)
    spans = trend_spans(
        [{"code": "VT", "severity": "critical", "onset_s": 3600.0, "offset_s": 3610.0}]
    )
    spans += trend_spans(
        [{"code": "AF", "severity": "abnormal", "onset_s": 7200.0, "offset_s": 80000.0}]
    )
    areas = image_map(24 * 3600.0, spans)
    assert areas[0].label.startswith("VT (critical) at 01:00:00")
    assert areas[0].start_s == 3598.0
    # a span of 20 h does not cover the plot: the time slices stay reachable
    assert areas[1].label.startswith("AF (abnormal)")
    assert areas[1].x1 - areas[1].x0 <= 15
    slices = areas[2:]
    assert len(slices) == 48
    assert slices[30].start_s == pytest.approx(30 * 1800.0)
    assert measurement_panel({"recording_type": "holter"}) is None


def _prior_and_current(
    web: WebEnv, ludb1: dict[str, Any], ludb7: dict[str, Any], prior_clinic: str
) -> tuple[str, int, str, int]:
    then = datetime.now(UTC) - timedelta(days=19)
    prior_id = web.record("ludb1", clinic_id=prior_clinic, created_at=then)
    prior_item = web.result_item(prior_id, ludb1, severity="abnormal")
    current_id = web.record("ludb7")
    item_id = web.result_item(current_id, _compared(ludb7, ludb1, prior_id))
    return prior_id, prior_item, current_id, item_id


def test_prior_ecg_is_shown_and_its_view_audited(
    web: WebEnv, ludb1: dict[str, Any], ludb7: dict[str, Any]
) -> None:
    # Given ludb7 compared with the same clinic's and patient's earlier ECG (ludb1)
    prior_id, prior_item, current_id, item_id = _prior_and_current(web, ludb1, ludb7, web.clinic_id)
    with web.client("alice") as alice:
        page = alice.get(f"/review/items/{item_id}").text
        prior_svg = alice.get(f"/review/items/{item_id}/prior.svg", params={"start_s": 0})
    # Then the page names the prior, links to its item, compares and shows its trace
    assert "Prior ECG" in page
    assert prior_id in page
    assert f'href="/review/items/{prior_item}"' in page
    assert _cells(_row(page, "New LBBB")) == ["no"]
    assert _cells(_row(page, "Interval")) == ["19.0 days"]
    assert f'src="/review/items/{item_id}/prior.svg?start_s=0&amp;window_s=10"' in page
    assert prior_svg.status_code == 200
    assert ET.fromstring(prior_svg.content).tag.endswith("svg")
    # prior leads drawn (12 lead rows: 12 x 30 mm high)
    height = re.search(r'<svg[^>]*height="([\d.]+)pt"', prior_svg.text)
    assert height is not None
    assert float(height.group(1)) * 25.4 / 72 == pytest.approx(360.0, abs=0.5)
    # And both views of the prior are audited against the prior record
    rows = [(r.action, r.record_id, r.item_id) for r in _audit(web)]
    assert rows == [
        ("view_item", current_id, item_id),
        ("view_prior", prior_id, item_id),
        ("view_prior_trace", prior_id, item_id),
    ]


def test_another_clinics_prior_is_never_shown(
    web: WebEnv, ludb1: dict[str, Any], ludb7: dict[str, Any]
) -> None:
    # Given a comparison naming a record of another clinic (never the worker's choice)
    prior_id, _prior_item, current_id, item_id = _prior_and_current(web, ludb1, ludb7, web.other_id)
    with web.client("alice") as alice:
        page = alice.get(f"/review/items/{item_id}").text
        prior_svg = alice.get(f"/review/items/{item_id}/prior.svg")
    # Then neither its id, nor its trace, nor a link to it is shown
    assert prior_id not in page
    assert "prior.svg" not in page
    assert "not available" in page
    assert prior_svg.status_code == 404
    assert "<svg" not in prior_svg.text
    rows = _audit(web)
    assert all(r.record_id != prior_id for r in rows)
    assert [r.action for r in rows] == ["view_item", "view_prior_trace"]
    assert rows[-1].record_id == current_id
    assert rows[-1].after is not None
    assert rows[-1].after["prior"] == "unavailable"


def test_no_prior_is_said(web: WebEnv, ludb7: dict[str, Any]) -> None:
    from ecg_core.rules.comparison_rules import compare_with_prior
    from models.profile import load_profile
    from models.result import AnalysisResult

    result = compare_with_prior(
        AnalysisResult.model_validate(ludb7), None, load_profile("cn-2017-national")
    ).model_dump(mode="json")
    item_id = web.result_item(web.record("ludb7"), result)
    with web.client("alice") as alice:
        page = alice.get(f"/review/items/{item_id}").text
    assert "No prior ECG of this patient to compare" in page
    assert [r.action for r in _audit(web)] == ["view_item"]
