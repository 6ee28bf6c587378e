"""Run morphology (ecg_core.rhythm.polymorphic) and the POLYMORPHIC_VT rule, on synthetic runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from numpy.typing import NDArray

from ecg_core.rhythm import analyze_rhythm, params_from_profile
from ecg_core.rhythm.polymorphic import (
    PolymorphicRuns,
    polymorphic_from_rhythm,
    polymorphic_runs,
)
from ecg_core.rhythm.runs import beat_runs
from ecg_core.rules.context import RuleContext
from ecg_core.rules.engine import evaluate_profile, missing_evaluators
from ecg_core.types import BeatSeries
from models.profile import load_profile
from models.result import Finding, Measurements
from tests.ecg_core.rhythm_synth import FS_HZ, beats_from_rr

SINUS_RR_S = 0.8
N_SINUS = 12


def _gauss(t: NDArray[np.float64], w: float) -> NDArray[np.float64]:
    return np.exp(-(t**2) / (2 * w**2))


def _hermite(t: NDArray[np.float64], order: int, w: float = 0.025) -> NDArray[np.float64]:
    """Hermite function of ``order``: QRS shapes that no time shift turns into each other."""

    def raw(u: NDArray[np.float64]) -> NDArray[np.float64]:
        h = [np.ones_like(u), 2 * u, 4 * u**2 - 2, 8 * u**3 - 12 * u, 16 * u**4 - 48 * u**2 + 12]
        return np.asarray(h[order] * np.exp(-(u**2) / 2), dtype=np.float64)

    peak = float(np.abs(raw(np.linspace(-5.0, 5.0, 1001))).max())
    return raw(t / w) / peak


RunWave = Callable[[int, NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]
"""``wave(lead, t_s, beat_t_s)``: run signal at times ``t_s`` (s from the first V beat)."""


def _per_beat(shapes: list[list[tuple[int, float]]]) -> RunWave:
    """Run made of one (Hermite order, sign) complex per beat and lead."""

    def wave(lead: int, t: NDArray[np.float64], beat_t: NDArray[np.float64]) -> NDArray[np.float64]:
        y = np.zeros_like(t)
        for tb, (order, sign) in zip(beat_t, shapes[lead], strict=False):  # ~10 beats
            y += 1.5 * sign * _hermite(t - tb, order)
        return y

    return wave


def _torsades(
    lead: int, t: NDArray[np.float64], beat_t: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Sinusoidal complexes whose envelope twists through zero every 4 beats."""
    rr_s = float(np.mean(np.diff(beat_t)))
    envelope = np.cos(np.pi * t / (4 * rr_s) + 0.4 * lead + 0.3)
    return np.asarray(1.5 * np.cos(2 * np.pi * t / rr_s) * envelope, dtype=np.float64)


def _record(
    run_rr_s: float | list[float],
    n_run: int,
    wave: RunWave,
    n_leads: int = 2,
    *,
    seed: int = 0,
) -> tuple[BeatSeries, NDArray[np.float64]]:
    """Sinus beats, a ventricular run drawn by ``wave``, sinus beats again."""
    run_rr = [run_rr_s] * n_run if isinstance(run_rr_s, float) else run_rr_s
    rr = [SINUS_RR_S] * N_SINUS + run_rr + [SINUS_RR_S] * N_SINUS
    labels = "N" * (N_SINUS + 1) + "V" * n_run + "N" * N_SINUS
    beats = beats_from_rr(rr, labels)
    dur = beats.r_idx[-1] / FS_HZ + 1.0
    t = np.arange(int(dur * FS_HZ)) / FS_HZ
    rng = np.random.default_rng(seed)
    x = np.zeros((n_leads, t.size))
    beat_t = beats.r_idx[N_SINUS + 1 : N_SINUS + 1 + n_run] / FS_HZ
    t0 = beat_t[0]
    span = (t > t0 - 0.15) & (t < beat_t[-1] + 0.15)
    for k in np.flatnonzero(beats.label == "N"):  # test helper: ~25 beats
        tr = beats.r_idx[k] / FS_HZ
        x += _gauss(t - tr, 0.012) + 0.25 * _gauss(t - tr - 0.28, 0.05)
    for lead in range(n_leads):
        x[lead, span] += wave(lead, t[span] - t0, beat_t - t0)
    x += rng.normal(0.0, 0.01, x.shape)
    return beats, x


def _measure(beats: BeatSeries, x: NDArray[np.float64]) -> PolymorphicRuns:
    """Run morphology on the labelled runs (no VF / noise stage involved)."""
    return polymorphic_runs(x, beats, beat_runs(beats, ("V", "F"), min_beats=2))


def _findings(
    beats: BeatSeries, x: NDArray[np.float64], qtc_ms: float | None = None
) -> list[Finding]:
    profile = load_profile("cn-2017-national")
    dur = x.shape[1] / FS_HZ
    leads = ("I", "II", "V2")[: x.shape[0]]
    _, rhythm = analyze_rhythm(
        x, beats, duration_s=dur, leads=leads, params=params_from_profile(profile)
    )
    # the VF detector's verdict on a synthetic run is not under test here
    rhythm = replace(rhythm, vf_onset_s=np.zeros(0), vf_offset_s=np.zeros(0))
    ctx = RuleContext(
        fs_hz=FS_HZ,
        duration_s=dur,
        recording="resting",
        leads=leads,
        beats=beats,
        measurements=Measurements(qtc_ms=qtc_ms),
        features={"rhythm": rhythm, "polymorphic_vt": polymorphic_from_rhythm(x, beats, rhythm)},
    )
    return [f for f in evaluate_profile(profile, ctx) if f.code == "POLYMORPHIC_VT"]


