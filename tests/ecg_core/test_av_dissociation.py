"""Third-degree AV block from AV dissociation on synthetic ECGs (P waves placed by hand)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from ecg_core.rhythm import analyze_rhythm, params_from_profile
from ecg_core.rhythm.av_dissociation import third_degree_block
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import evaluate_profile
from models.profile import load_profile
from tests.ecg_core.rhythm_synth import FS_HZ, beats_from_rr


def _ecg(
    qrs_s: NDArray[np.float64], p_s: NDArray[np.float64], duration_s: float, seed: int
) -> NDArray[np.float64]:
    """QRS (1 mV) + T wave at ``qrs_s``, P waves (0.15 mV) at ``p_s``, wander and noise."""
    t = np.arange(int(duration_s * FS_HZ)) / FS_HZ
    x = np.zeros_like(t)
    for r in qrs_s:
        x += np.exp(-((t - r) ** 2) / (2 * 0.012**2))
        x += 0.25 * np.exp(-((t - r - 0.28) ** 2) / (2 * 0.05**2))
    for p in p_s:
        x += 0.15 * np.exp(-((t - p) ** 2) / (2 * 0.025**2))
    rng = np.random.default_rng(seed)
    x += rng.normal(0, 0.01, t.size) + 0.1 * np.sin(2 * np.pi * 0.25 * t)
    return np.vstack([x, 0.8 * x])


def _case(name: str, duration_s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if name == "complete block 40/75":
        return np.arange(0.7, duration_s - 0.3, 1.5), np.arange(0.2, duration_s, 0.8)
    if name == "complete block 50/90":
        return np.arange(0.7, duration_s - 0.3, 1.2), np.arange(0.35, duration_s, 0.667)
    q = np.arange(0.7, duration_s - 0.3, 1.5 if "2:1" in name else 1.2)
    if name == "2:1 block 40/80":  # every other P conducted, constant PR: not dissociation
        return q, np.sort(np.concatenate([q - 0.18, q - 0.18 + 0.75]))
    return q, q - 0.16  # sinus bradycardia 50 /min, PR 160 ms


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("duration_s", [10.0, 20.0])
@pytest.mark.parametrize(
    ("name", "dissociated"),
    [
        ("complete block 40/75", True),
        ("complete block 50/90", True),
        ("2:1 block 40/80", False),
        ("sinus bradycardia 50", False),
    ],
)
def test_dissociation_found_only_in_complete_block(
    name: str, dissociated: bool, duration_s: float, seed: int
) -> None:
    # Given a slow regular ventricular rhythm with P waves placed by the case
    qrs, p = _case(name, duration_s)
    beats = beats_from_rr(np.diff(qrs), start_s=float(qrs[0]))
    # When AV dissociation is looked for
    td = third_degree_block(_ecg(qrs, p[p > 0], duration_s, seed), beats)
    # Then only complete block shows it, with the atrial and ventricular rates
    assert (td.onset_s.size > 0) is dissociated
    if dissociated:
        atrial = 60.0 / float(np.median(np.diff(p)))
        ventricular = 60.0 / float(np.median(np.diff(qrs)))
        assert np.allclose(td.atrial_bpm, atrial, rtol=0.05)
        assert np.allclose(td.ventricular_bpm, ventricular, rtol=0.05)


@pytest.mark.parametrize(("rr_s", "severity"), [(1.7, "critical"), (1.2, "abnormal")])
def test_complete_block_finding_severity_follows_escape_rate(rr_s: float, severity: str) -> None:
    # Given a 12 s resting ECG in complete heart block: P 78 /min, escape 35 or 50 /min
    qrs = np.arange(0.7, 11.7, rr_s)
    p = np.arange(0.2, 12.0, 0.77)
    beats = beats_from_rr(np.diff(qrs), start_s=float(qrs[0]))
    x = _ecg(qrs, p, 12.0, 0)
    profile = load_profile()
    eps, feats = analyze_rhythm(
        x, beats, duration_s=12.0, leads=("I", "II"), params=params_from_profile(profile)
    )
    ctx = RuleContext(
        fs_hz=FS_HZ,
        duration_s=12.0,
        recording="resting",
        leads=("I", "II"),
        beats=beats,
        episodes=tuple(eps),
        features={"rhythm": feats},
    )
    # When the profile is evaluated
    found = [f for f in evaluate_profile(profile, ctx) if f.code == "AV_BLOCK_3"]
    # Then a BIII episode and one AV_BLOCK_3 finding: critical below 40 /min (consensus)
    assert any(e.type == "BIII" for e in eps)
    assert len(found) == 1
    assert found[0].severity == severity
    assert found[0].value == pytest.approx(60.0 / rr_s, rel=0.05)
    assert found[0].evidence["atrial_rate_bpm"] == pytest.approx(60.0 / 0.77, rel=0.05)
