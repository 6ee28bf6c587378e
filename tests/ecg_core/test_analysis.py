"""The orchestrator never drops a record: unusable input goes to human review."""

from __future__ import annotations

import numpy as np

from ecg_core.analysis import analyze_record, infer_recording_type
from models.profile import load_profile
from models.record import make_record


def test_record_with_no_usable_lead_is_unanalysable_and_critical_for_review() -> None:
    # Given a record whose only lead is flat
    rec = make_record(
        np.full((1, 2500), 0.2), fs_hz=250, leads=["II"], record_id="flat", source_format="array"
    )
    # When it is analysed
    result = analyze_record(rec, profile=load_profile())
    # Then it is flagged unanalysable with a finding that sends it to review
    assert result.unanalysable
    codes = {f.code: f for f in result.findings}
    assert codes["UNANALYSABLE"].severity == "critical"
    assert codes["LEAD_UNUSABLE"].leads == ["II"]


def test_recording_type_follows_duration() -> None:
    assert infer_recording_type(10.0) == "resting"
    assert infer_recording_type(24 * 3600.0) == "holter"
