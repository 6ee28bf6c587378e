"""Per-lead Q waves are stored in the result, so a later comparison reads them.

LUDB 7 (man, 50 y; evolving anterior Q-wave MI, Q in V2) as the earlier ECG; the later
ECG is the same record with a SYNTHETIC 0.3 mV ST elevation in V1-V4
(tests/ecg_core/st_elevation_synth.py).
"""

from __future__ import annotations

from pathlib import Path

from ecg_core.analysis import analyze_record
from ecg_core.comparison import stored_ecg
from ecg_core.rules.comparison_rules import compare_with_prior
from ingest.readers import read_record
from models.profile import load_profile
from tests.ecg_core.st_elevation_synth import with_st_elevation


def test_ludb7_stores_its_q_waves_and_the_comparison_reads_them(samples_dir: Path) -> None:
    # Given LUDB 7 analysed as usual
    profile = load_profile("cn-2017-national")
    rec = read_record(samples_dir / "ludb7.hea")
    old = analyze_record(rec, profile=profile)
    extra = old.measurements.extra
    # Then Q duration and depth are stored per measured lead, the V2 Q being pathological
    # (4th UDMI: any Q > 20 ms in V2-V3)
    assert set(extra["q_ms"]) == set(extra["r_mv"]) == set(extra["q_mv"])
    assert extra["q_ms"]["V2"] > 20.0
    assert extra["q_mv"]["V2"] > 0.1
    # When a later ECG with anterior ST elevation is compared with the stored result
    prior = stored_ecg(old.model_dump(mode="json"), recorded_at="2026-11-01T08:00:00+00:00")
    assert prior is not None
    new = analyze_record(
        with_st_elevation(rec, ("V1", "V2", "V3", "V4"), 0.3, record_id="ludb7-ste"),
        profile=profile,
    )
    out = compare_with_prior(new, prior, profile, recorded_at="2026-11-10T08:00:00+00:00")
    # Then the old infarct pattern comes from the stored measures
    assert out.comparison is not None
    assert out.comparison["q_source"] == "measures"
    assert "V2" in out.comparison["old_infarct_q"]["anterior"]
