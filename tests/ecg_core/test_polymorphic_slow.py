"""POLYMORPHIC_VT and HYPOKALEMIA on shared records (slow: whole 30-min MIT-BIH records).

Pins what docs/rhythm.md and docs/twelve_lead.md report, so a change that starts
calling monomorphic VT polymorphic, or U waves on normal ECGs, fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.hypokalemia_eval import record_flags
from evaluation.polymorphic_eval import flag_record


@pytest.mark.slow
def test_monomorphic_vt_is_not_flagged_and_223_is_bidirectional(shared_data: Path) -> None:
    mono = flag_record(shared_data / "mitdb" / "205.hea")  # four monomorphic VT runs
    assert mono.runs_measured >= 4
    assert mono.findings == []
    alt = flag_record(shared_data / "mitdb" / "223.hea")
    kinds = {f.evidence["subtype"] for f in alt.findings}
    assert kinds == {"bidirectional"}
    assert all(578.0 <= (f.onset_s or 0.0) <= 633.0 for f in alt.findings)  # reference VT


@pytest.mark.slow
def test_single_lead_artefact_burst_is_not_polymorphic(shared_data: Path) -> None:
    """CinC 2017 normal A01261 ends in a movement burst labelled as a fast V run."""
    r = flag_record(shared_data / "cinc2017" / "A01261.hea")
    assert r.runs_measured == 1
    assert r.findings == []


@pytest.mark.slow
def test_no_u_wave_findings_on_ludb_sample(shared_data: Path) -> None:
    paths = sorted((shared_data / "ludb" / "data").glob("*.hea"))[:20]
    assert paths
    assert all(record_flags(p) == [] for p in paths)
