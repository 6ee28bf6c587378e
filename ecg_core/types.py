"""Dataclasses passed between core stages (QRS -> beats -> rhythm / delineation -> rules)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["BeatSeries", "SignalSpan"]


@dataclass(frozen=True)
class SignalSpan:
    """A span of the record, in samples, with the reason it is special.

    Attributes
    ----------
    start_idx, end_idx : int
        Sample indices, end exclusive.
    reason : str
        E.g. ``noise``, ``lead_off``, ``gap``.
    """

    start_idx: int
    end_idx: int
    reason: str


@dataclass(frozen=True)
class BeatSeries:
    """Detected beats of one record.

    Attributes
    ----------
    r_idx : ndarray of intp, shape (n_beats,)
        R-peak (QRS fiducial) sample indices, strictly increasing.
    label : ndarray of str, shape (n_beats,)
        AAMI class per beat: ``N``, ``S``, ``V``, ``F`` or ``Q``.
    quality_ok : ndarray of bool, shape (n_beats,)
        True where the beat lies in signal of acceptable quality.
    qrs_ms : ndarray of float64, shape (n_beats,)
        Estimated QRS width per beat in ms (NaN when not estimated).
    fs_hz : float
        Sampling rate the indices refer to, Hz.
    unanalysable : tuple of SignalSpan
        Spans where no beat could be trusted (noise, lead off); never filled with beats.
    """

    r_idx: NDArray[np.intp]
    label: NDArray[np.str_]
    quality_ok: NDArray[np.bool_]
    qrs_ms: NDArray[np.float64]
    fs_hz: float
    unanalysable: tuple[SignalSpan, ...] = ()

    @property
    def rr_ms(self) -> NDArray[np.float64]:
        """RR intervals in ms, shape (n_beats - 1,)."""
        return np.diff(self.r_idx).astype(np.float64) * (1000.0 / self.fs_hz)

    def __len__(self) -> int:
        return int(self.r_idx.size)
