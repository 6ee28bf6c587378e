"""The pipeline fills the POLYMORPHIC_VT and HYPOKALEMIA features (ecg_core.analysis).

U waves are measured on the 12-lead stage's own delineation (no second delineation);
the polymorphic-run measures after the rhythm stage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecg_core.analysis import analyze_record
from ecg_core.hypokalemia import measure_u_waves, u_waves
from ecg_core.qrs import detect_beats
from ecg_core.twelve_lead import analyze_twelve_lead
from ingest.readers import read_record
from models.leads import STANDARD_12
from models.profile import load_profile
from models.record import make_record
from tests.ecg_core.test_hypokalemia import FS_HZ, _ecg


@pytest.mark.parametrize("name", ["ludb1", "ludb7"])
def test_u_waves_from_the_stage_delineation_equal_a_separate_delineation(
    samples_dir: Path, name: str
) -> None:
    # Given a 12-lead record with every lead recorded and none excluded
    rec = read_record(samples_dir / f"{name}.hea")
    beats = detect_beats(rec.signal_mv, fs_hz=rec.fs_hz)
    tw = analyze_twelve_lead(
        rec.signal_mv, rec.leads, fs_hz=rec.fs_hz, r_idx=beats.r_idx, labels=beats.label
    )
    assert tw.delineation is not None
    assert tw.leads == tuple(rec.leads)
    # When the U waves are measured on the stage's delineation and on a new one
    ours = measure_u_waves(tw.delineation, tw.leads)
    ref = u_waves(rec.signal_mv, rec.leads, fs_hz=rec.fs_hz, r_idx=beats.r_idx, labels=beats.label)
    # Then they are the same measures
    for name_ in ("u_mv", "t_mv", "u_peak_ms", "qu_ms", "noise_mv"):
        np.testing.assert_allclose(getattr(ours, name_), getattr(ref, name_), equal_nan=True)
    assert ours.qt_ms == ref.qt_ms


def test_prominent_u_waves_reach_the_result() -> None:
    # Given a synthetic 12-lead ECG with 0.25 mV U waves over 0.08 mV T waves in V2-V3
    x, _ = _ecg(0.25, 0.08)
    rec = make_record(x, fs_hz=FS_HZ, leads=list(STANDARD_12), record_id="u", source_format="array")
    # When the whole pipeline runs
    found = analyze_record(rec, profile=load_profile()).findings
    # Then the U-wave finding is there (abnormal: no tachyarrhythmia), none of VT
    hypo = [(f.rule, f.severity) for f in found if f.code == "HYPOKALEMIA"]
    assert hypo == [("u-waves-prominent", "abnormal")]
    assert "POLYMORPHIC_VT" not in {f.code for f in found}


def test_sample_records_have_neither_finding(samples_dir: Path) -> None:
    for name in ("ludb1", "ludb7", "s0010_re"):
        res = analyze_record(read_record(samples_dir / f"{name}.hea"), profile=load_profile())
        assert not {f.code for f in res.findings} & {"HYPOKALEMIA", "POLYMORPHIC_VT"}


@pytest.mark.slow
def test_mitdb_223_bidirectional_vt_reaches_the_result(shared_data: Path) -> None:
    # MIT-BIH 223: QRS polarity alternating beat to beat in the reference VT 578-633 s
    res = analyze_record(read_record(shared_data / "mitdb" / "223.hea"), profile=load_profile())
    poly = [f for f in res.findings if f.code == "POLYMORPHIC_VT"]
    assert poly
    assert {f.evidence["subtype"] for f in poly} == {"bidirectional"}
    assert all(578.0 <= (f.onset_s or 0.0) <= 633.0 for f in poly)
    assert all(f.severity == "critical" for f in poly)
