"""AF over a whole resting ECG: irregular RR and no P waves on the 12 leads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecg_core.analysis import analyze_record
from ecg_core.resting_af import resting_af
from ecg_core.types import BeatSeries
from ingest.readers import read_record
from models.profile import load_profile


def _beats(rr_ms: list[float], fs_hz: float = 500.0) -> BeatSeries:
    r = np.cumsum(np.r_[300.0, rr_ms]) * fs_hz / 1000.0
    n = r.size
    return BeatSeries(
        r_idx=r.astype(np.intp),
        label=np.full(n, "N").astype(np.str_),
        quality_ok=np.ones(n, bool),
        qrs_ms=np.full(n, 90.0),
        fs_hz=fs_hz,
    )


def test_regular_rhythm_is_never_af() -> None:
    beats = _beats([800.0] * 11)
    x = np.zeros((2, int(beats.r_idx[-1]) + 500))
    assert resting_af(x, beats, p_present_fraction=0.0) is None


def test_unknown_p_waves_make_no_call() -> None:
    beats = _beats([700, 1100, 850, 720, 1450, 520, 1630, 830, 800])
    x = np.zeros((2, int(beats.r_idx[-1]) + 500))
    assert resting_af(x, beats, p_present_fraction=None) is None
    assert resting_af(x, beats, p_present_fraction=0.9) is None  # P waves before most beats


@pytest.mark.parametrize("record", ["51", "173"])
def test_ludb_af_tracings_get_an_af_episode_and_finding(shared_data: Path, record: str) -> None:
    # LUDB 51 and 173: atrial fibrillation at 72-82 /min (9-13 RRs: too few for the
    # Holter detector's windows)
    rec = read_record(shared_data / "ludb" / "data" / f"{record}.hea")
    res = analyze_record(rec, profile=load_profile())
    assert [e.type for e in res.episodes if e.type in ("AFIB", "N", "SBR")] == ["AFIB"]
    assert "AF" in {f.code for f in res.findings}


@pytest.mark.parametrize(
    ("folder", "record"),
    [("ludb/data", "1"), ("ludb/data", "63"), ("cinc2021", "JS20006"), ("cinc2021", "JS20010")],
)
def test_sinus_rhythm_with_arrhythmia_or_pacs_is_not_af(
    shared_data: Path, folder: str, record: str
) -> None:
    # LUDB 63 sinus arrhythmia; CinC 2021 JS20006/JS20010 sinus tachycardia with PACs,
    # whose P waves the delineator misses (P-wave coherence keeps them out)
    rec = read_record(shared_data / folder / f"{record}.hea")
    res = analyze_record(rec, profile=load_profile())
    assert "AFIB" not in {e.type for e in res.episodes}
