"""U waves on the median beat (ecg_core.hypokalemia) and the HYPOKALEMIA rules (synthetic)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from ecg_core.hypokalemia import UWaves, u_waves
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import evaluate_profile, missing_evaluators
from ecg_core.types import BeatSeries
from models.leads import STANDARD_12
from models.profile import load_profile
from models.result import Episode, Finding, Measurements

FS_HZ = 500.0
RR_S = 0.75
LEADS = tuple(STANDARD_12)


def _g(t: NDArray[np.float64], mu: float, sd: float) -> NDArray[np.float64]:
    return np.exp(-((t - mu) ** 2) / (2 * sd**2))


def _ecg(
    u_mv: float, t_mv: float, *, u_at_s: float = 0.44, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """10 s, 12 leads: P, QRS, T (peak +260 ms) and U (peak ``u_at_s``) at every beat.

    ``u_mv`` and ``t_mv`` are the U and T heights in V2 and V3; the other leads carry
    ordinary T waves (0.3 mV) and small U waves (0.03 mV).
    """
    n = int(10 * FS_HZ)
    t = np.arange(n) / FS_HZ
    r_s = np.arange(0.4, 9.7, RR_S)
    x = np.zeros((len(LEADS), n))
    for k, lead in enumerate(LEADS):
        tv, uv = (t_mv, u_mv) if lead in ("V2", "V3") else (0.3, 0.03)
        for r in r_s:  # ~13 beats
            x[k] += 0.12 * _g(t, r - 0.16, 0.02)
            x[k] += 1.0 * _g(t, r, 0.010) - 0.25 * _g(t, r + 0.03, 0.010)
            x[k] += tv * _g(t, r + 0.26, 0.045) + uv * _g(t, r + u_at_s, 0.035)
    x += np.random.default_rng(seed).normal(0.0, 0.005, x.shape)
    return x, np.round(r_s * FS_HZ).astype(np.intp)


def _features(u_mv: float, t_mv: float, u_at_s: float = 0.44) -> UWaves:
    x, r = _ecg(u_mv, t_mv, u_at_s=u_at_s)
    return u_waves(x, LEADS, fs_hz=FS_HZ, r_idx=r, labels=np.full(r.size, "N"))


def _findings(
    u: UWaves, *, episodes: tuple[Episode, ...] = (), hr_bpm: float = 80.0
) -> list[Finding]:
    n = 13
    beats = BeatSeries(
        r_idx=np.arange(n, dtype=np.intp) * int(RR_S * FS_HZ),
        label=np.full(n, "N"),
        quality_ok=np.ones(n, dtype=bool),
        qrs_ms=np.full(n, 90.0),
        fs_hz=FS_HZ,
    )
    ctx = RuleContext(
        fs_hz=FS_HZ,
        duration_s=10.0,
        recording="resting",
        leads=LEADS,
        beats=beats,
        episodes=episodes,
        measurements=Measurements(hr_bpm=hr_bpm),
        features={"u_wave": u, "qtc_formula": "bazett"},
    )
    profile = load_profile("cn-2017-national")
    return [f for f in evaluate_profile(profile, ctx) if f.code == "HYPOKALEMIA"]


SVT = (Episode(type="SVTA", onset_s=2.0, offset_s=6.0),)


def test_hypokalemia_has_an_evaluator() -> None:
    assert "HYPOKALEMIA" not in missing_evaluators(load_profile("cn-2017-national"))


def test_prominent_u_wave_is_measured_in_v2_v3() -> None:
    u = _features(u_mv=0.25, t_mv=0.08)
    k = u.leads.index("V2")
    assert u.u_mv[k] == pytest.approx(0.25, abs=0.04)
    assert u.t_mv[k] == pytest.approx(0.08, abs=0.04)
    assert u.u_peak_ms[k] > (u.qt_ms or 0.0)  # after the end of T
    assert u.qu_ms[k] > u.u_peak_ms[k]
    small = u.leads.index("V5")
    assert not (u.u_mv[small] >= 0.1)  # ordinary leads: U small or absent


def test_normal_u_waves_raise_nothing() -> None:
    u = _features(u_mv=0.04, t_mv=0.35)
    assert _findings(u, episodes=SVT) == []


def test_u_wave_only_is_abnormal_not_critical() -> None:
    u = _features(u_mv=0.25, t_mv=0.08)
    found = _findings(u)  # no tachyarrhythmia
    assert [f.severity for f in found] == ["abnormal"]
    assert set(found[0].leads) == {"V2", "V3"}
    assert "confirm K+" in found[0].message


def test_full_pattern_is_critical() -> None:
    u = _features(u_mv=0.25, t_mv=0.08, u_at_s=0.48)  # late U: long QT(U)
    found = _findings(u, episodes=SVT)
    crit = [f for f in found if f.severity == "critical"]
    assert len(crit) == 1
    assert crit[0].evidence["qtu_c_ms"] >= 600.0
    assert "SVTA" in crit[0].evidence["arrhythmia"]
    assert "hypokalaemia pattern" in crit[0].message


def test_prominent_u_with_ordinary_qu_is_not_critical() -> None:
    """U ends at QU(c) ~590 ms: the QU of a normal U wave, not a marked QT(U) prolongation."""
    u = _features(u_mv=0.25, t_mv=0.08, u_at_s=0.42)
    found = _findings(u, episodes=SVT)
    assert [f.severity for f in found] == ["abnormal"]
    assert found[0].evidence["qtu_c_ms"] < 600.0


def test_u_smaller_than_t_is_not_reported() -> None:
    """U >= 0.1 mV but under a tall T: a normal U wave at slow rates, not hypokalaemia."""
    u = _features(u_mv=0.12, t_mv=0.40)
    assert _findings(u, episodes=SVT) == []


def test_without_u_wave_features_the_rule_is_silent() -> None:
    profile = load_profile("cn-2017-national")
    ctx = RuleContext(fs_hz=FS_HZ, duration_s=10.0, recording="resting", leads=LEADS)
    assert [f for f in evaluate_profile(profile, ctx) if f.code == "HYPOKALEMIA"] == []
