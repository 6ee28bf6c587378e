"""QT on Holter: window choice (clean, before ventricular runs) and real-record values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecg_core.analysis import analyze_record
from ecg_core.holter_qt import EVERY_S, WINDOW_S, qt_window_onsets
from ecg_core.types import BeatSeries, SignalSpan
from ingest.readers import read_record
from models.profile import load_profile

FS_HZ = 250.0


def _beats(duration_s: float, v_at_s: tuple[float, ...] = ()) -> BeatSeries:
    t_s = np.arange(0.5, duration_s, 1.0)  # 60 /min
    label = np.full(t_s.size, "N")
    for v in v_at_s:
        label[np.argmin(np.abs(t_s - v))] = "V"
    return BeatSeries(
        r_idx=(t_s * FS_HZ).astype(np.intp),
        label=label.astype(np.str_),
        quality_ok=np.ones(t_s.size, bool),
        qrs_ms=np.full(t_s.size, 90.0),
        fs_hz=FS_HZ,
        unanalysable=(SignalSpan(0, int(25 * FS_HZ), "noise"),),
    )


def test_one_clean_window_per_block_and_one_before_each_run() -> None:
    # Given 1 h at 60 /min, noise over the first 25 s, a V beat at 1,234 s and a run at 3,000 s
    beats = _beats(3600.0, v_at_s=(1234.0,))
    onsets, before = qt_window_onsets(beats, duration_s=3600.0, run_onsets_s=np.array([3000.0]))
    trend = onsets[~before]
    # Then the trend has one window per 20 min block, the first avoiding the noise
    assert trend.size == int(3600 // EVERY_S)
    assert trend[0] >= 30.0
    # and no window holds the V beat
    assert not np.any((onsets <= 1234.0) & (onsets + WINDOW_S > 1234.0))
    # and the pre-run window ends before the run, within 5 min of it
    pre = onsets[before]
    assert pre.size == 1
    assert 3000.0 - 300.0 <= pre[0] <= 3000.0 - WINDOW_S


def test_no_clean_window_gives_no_measurement() -> None:
    beats = _beats(600.0, v_at_s=tuple(np.arange(5.0, 600.0, 10.0)))  # a V beat in every bin
    onsets, before = qt_window_onsets(beats, duration_s=600.0, run_onsets_s=np.zeros(0))
    assert onsets.size == 0
    assert before.size == 0


def test_holter_record_gets_a_qt_trend_and_median_qtc(shared_data: Path) -> None:
    # mitdb 101: sinus rhythm, 30 min; a physiological QTc (Bazett) is ~380-460 ms
    rec = read_record(shared_data / "mitdb" / "101.hea")
    res = analyze_record(rec, profile=load_profile(), recording="holter")
    assert res.summary is not None
    qt = res.summary["qt"]
    assert len(qt["trend"]) == 2  # 30 min: two 20 min blocks
    assert res.measurements.qtc_ms is not None
    assert 380.0 <= res.measurements.qtc_ms <= 470.0
    assert qt["formula"] == "bazett"
    assert "LONG_QT" not in {f.code for f in res.findings}
