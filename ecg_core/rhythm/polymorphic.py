"""Beat-to-beat QRS morphology inside ventricular runs: polymorphic, bidirectional, torsades.

Definitions (ACC/AHA/ESC 2006 guidelines for ventricular arrhythmias, Zipes et al.,
Circulation 2006;114:e385, table 2):

- *Polymorphic VT*: VT with a changing or multiform QRS configuration from beat to beat.
- *Torsades de pointes*: polymorphic VT with long QT (or QTc) and "twisting" of the
  QRS peaks around the baseline (the dominant deflection reverses polarity and the
  amplitude waxes and wanes over the run).
- *Bidirectional VT*: VT with a beat-to-beat alternation in the frontal QRS axis (every
  other beat has the other polarity), typical of digitalis toxicity and CPVT.

This module only measures; the rule (:mod:`ecg_core.rules.polymorphic_rules`) decides
with thresholds from the profile. Every ventricular run of at least
:data:`MIN_RUN_BEATS` beats is measured when it lies in clean signal (all beats of good
quality, no unanalysable span, no VF episode overlapping: VF is reported by its own
rule and a VF stretch cut into "beats" looks polymorphic by construction).

Per run and per lead, on a 1-40 Hz band-passed copy of the run:

- ``consecutive_corr``: median over consecutive beat pairs of the best normalised
  correlation of their QRS windows (+/- 80 ms around R) within a +/- 24 ms lag (R
  fiducials jitter inside wide, bizarre complexes). Monomorphic VT keeps it near 1.
- ``pairwise_corr``: median of that correlation over *all* pairs of beats of the run
  (the typical pair of complexes of a monomorphic run is alike).
- ``inverted_fraction``: share of the pairs that are inverted copies (correlation <=
  :data:`INVERTED_CORR`). Torsades changes the QRS progressively (neighbours may still
  look alike while beats half a twist apart are inverted), so a run whose complexes
  turn upside down in groups is polymorphic even when its median pair is alike.
  Torsades changes the QRS progressively (neighbours may still look alike while beats
  half a twist apart are inverted), so "changing configuration" is judged on all pairs:
  in monomorphic VT every pair is alike.
- ``alternate_corr``: the same for beats two apart (high in bidirectional VT, where
  every other beat is alike).
- ``sign_alternation``: share of consecutive beat pairs whose dominant deflection
  (largest absolute sample of the window) has opposite polarity.
- ``sign_changes``: polarity reversals of the dominant deflection along the run after
  merging single-beat blips (torsades: the peaks twist, so the polarity reverses in
  slow groups, not every beat).
- ``amplitude_modulation``: (90th - 10th percentile) / median of the beats' peak-to-peak
  amplitudes (waxing and waning envelope of torsades).

Run-level values take the lead that argues *against* polymorphism (the highest
consecutive / pairwise correlation: a monomorphic run is monomorphic in every lead, while noise
in one lead can make only that lead look polymorphic), and the lead with the strongest
alternation for the bidirectional measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecg_core.filters import bandpass
from ecg_core.rhythm.features import RhythmFeatures
from ecg_core.rhythm.runs import BeatRuns
from ecg_core.types import BeatSeries

__all__ = [
    "MIN_RUN_BEATS",
    "PolymorphicRuns",
    "corr_matrix",
    "measure_run_morphology",
    "polymorphic_from_rhythm",
    "polymorphic_runs",
]

#: Shortest ventricular run measured. Five beats give four consecutive pairs, the least
#: for a median that one odd beat (fusion, noise) cannot move; a 3-4 beat salvo cannot
#: show "changing configuration" reliably. Technical choice.
MIN_RUN_BEATS = 5
#: QRS window half-width around the R fiducial, s (as the PVC-family templates,
#: :mod:`ecg_core.rhythm.morphology`).
HALF_WINDOW_S = 0.08
#: Largest lag searched when correlating two complexes, s.
MAX_LAG_S = 0.024
#: Band of the copy the windows are taken from, Hz: baseline wander and mains /
#: muscle noise out, QRS shape in.
BAND_HZ = (1.0, 40.0)
#: Signal kept either side of a run, s: filter edge effects, and the conducted beats
#: whose QRS amplitude the run's is compared with (``amplitude_ratio``).
PAD_S = 3.0
#: Correlations are computed among the first this many beats of a run (pairs grow as n^2).
MAX_PAIR_BEATS = 64
#: Two complexes correlating at most this much (after the best lag) are inverted copies
#: of each other (the "twist" of torsades); technical constant.
INVERTED_CORR = -0.3
#: At most this many runs are measured per record (the longest first).
MAX_RUNS = 200


@dataclass(frozen=True)
class PolymorphicRuns:
    """Morphology measures of the ventricular runs; ``ctx.features["polymorphic_vt"]``.

    Arrays have shape ``(n_runs,)`` and follow ``runs`` (the measured runs, a subset of
    the rhythm stage's ``v_runs``).

    Attributes
    ----------
    runs : BeatRuns
        Runs measured (>= :data:`MIN_RUN_BEATS` beats, clean, outside VF).
    consecutive_corr : ndarray
        Run value of the consecutive-beat QRS correlation (highest lead), NaN if unmeasured.
    pairwise_corr : ndarray
        Median correlation over all pairs of beats of the run (first
        :data:`MAX_PAIR_BEATS`), in the lead where it is highest.
    inverted_fraction : ndarray
        Share of the pairs that are inverted copies, in the lead where it is second
        highest (at least two leads must show the twist; the only lead of a one-lead
        record).
    alternate_corr : ndarray
        Correlation of beats two apart in the most alternating lead.
    alternating_lead_corr : ndarray
        Consecutive-beat correlation in that same lead (negative when the polarity flips).
    sign_alternation : ndarray
        Share of consecutive pairs with opposite dominant polarity (most alternating lead).
    sign_changes : ndarray of intp
        Polarity reversals in slow groups (lead with the largest QRS amplitude).
    amplitude_modulation : ndarray
        Envelope modulation of the peak-to-peak amplitude (lead with the largest QRS).
    rr_cv : ndarray
        Coefficient of variation of the RR intervals inside the run.
    amplitude_ratio : ndarray
        Median QRS peak-to-peak amplitude of the run over that of the good-quality ``N``
        beats within :data:`PAD_S` of it, in the lead where the run is largest (NaN
        without such beats). Ventricular complexes are larger than conducted ones, but
        rarely by an order of magnitude; movement artefact cut into "beats" often is.
    n_leads : int
        Leads the measures were taken on.
    skipped : tuple of (int, str)
        ``(v_runs index, reason)`` of the long-enough runs not measured.
    """

    runs: BeatRuns
    consecutive_corr: NDArray[np.float64]
    pairwise_corr: NDArray[np.float64]
    inverted_fraction: NDArray[np.float64]
    alternate_corr: NDArray[np.float64]
    alternating_lead_corr: NDArray[np.float64]
    sign_alternation: NDArray[np.float64]
    sign_changes: NDArray[np.intp]
    amplitude_modulation: NDArray[np.float64]
    rr_cv: NDArray[np.float64]
    amplitude_ratio: NDArray[np.float64]
    n_leads: int = 1
    skipped: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class _LeadMeasures:
    consecutive_corr: float
    alternate_corr: float
    pairwise_corr: float
    inverted_fraction: float
    sign_alternation: float
    sign_changes: int
    amplitude_modulation: float
    amplitude_mv: float


def _windows(x: NDArray[np.float64], r_idx: NDArray[np.intp], half: int) -> NDArray[np.float64]:
    offs = np.arange(-half, half + 1)
    idx = np.clip(r_idx[:, None] + offs[None, :], 0, x.size - 1)
    return np.asarray(x[idx], dtype=np.float64)


def _p2p(x: NDArray[np.float64], r_idx: NDArray[np.intp], fs_hz: float) -> NDArray[np.float64]:
    """Peak-to-peak amplitude of each beat's QRS window, per lead: shape (n_leads, n_beats)."""
    half = max(2, round(HALF_WINDOW_S * fs_hz))
    offs = np.arange(-half, half + 1)
    idx = np.clip(r_idx[:, None] + offs[None, :], 0, x.shape[-1] - 1)
    w = x[:, idx]  # (n_leads, n_beats, n_off)
    return np.asarray(w.max(axis=2) - w.min(axis=2), dtype=np.float64)


def _amplitude_ratio(
    x: NDArray[np.float64], run_r: NDArray[np.intp], ref_r: NDArray[np.intp], fs_hz: float
) -> float:
    if ref_r.size == 0:
        return float("nan")
    run = np.median(_p2p(x, run_r, fs_hz), axis=1)
    ref = np.median(_p2p(x, ref_r, fs_hz), axis=1)
    k = int(np.argmax(run))
    return float(run[k] / ref[k]) if ref[k] > 0 else float("nan")


def _unit(w: NDArray[np.float64]) -> NDArray[np.float64]:
    w = w - w.mean(axis=-1, keepdims=True)
    return np.asarray(w / np.maximum(np.linalg.norm(w, axis=-1, keepdims=True), 1e-12))


def corr_matrix(
    x: NDArray[np.float64], r_idx: NDArray[np.intp], fs_hz: float
) -> NDArray[np.float64]:
    """Lag-aligned QRS correlation of every pair of beats of one lead.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        One band-passed lead, mV.
    r_idx : ndarray of intp, shape (n_beats,)
        R fiducials.
    fs_hz : float
        Sampling rate, Hz.

    Returns
    -------
    ndarray, shape (n_beats, n_beats)
        ``C[i, j]``: the largest normalised correlation of beat ``i``'s window
        (+/- :data:`HALF_WINDOW_S`) with beat ``j``'s window shifted by up to
        +/- :data:`MAX_LAG_S` (symmetrised).
    """
    half = max(2, round(HALF_WINDOW_S * fs_hz))
    max_lag = max(1, round(MAX_LAG_S * fs_hz))
    w0 = _unit(_windows(x, r_idx, half))
    best = np.full((r_idx.size, r_idx.size), -1.0)
    for lag in range(-max_lag, max_lag + 1):  # ~13 lags at 250 Hz, each one matrix product
        best = np.maximum(best, w0 @ _unit(_windows(x, r_idx + lag, half)).T)
    return np.asarray(np.maximum(best, best.T), dtype=np.float64)


def _slow_sign_changes(sign: NDArray[np.float64]) -> int:
    """Polarity reversals after dropping groups of a single beat (blips)."""
    s = sign[sign != 0]
    if s.size < 2:
        return 0
    edges = np.flatnonzero(np.diff(s) != 0) + 1
    groups = np.split(s, edges)
    kept = [g[0] for g in groups if g.size >= 2]
    return int(np.count_nonzero(np.diff(np.asarray(kept))) if len(kept) >= 2 else 0)


def _lead_measures(x: NDArray[np.float64], r_idx: NDArray[np.intp], fs_hz: float) -> _LeadMeasures:
    half = max(2, round(HALF_WINDOW_S * fs_hz))
    r = r_idx[:MAX_PAIR_BEATS]
    c = corr_matrix(x, r, fs_hz)
    n = r.size
    w = _windows(x, r_idx, half)
    w = w - np.median(w, axis=1, keepdims=True)
    peak = w[np.arange(r_idx.size), np.argmax(np.abs(w), axis=1)]
    sign = np.sign(peak)
    p2p = w.max(axis=1) - w.min(axis=1)
    med = float(np.median(p2p))
    q10, q90 = np.percentile(p2p, [10.0, 90.0])
    return _LeadMeasures(
        consecutive_corr=float(np.median(np.diagonal(c, 1))),
        alternate_corr=float(np.median(np.diagonal(c, 2))) if n > 2 else float("nan"),
        pairwise_corr=float(np.median(c[np.triu_indices(n, 1)])),
        inverted_fraction=float(np.mean(c[np.triu_indices(n, 1)] <= INVERTED_CORR)),
        sign_alternation=float(np.mean(sign[1:] * sign[:-1] < 0)),
        sign_changes=_slow_sign_changes(sign),
        amplitude_modulation=float((q90 - q10) / med) if med > 0 else float("nan"),
        amplitude_mv=med,
    )


def measure_run_morphology(
    band_mv: NDArray[np.float64],
    r_idx: NDArray[np.intp],
    fs_hz: float,
) -> tuple[float, float, float, float, float, float, int, float]:
    """Morphology measures of one run (see the module docstring).

    Parameters
    ----------
    band_mv : ndarray, shape (n_leads, n_samples)
        Band-passed (:data:`BAND_HZ`) signal around the run, mV.
    r_idx : ndarray of intp, shape (n_beats,)
        R fiducials of the run's beats, in samples of the span.
    fs_hz : float
        Sampling rate, Hz.

    Returns
    -------
    tuple
        consecutive_corr, pairwise_corr, inverted_fraction, alternate_corr,
        alternating_lead_corr,
        sign_alternation,
        sign_changes, amplitude_modulation (lead choices in the module docstring).
    """
    per = [_lead_measures(np.asarray(x, dtype=np.float64), r_idx, fs_hz) for x in band_mv]
    mono = max(per, key=lambda m: m.consecutive_corr)
    pair = max(per, key=lambda m: m.pairwise_corr)
    inverted = sorted((m.inverted_fraction for m in per), reverse=True)[min(1, len(per) - 1)]
    alt = max(per, key=lambda m: (m.sign_alternation, m.alternate_corr))
    big = max(per, key=lambda m: m.amplitude_mv)
    return (
        mono.consecutive_corr,
        pair.pairwise_corr,
        inverted,
        alt.alternate_corr,
        alt.consecutive_corr,
        alt.sign_alternation,
        big.sign_changes,
        big.amplitude_modulation,
    )


def _overlaps(on: float, off: float, spans: NDArray[np.float64]) -> bool:
    if spans.size == 0:
        return False
    s = spans.reshape(-1, 2)
    return bool(np.any((s[:, 0] < off) & (on < s[:, 1])))


def polymorphic_runs(
    signal_mv: NDArray[np.float64],
    beats: BeatSeries,
    v_runs: BeatRuns,
    *,
    noise_spans_s: NDArray[np.float64] | None = None,
    vf_spans_s: NDArray[np.float64] | None = None,
) -> PolymorphicRuns:
    """Measure QRS morphology change inside every clean ventricular run.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        Usable leads, mV, no NaN (the analysed signal).
    beats : BeatSeries
        Detected, classified beats.
    v_runs : BeatRuns
        Ventricular runs of the rhythm stage (``RhythmFeatures.v_runs``).
    noise_spans_s, vf_spans_s : ndarray, shape (n, 2), optional
        Unanalysable spans and VF/VFL episodes, s; overlapping runs are skipped.

    Returns
    -------
    PolymorphicRuns
        Measures per measured run, and the long runs skipped with the reason.
    """
    fs = beats.fs_hz
    x = np.atleast_2d(np.asarray(signal_mv, dtype=np.float64))
    noise = np.zeros((0, 2)) if noise_spans_s is None else np.asarray(noise_spans_s, float)
    vf = np.zeros((0, 2)) if vf_spans_s is None else np.asarray(vf_spans_s, float)
    long_runs = np.flatnonzero(v_runs.n_beats >= MIN_RUN_BEATS)
    long_runs = long_runs[np.argsort(-v_runs.n_beats[long_runs], kind="stable")][:MAX_RUNS]
    long_runs = np.sort(long_runs)
    keep: list[int] = []
    cols: list[tuple[float, ...]] = []
    skipped: list[tuple[int, str]] = []
    pad = round(PAD_S * fs)
    for k in long_runs:
        a, b = int(v_runs.first[k]), int(v_runs.last[k])
        on, off = float(v_runs.onset_s[k]), float(v_runs.offset_s[k])
        if not bool(np.all(beats.quality_ok[a : b + 1])):
            skipped.append((int(k), "beat quality"))
            continue
        if _overlaps(on, off, noise):
            skipped.append((int(k), "noise"))
            continue
        if _overlaps(on, off, vf):
            skipped.append((int(k), "VF episode"))
            continue
        r = beats.r_idx[a : b + 1]
        lo, hi = max(0, int(r[0]) - pad), min(x.shape[1], int(r[-1]) + pad)
        seg = bandpass(x[:, lo:hi], fs_hz=fs, band_hz=BAND_HZ)
        rr = np.diff(r).astype(np.float64)
        rr_cv = float(np.std(rr) / np.mean(rr)) if rr.size and np.mean(rr) > 0 else np.nan
        near = np.flatnonzero(
            (beats.r_idx >= lo + pad // 10)
            & (beats.r_idx < hi - pad // 10)
            & (beats.label == "N")
            & beats.quality_ok
        )
        ratio = _amplitude_ratio(seg, r - lo, beats.r_idx[near] - lo, fs)
        cols.append((*measure_run_morphology(seg, r - lo, fs), rr_cv, ratio))
        keep.append(int(k))
    mask = np.zeros(v_runs.n_beats.size, dtype=bool)
    mask[keep] = True
    arr = np.array(cols, dtype=np.float64).reshape(-1, 10)
    return PolymorphicRuns(
        runs=v_runs.select(mask),
        consecutive_corr=arr[:, 0].copy(),
        pairwise_corr=arr[:, 1].copy(),
        inverted_fraction=arr[:, 2].copy(),
        alternate_corr=arr[:, 3].copy(),
        alternating_lead_corr=arr[:, 4].copy(),
        sign_alternation=arr[:, 5].copy(),
        sign_changes=arr[:, 6].astype(np.intp),
        amplitude_modulation=arr[:, 7].copy(),
        rr_cv=arr[:, 8].copy(),
        amplitude_ratio=arr[:, 9].copy(),
        n_leads=int(x.shape[0]),
        skipped=tuple(skipped),
    )


def polymorphic_from_rhythm(
    signal_mv: NDArray[np.float64], beats: BeatSeries, rhythm: RhythmFeatures
) -> PolymorphicRuns:
    """:func:`polymorphic_runs` on the rhythm stage's runs, noise spans and VF episodes.

    The one call the pipeline makes (``features["polymorphic_vt"]``) after
    :func:`ecg_core.rhythm.analyze_rhythm`.
    """
    vf = np.stack([rhythm.vf_onset_s, rhythm.vf_offset_s], axis=1)
    return polymorphic_runs(
        signal_mv, beats, rhythm.v_runs, noise_spans_s=rhythm.noise_spans_s, vf_spans_s=vf
    )
