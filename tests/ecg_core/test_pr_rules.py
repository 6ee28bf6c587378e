"""First-degree AV block and short PR on real CPSC 2018 records (labels in REFERENCE.csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecg_core.analysis import analyze_record
from ingest.readers import read_record
from models.profile import load_profile


def _pr_findings(shared_data: Path, record: str) -> tuple[float | None, dict[str, object]]:
    result = analyze_record(
        read_record(shared_data / "cpsc2018" / f"{record}.mat"), profile=load_profile()
    )
    codes = {f.code: f.value for f in result.findings if f.code in ("AV_BLOCK_1", "SHORT_PR")}
    return result.measurements.pr_ms, codes


@pytest.mark.parametrize("record", ["A1982", "A1988"])  # labelled I-AVB (class 3)
def test_first_degree_block_is_reported_with_its_pr(shared_data: Path, record: str) -> None:
    pr_ms, codes = _pr_findings(shared_data, record)
    assert pr_ms is not None
    assert pr_ms > 200
    assert codes == {"AV_BLOCK_1": pr_ms}


def test_normal_pr_gives_neither_finding(shared_data: Path) -> None:
    pr_ms, codes = _pr_findings(shared_data, "A1983")  # labelled Normal (class 1)
    assert pr_ms is not None
    assert 120 <= pr_ms <= 200
    assert codes == {}
