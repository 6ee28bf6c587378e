"""Per-lead, per-block signal quality for QRS detection (vectorised over leads and blocks).

A lead's quality in a 3 s block is judged on its QRS-band energy envelope (the MWI of
:mod:`ecg_core.qrs.detect`): clean ECG concentrates that energy in short QRS bursts, so
the block median is a small fraction of the block maximum; broadband noise, EMG bursts
and fibrillatory waves fill the block, and a disconnected (flat) lead has almost no energy.
Block-based noise estimation of this kind follows the "relative noise level" SQIs of
Clifford et al., Physiol Meas 2012;33:1419 (bSQI/kSQI family), simplified to a
median/maximum ratio that costs one partition per block.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import percentile_filter

__all__ = ["BLOCK_S", "block_weights", "interp_blocks", "peak_level", "running_level"]

#: Block length for running levels and quality, s (>= one RR at 25 bpm is 2.4 s).
BLOCK_S = 3.0
#: Running-level span, blocks (5 x 3 s = 15 s), robust to one noisy block.
LEVEL_BLOCKS = 5
#: Percentile of the block levels taken as the running level.
LEVEL_PERCENTILE = 30.0
#: Quantile of the block energy taken as its noise floor (below the QRS duty cycle up to
#: ~200 bpm, so it falls between complexes).
_FLOOR_QUANTILE = 0.3
#: Floor/level energy ratio at or below which a block is clean (weight 1) ...
_CLEAN_RATIO = 0.03
#: ... and at or above which it is noise (weight 0). Set on MIT-BIH DS1 noise segments.
_NOISE_RATIO = 0.15
#: Block maximum / running level (energy) under which a lead has lost its QRS (amplitude
#: under ~20 % of usual) while another lead at or above ``_PRESENT_RATIO`` still shows it.
_LOST_RATIO = 0.05
_PRESENT_RATIO = 0.5
#: Block QRS-band energy level below which a lead counts as flat, (mV/s)^2: an R wave
#: of ~0.05 mV (the 10 uV-class "lead off" floor of IEC 60601-2-47 ambulatory recorders
#: times a 5x margin) gives a level of about this size after the 5-25 Hz band-pass.
FLAT_LEVEL = 0.5


def _blocks(x: NDArray[np.float64], block: int) -> NDArray[np.float64]:
    """Cut ``(n_leads, n)`` into ``(n_leads, n_blocks, block)``; the last block ends at ``n``."""
    n = x.shape[-1]
    n_blocks = max(1, -(-n // block))
    pad = n_blocks * block - n
    if not pad:
        return x.reshape(x.shape[0], n_blocks, block)
    if n < block:
        return np.pad(x, ((0, 0), (0, pad)), mode="wrap").reshape(x.shape[0], 1, block)
    # the partial last block is the record's last full block length of real samples
    # (overlapping the previous block), so its statistics are those of real signal
    full = x[:, : (n_blocks - 1) * block].reshape(x.shape[0], n_blocks - 1, block)
    return np.concatenate([full, x[:, np.newaxis, n - block :]], axis=1)


def _robust_running(per_block: NDArray[np.float64]) -> NDArray[np.float64]:
    """Low rank (30th percentile) over ``LEVEL_BLOCKS`` blocks.

    Up to two blocks raised by ectopic beats or artefact do not lift the level.
    """
    out: NDArray[np.float64] = percentile_filter(
        per_block, LEVEL_PERCENTILE, size=(1, LEVEL_BLOCKS), mode="reflect"
    )
    return out


def running_level(x: NDArray[np.float64], block: int, *, q: float) -> NDArray[np.float64]:
    """Robust running value (see ``_robust_running``) of each block's ``q`` quantile.

    Parameters
    ----------
    x : ndarray, shape (n_leads, n)
        Non-negative envelope.
    block : int
        Block length, samples.
    q : float
        Quantile in [0, 1]; 1 is the block maximum.

    Returns
    -------
    ndarray, shape (n_leads, n_blocks)
        Robust running level per block.
    """
    b = _blocks(x, block)
    if q >= 1.0:
        per_block = b.max(axis=-1)
    else:  # quantile of every 2nd sample: the envelope is smooth over 100 ms
        sub = b[..., ::2]
        kth = int(q * (sub.shape[-1] - 1))
        per_block = np.partition(sub, kth, axis=-1)[..., kth]
    return _robust_running(per_block)


def peak_level(x: NDArray[np.float64], block: int, *, slots: int, k: int) -> NDArray[np.float64]:
    """Running QRS level: the ``k``-th largest slot maximum over ``LEVEL_BLOCKS`` blocks.

    Each block is cut into ``slots`` slots (about one refractory period each); the level of a
    block is the ``k``-th largest slot maximum in the window of ``LEVEL_BLOCKS`` blocks
    centred on it (reflected at the ends). With ``k`` set to the number of beats that the
    lowest supported rate would place in the window, the level is that of a typical beat,
    not of the largest (ectopic or artefact) ones, and it needs no learning period: a 10 s
    record gets its level from its own beats.

    Parameters
    ----------
    x : ndarray, shape (n_leads, n)
        Non-negative envelope.
    block : int
        Block length, samples (a multiple of ``slots`` is not required).
    slots : int
        Slots per block.
    k : int
        Rank from the top, >= 1.

    Returns
    -------
    ndarray, shape (n_leads, n_blocks)
        Level per block.
    """
    b = _blocks(x, block)  # (n_leads, n_blocks, block)
    slot = block // slots
    smax = b[..., : slot * slots].reshape(b.shape[0], b.shape[1], slots, slot).max(axis=-1)
    half = LEVEL_BLOCKS // 2
    padded = np.pad(smax, ((0, 0), (half, half), (0, 0)), mode="reflect")
    win = np.lib.stride_tricks.sliding_window_view(padded, LEVEL_BLOCKS, axis=1)
    win = win.reshape(smax.shape[0], smax.shape[1], -1)  # (n_leads, n_blocks, 5 * slots)
    kk = min(k, win.shape[-1])
    out: NDArray[np.float64] = np.partition(win, -kk, axis=-1)[..., -kk]
    return out


def block_weights(
    mwi: NDArray[np.float64], block: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Running QRS level, quality weight and flat flag per lead and block.

    Parameters
    ----------
    mwi : ndarray, shape (n_leads, n)
        QRS-band energy envelope, (mV/s)^2.
    block : int
        Block length, samples.

    Returns
    -------
    level : ndarray, shape (n_leads, n_blocks)
        Running QRS level (low rank of block maxima), (mV/s)^2.
    weight : ndarray, shape (n_leads, n_blocks)
        Quality weight in [0, 1]; 0 for noise or flat blocks.
    flat : ndarray of bool, shape (n_leads, n_blocks)
        Block has almost no QRS-band energy (lead off).
    """
    b = _blocks(mwi, block)
    bmax = b.max(axis=-1)
    sub = b[..., ::2]  # the envelope is smooth over 100 ms: every 2nd sample suffices
    kth = int(_FLOOR_QUANTILE * (sub.shape[-1] - 1))
    bmed = np.partition(sub, kth, axis=-1)[..., kth]
    flat = bmax < FLAT_LEVEL
    # flat (lead-off) blocks say nothing about the QRS level: they take the lead's typical
    # block maximum, so the level next to a lead-off stretch is that of the real beats
    if flat.any() and not flat.all():
        typical = np.array(
            [
                np.median(m[~f]) if (~f).any() else FLAT_LEVEL
                for m, f in zip(bmax, flat, strict=True)
            ]
        )
        level = _robust_running(np.where(flat, typical[:, np.newaxis], bmax))
    else:
        level = _robust_running(bmax)
    ratio = bmed / np.maximum(level, 1e-12)
    weight = np.clip((_NOISE_RATIO - ratio) / (_NOISE_RATIO - _CLEAN_RATIO), 0.0, 1.0)
    weight[flat] = 0.0
    # a lead whose block maximum collapsed while another lead still shows its usual QRS
    # has lost the signal (saturated, disconnected electrode): it must not vote
    rel = bmax / np.maximum(level, 1e-12)
    lost = (rel < _LOST_RATIO) & (rel.max(axis=0, keepdims=True) >= _PRESENT_RATIO)
    weight[lost] = 0.0
    return level, weight, flat


def interp_blocks(vals: NDArray[np.float64], block: int, n: int) -> NDArray[np.float64]:
    """Linearly interpolate per-block values to every sample (block centres as knots).

    Parameters
    ----------
    vals : ndarray, shape (n_leads, n_blocks)
        Values per block.
    block : int
        Block length, samples.
    n : int
        Number of samples to produce.

    Returns
    -------
    ndarray, shape (n_leads, n)
        Interpolated values.
    """
    centres = (np.arange(vals.shape[1]) + 0.5) * block
    t = np.arange(n, dtype=np.float64)
    return np.stack([np.interp(t, centres, v) for v in vals])
