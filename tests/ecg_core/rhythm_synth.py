"""Synthetic beat series and signals for the rhythm tests (no real data needed)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ecg_core.types import BeatSeries, SignalSpan

FS_HZ = 250.0


def beats_from_rr(
    rr_s: NDArray[np.float64] | list[float],
    labels: str | list[str] | None = None,
    *,
    start_s: float = 0.5,
    fs_hz: float = FS_HZ,
    noise: tuple[tuple[float, float], ...] = (),
) -> BeatSeries:
    """Beats at ``start_s`` + cumulative RR; labels default to all ``N``."""
    t = start_s + np.concatenate(([0.0], np.cumsum(np.asarray(rr_s, dtype=float))))
    r_idx = np.round(t * fs_hz).astype(np.intp)
    lab = np.array(list(labels) if labels is not None else ["N"] * r_idx.size, dtype="<U1")
    assert lab.size == r_idx.size
    return BeatSeries(
        r_idx=r_idx,
        label=lab,
        quality_ok=np.ones(r_idx.size, dtype=bool),
        qrs_ms=np.full(r_idx.size, 90.0),
        fs_hz=fs_hz,
        unanalysable=tuple(SignalSpan(int(a * fs_hz), int(b * fs_hz), "noise") for a, b in noise),
    )


def ecg_for(
    beats: BeatSeries,
    duration_s: float,
    *,
    p_waves: bool = True,
    seed: int = 0,
    n_leads: int = 2,
) -> NDArray[np.float64]:
    """Gaussian QRS (1 mV) + T wave at each beat, optional P wave 160 ms before, noise."""
    fs = beats.fs_hz
    n = int(duration_s * fs)
    t = np.arange(n) / fs
    x = np.zeros(n)
    rng = np.random.default_rng(seed)
    for k, r in enumerate(beats.r_idx):  # test helper: few hundred beats
        tr = r / fs
        wide = 0.03 if beats.label[k] == "V" else 0.012
        x += np.exp(-((t - tr) ** 2) / (2 * wide**2))
        x += 0.25 * np.exp(-((t - tr - 0.28) ** 2) / (2 * 0.05**2))
        if p_waves and beats.label[k] == "N":
            x += 0.15 * np.exp(-((t - tr + 0.16) ** 2) / (2 * 0.025**2))
    if not p_waves:  # fibrillatory waves, ~6 Hz, random phase drift
        phase = np.cumsum(2 * np.pi * (6.0 + rng.normal(0, 1.0, n)) / fs)
        x += 0.05 * np.sin(phase)
    x += rng.normal(0, 0.01, n)
    return np.vstack([x * (1.0 - 0.2 * i) for i in range(n_leads)])


def vf_signal(duration_s: float, *, fs_hz: float = FS_HZ, seed: int = 0) -> NDArray[np.float64]:
    """Coarse VF-like signal: 5 Hz oscillation with wandering frequency and amplitude."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * fs_hz)
    f = 5.0 + np.convolve(rng.normal(0, 1.0, n), np.ones(50) / 50, mode="same")
    amp = 0.4 + 0.1 * np.sin(2 * np.pi * 0.2 * np.arange(n) / fs_hz)
    x = amp * np.sin(np.cumsum(2 * np.pi * f / fs_hz)) + rng.normal(0, 0.01, n)
    return np.vstack([x, 0.8 * x])
