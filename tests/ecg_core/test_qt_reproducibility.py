"""QT is withheld (null) when its T end is not reproducible between even and odd beats."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.twelve_lead import QT_SPLIT_HALF_MAX_MS, analyze_twelve_lead

FS_HZ = 500.0


def _ecg(t_shift_odd_s: float, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two-lead 60 /min ECG: QRS spike, T wave 0.3 s later (odd beats: later by the shift)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(12 * FS_HZ)) / FS_HZ
    r_s = np.arange(0.6, 11.5, 1.0)
    x = np.zeros_like(t)
    for k, r in enumerate(r_s):
        x += np.exp(-((t - r) ** 2) / (2 * 0.012**2))
        t_at = r + 0.3 + (t_shift_odd_s if k % 2 else 0.0)
        x += 0.3 * np.exp(-((t - t_at) ** 2) / (2 * 0.04**2))
    x += rng.normal(0, 0.005, t.size)
    return np.stack([x, 0.8 * x]), np.round(r_s * FS_HZ).astype(np.intp)


def test_reproducible_t_end_keeps_qt() -> None:
    x, r_idx = _ecg(0.0)
    f = analyze_twelve_lead(x, ("I", "II"), fs_hz=FS_HZ, r_idx=r_idx)
    assert f.qt_withheld is None
    assert f.measures.qt_ms is not None
    assert 300.0 < f.measures.qt_ms < 500.0


@pytest.mark.parametrize("shift_s", [0.1, 0.15])
def test_t_end_moving_between_beats_withholds_qt(shift_s: float) -> None:
    # Given T waves that alternate by more than the reproducibility limit
    assert shift_s * 1000.0 > QT_SPLIT_HALF_MAX_MS
    x, r_idx = _ecg(shift_s)
    # When measured
    f = analyze_twelve_lead(x, ("I", "II"), fs_hz=FS_HZ, r_idx=r_idx)
    # Then QT and every QTc are null, with the reason
    assert f.measures.qt_ms is None
    assert f.measures.qtc_ms == {}
    assert f.qt_withheld is not None