N_RUN = 10
MONO = _per_beat([[(1, 1.0)] * N_RUN, [(0, 1.0)] * N_RUN])
BIDIR = _per_beat([[(0, 1.0), (0, -1.0)] * (N_RUN // 2), [(1, 1.0)] * N_RUN])
#: every beat a different shape in both leads
_CYCLE = [(0, 1.0), (2, 1.0), (4, -1.0), (0, -1.0), (2, -1.0), (4, 1.0)]
POLY = _per_beat([(_CYCLE * 2)[:N_RUN], (_CYCLE * 2)[2 : N_RUN + 2]])


def test_every_profile_code_has_an_evaluator() -> None:
    assert "POLYMORPHIC_VT" not in missing_evaluators(load_profile("cn-2017-national"))


def test_monomorphic_run_is_not_flagged() -> None:
    beats, x = _record(0.33, N_RUN, MONO)
    m = _measure(beats, x)
    assert m.runs.n_beats.tolist() == [N_RUN]
    assert m.consecutive_corr[0] > 0.95
    assert m.pairwise_corr[0] > 0.95
    assert m.inverted_fraction[0] == 0.0
    assert m.alternating_lead_corr[0] > 0.9  # no lead alternates its shape
    assert _findings(beats, x) == []


def test_bidirectional_run_is_flagged_as_bidirectional() -> None:
    beats, x = _record(0.38, N_RUN, BIDIR)
    m = _measure(beats, x)
    assert m.sign_alternation[0] > 0.9
    assert m.alternate_corr[0] > 0.9
    assert m.alternating_lead_corr[0] < 0.0
    assert m.inverted_fraction[0] == 0.0  # one lead alternates, not two: not a twist
    found = _findings(beats, x)
    assert [f.evidence["subtype"] for f in found] == ["bidirectional"]
    assert found[0].severity == "critical"
    assert found[0].value == pytest.approx(60.0 / 0.38, rel=0.05)


def test_irregular_alternation_is_not_bidirectional() -> None:
    """Alternating morphology with short-long RRs (bigeminy-like) is not bidirectional VT."""
    beats, x = _record([0.30, 0.50] * (N_RUN // 2), N_RUN, BIDIR)
    m = _measure(beats, x)
    assert m.sign_alternation[0] > 0.9
    assert m.rr_cv[0] > 0.15
    assert _findings(beats, x) == []


def test_polymorphic_run_is_flagged_but_not_as_torsades() -> None:
    beats, x = _record(0.30, N_RUN, POLY)
    m = _measure(beats, x)
    assert m.consecutive_corr[0] < 0.5
    assert m.pairwise_corr[0] < 0.5
    found = _findings(beats, x, qtc_ms=560.0)
    assert [f.evidence["subtype"] for f in found] == ["polymorphic"]  # no slow twist


def test_torsades_twists_and_needs_a_long_qt() -> None:
    beats, x = _record(0.30, 16, _torsades)
    m = _measure(beats, x)
    assert m.consecutive_corr[0] > 0.5  # neighbours alike ...
    assert m.inverted_fraction[0] > 0.25  # ... but the complexes turn upside down
    assert m.sign_changes[0] >= 2
    assert m.amplitude_modulation[0] > 0.5
    short_qt = _findings(beats, x, qtc_ms=440.0)
    assert [f.evidence["subtype"] for f in short_qt] == ["polymorphic"]
    long_qt = _findings(beats, x, qtc_ms=560.0)
    assert [f.evidence["subtype"] for f in long_qt] == ["torsades"]
    assert long_qt[0].evidence["underlying_qtc_ms"] == 560.0
    assert "torsades" in long_qt[0].message


def test_single_lead_polymorphic_run_is_not_called() -> None:
    """One lead cannot tell movement artefact from a changing QRS (rule param)."""
    beats, x = _record(0.30, N_RUN, POLY, n_leads=1)
    assert _measure(beats, x).pairwise_corr[0] < 0.5
    assert _findings(beats, x) == []


def test_slow_polymorphic_run_is_not_called() -> None:
    """Below ``polymorphic_min_rate_bpm`` (150 /min) polymorphism alone does not fire."""
    beats, x = _record(0.50, N_RUN, POLY)
    assert _findings(beats, x) == []


def test_runs_in_noise_or_vf_and_short_runs_are_skipped() -> None:
    beats, x = _record(0.30, N_RUN, POLY)
    runs = beat_runs(beats, ("V", "F"), min_beats=2)
    on, off = float(runs.onset_s[0]), float(runs.offset_s[0])
    noisy = polymorphic_runs(x, beats, runs, noise_spans_s=np.array([[on + 0.5, on + 1.0]]))
    assert noisy.runs.n_beats.size == 0
    assert noisy.skipped[0][1] == "noise"
    vf = polymorphic_runs(x, beats, runs, vf_spans_s=np.array([[off - 0.5, off + 3.0]]))
    assert vf.skipped[0][1] == "VF episode"
    short_beats, short_x = _record(0.30, 4, POLY)
    assert _measure(short_beats, short_x).runs.n_beats.size == 0
