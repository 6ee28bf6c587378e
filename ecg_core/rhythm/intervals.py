"""Vectorised helpers on boolean masks and time intervals (no per-sample Python loops)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["close_gaps", "drop_short", "true_runs"]


def true_runs(mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Start and end (exclusive) indices of the runs of True in ``mask``.

    Parameters
    ----------
    mask : ndarray of bool, shape (n,)
        Boolean sequence.

    Returns
    -------
    starts, ends : ndarray of intp, shape (n_runs,)
        ``mask[starts[k]:ends[k]]`` is all True and maximal.

    Examples
    --------
    >>> s, e = true_runs(np.array([0, 1, 1, 0, 1], dtype=bool))
    >>> s.tolist(), e.tolist()
    ([1, 4], [3, 5])
    """
    m = np.asarray(mask, dtype=bool)
    if not m.any():  # the common case on most records: no run, skip the edge search
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    padded = np.zeros(m.size + 2, dtype=np.int8)
    padded[1:-1] = m.ravel()
    d = np.diff(padded)
    return np.flatnonzero(d == 1).astype(np.intp), np.flatnonzero(d == -1).astype(np.intp)


def close_gaps(
    starts: NDArray[np.float64], ends: NDArray[np.float64], *, max_gap: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Merge sorted intervals separated by at most ``max_gap`` (same unit as the bounds).

    Parameters
    ----------
    starts, ends : ndarray of float64, shape (n,)
        Sorted, non-overlapping interval bounds.
    max_gap : float
        Largest gap that is bridged.

    Returns
    -------
    starts, ends : ndarray of float64, shape (n_merged,)
        Merged intervals.
    """
    s = np.asarray(starts, dtype=np.float64)
    e = np.asarray(ends, dtype=np.float64)
    if s.size == 0:
        return s, e
    new = np.concatenate(([True], s[1:] - e[:-1] > max_gap))
    group = np.cumsum(new) - 1
    n = int(group[-1]) + 1
    out_s = s[new]
    out_e = np.full(n, -np.inf)
    np.maximum.at(out_e, group, e)
    return out_s, out_e


def drop_short(
    starts: NDArray[np.float64], ends: NDArray[np.float64], *, min_len: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Keep intervals at least ``min_len`` long."""
    keep = (ends - starts) >= min_len
    return starts[keep], ends[keep]
