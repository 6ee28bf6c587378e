"""Supraventricular ectopic beats (AAMI class S): timing, runs, irregular rhythm, P waves.

A supraventricular ectopic beat is recognised on a Holter by its timing (it comes earlier
than the sinus rhythm would have produced the next beat: RR below 80-90 % of the running
sinus RR) and, where the P wave is visible, by its P wave (an ectopic atrial focus gives
a P wave of another shape, often on the preceding T wave). Refinements over "not V and
RR below 85 % of the local median RR", all array operations over the beats of a chunk
except a short loop over run onsets:

1. **Reference RR from sinus-timed intervals only**: the median of the neighbouring RR
   intervals that are not early, not the pause after an early beat, and touch no
   ventricular beat (Holter systems update their "dominant RR" from normal beats only).
2. **Runs keep the reference from before their onset.** A local median inside a long
   supraventricular tachycardia is the run's own RR, so its beats would read "on time".
   A run starts abruptly (the first beat is early against both the preceding sinus RRs
   and the RR just before it) and goes on while the RR stays below the pre-onset
   reference and under 0.6 s (SVT: >= 3 supraventricular beats above 100 bpm, ACC/AHA/HRS
   2015 SVT guideline) without an abrupt lengthening (paroxysmal SVT ends abruptly; sinus
   tachycardia speeds up and slows down gradually, so it never starts a run).
3. **No S in irregular rhythm.** In atrial fibrillation the RRs are irregularly irregular
   and there are no P waves, only fibrillatory waves (ESC 2020 AF guideline); the MIT-BIH
   reference labels AF beats N. A beat is not called S when the sinus-timed RRs around it
   deviate from their reference by a median of ``IRREGULAR_DEV``, or of
   ``IRREGULAR_DEV_NO_P`` (over +/-``IRR_HALF_BEATS`` or the nearer +/-``REF_HALF_BEATS``
   beats, for short episodes) when its neighbours have no consistent P wave (median
   P-region correlation with the sinus P template below ``P_CONSISTENT``). Isolated premature beats
   and bigeminy leave the sinus-timed RRs regular (the early beats and their pauses are
   left out of them).
4. **P-wave evidence for single beats.** An early beat whose P region correlates with the
   sinus P template at ``P_SINUS_CORR`` or more is sinus arrhythmia, not ectopic; a beat
   only mildly early (``S_PREMATURE_P``) is S when its P region is clearly unlike the
   sinus P wave (``P_ECTOPIC_CORR``) among neighbours with a clear P wave.
5. **Detections that cannot be conducted ectopic beats**: two detections closer than
   ``SV_MIN_RR_S``, or two intervals adding up to one sinus interval (``SPLIT_SV``) when
   one of the two detections has no conducted QRS shape (a P or T wave or noise split the
   interval; an ectopic beat is followed by a pause), are not S.
6. **After ventricular beats** a beat is early only if the interval from the last beat
   before them is short too: a sinus beat after a late V beat or a V couplet comes soon
   after it, but on time for the sinus rhythm, which the V beats did not reset.

The thresholds were checked on the 22 MIT-BIH DS1 records (training figures; DS2 is held
out; docs/qrs.md); svdb record 800 is the less-tuned second check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

__all__ = ["IRREGULAR_DEV", "S_PREMATURE", "SvTiming", "sv_timing"]

#: Prematurity for S: RR below this fraction of the reference RR (the usual 10-20 %
#: prematurity criterion of Holter practice).
S_PREMATURE = 0.85
#: Beats on each side whose sinus-timed RRs form the reference.
REF_HALF_BEATS = 10
#: Fewest finite values in a window for its median to be used (else a fallback).
REF_MIN_COUNT = 4
#: Beats on each side whose sinus-timed RRs give the irregularity (a wider window than the
#: reference: fewer sinus-timed RRs are left in AF, and their spread needs a sample; 10, 20
#: and 30 gave SVEB +P 76.6/77.7/78.2 % at Se 74.9/75.7/76.9 % on MIT-BIH DS1 during
#: development).
IRR_HALF_BEATS = 30
#: Median relative deviation of the sinus-timed RRs from their reference from which the
#: neighbourhood is irregular (AF-like) and no beat in it is S. Sinus rhythm with isolated
#: ectopic beats stays near 0.01-0.04 on MIT-BIH DS1 (0.05-0.10 changed DS1 SVEB by < 1
#: point).
IRREGULAR_DEV = 0.06
#: The same when the neighbours have no consistent P wave.
IRREGULAR_DEV_NO_P = 0.04
#: Median P-region correlation of the neighbouring beats with the sinus P template below
#: which the neighbourhood has no consistent P wave (AF beats: median ~0 on DS1 201/203;
#: sinus beats ~0.9, ~0.5-0.8 at 128 Hz on svdb).
P_CONSISTENT = 0.3
#: P-region correlation with the sinus template from which an early beat has a sinus P
#: wave (sinus arrhythmia). 0.9/0.8/0.7 gave DS1 +P 74.0/76.6/77.7 % at Se 75.1/74.9/74.7 %
#: during development; 0.8 also on svdb/800.
P_SINUS_CORR = 0.8
#: With a clearly ectopic P wave (P-region correlation below ``P_ECTOPIC_CORR`` while the
#: neighbours' median is at least ``P_CLEAR``), a beat is S from this prematurity on (RR
#: below 95 % of the reference instead of 85 %; on DS1 ~23 more true and ~10 more false S).
S_PREMATURE_P = 0.95
P_ECTOPIC_CORR = -0.2
P_CLEAR = 0.5
#: A run ends when an RR is longer than the previous one by more than this fraction.
RUN_STEADY = 0.15
#: A run goes on only at a tachycardia rate: above 100 bpm, so RR < 0.6 s.
RUN_MAX_RR_S = 0.6
#: Fewest beats of a run followed beyond the prematurity of each beat (SVT: three or more).
RUN_MIN_BEATS = 3
#: Longest run of premature beats followed after an onset, beats (bounds the loop).
MAX_RUN_BEATS = 2000
#: Shortest RR of a conducted supraventricular beat, s: 250 ms is 240 bpm, faster than the
#: AV node conducts (its refractory period is ~250-400 ms; 1:1 conduction of atrial flutter
#: at 250-300 bpm is exceptional). The same gap marks P/T-wave detections in beat_class.
SV_MIN_RR_S = 0.25
#: Two consecutive RRs adding up to within this factor of the sinus RR (0.9-1.1) split one
#: sinus interval.
SPLIT_SV = 1.1


def _window_median(
    x: NDArray[np.float64], half: int, *, causal: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Median of the finite values of ``x`` near each sample, and their count.

    The window is +/-``half`` samples, or the ``2 half`` samples before (``causal``).
    NaN marks values to leave out; windows with no finite value give NaN.
    """
    n = x.size
    pad = np.pad(x, (2 * half, 0) if causal else half, constant_values=np.nan)
    win = np.sort(sliding_window_view(pad, 2 * half + (0 if causal else 1))[:n], axis=1)
    cnt = np.isfinite(win).sum(axis=1)
    rows = np.arange(n)
    lo = win[rows, np.maximum(cnt - 1, 0) // 2]
    hi = win[rows, cnt // 2]
    med = np.where(cnt > 0, 0.5 * (lo + hi), np.nan)
    return med, cnt


@dataclass(frozen=True)
class SvTiming:
    """Supraventricular timing of each beat of a chunk, arrays of shape (n_beats,).

    Attributes
    ----------
    premature : beat is S-timed: early against the sinus reference or in a run, in a
        regular neighbourhood with P waves, and not ventricular.
    early : early against the sinus reference or in a run, not ventricular, not crowded
        against another detection, without the sinus P wave (before the irregularity veto).
    in_run : continues a run started by an early beat.
    ref_ratio : RR before the beat over the sinus reference RR.
    irregularity : median relative deviation of the neighbouring sinus-timed RRs from the
        reference (inf when too few).
    p_consistency : median P-region correlation of the neighbouring non-ventricular beats
        with the sinus P template (NaN when not given).
    """

    premature: NDArray[np.bool_]
    early: NDArray[np.bool_]
    in_run: NDArray[np.bool_]
    ref_ratio: NDArray[np.float64]
    irregularity: NDArray[np.float64]
    p_consistency: NDArray[np.float64]


def sv_timing(
    rr_s: NDArray[np.float64],
    ventricular: NDArray[np.bool_],
    p_corr: NDArray[np.float64] | None = None,
    conducted_shape: NDArray[np.bool_] | None = None,
) -> SvTiming:
    """Which beats come early for a supraventricular origin (see the module docstring).

    Parameters
    ----------
    rr_s : ndarray, shape (n_beats,)
        RR interval before each beat, s (the first beat's value is ignored).
    ventricular : ndarray of bool, shape (n_beats,)
        Beats already judged ventricular (their intervals are not sinus intervals).
    p_corr : ndarray, shape (n_beats,), optional
        Correlation of each beat's P-wave region with the chunk's sinus P template.
    conducted_shape : ndarray of bool, shape (n_beats,), optional
        Beat has a conducted (supraventricular cluster) QRS; a pair of detections that
        splits one sinus interval is vetoed only when one of them has not (None: always).

    Returns
    -------
    SvTiming
        Per-beat timing, irregularity and the S decision.
    """
    n = rr_s.size
    nan = np.full(n, np.nan)
    if n < 3:
        z = np.zeros(n, dtype=bool)
        return SvTiming(z, z, z, nan, np.full(n, np.inf), nan)
    rr = np.asarray(rr_s, dtype=np.float64).copy()
    rr[0] = np.nan
    v = np.asarray(ventricular, dtype=bool)
    touches_v = v | np.r_[False, v[:-1]]
    # pass 1: plain local median of every interval not touching a V beat
    med1, cnt1 = _window_median(np.where(touches_v, np.nan, rr), REF_HALF_BEATS)
    all_med, _ = _window_median(rr, REF_HALF_BEATS)
    med1 = np.where(cnt1 >= REF_MIN_COUNT, med1, all_med)
    early1 = rr < S_PREMATURE * med1
    # pass 2: sinus-timed intervals only (not early, not the pause after an early beat)
    sinus = ~touches_v & ~early1 & ~np.r_[False, early1[:-1]] & np.isfinite(rr)
    ref, cnt = _window_median(np.where(sinus, rr, np.nan), REF_HALF_BEATS)
    ref = np.where(cnt >= REF_MIN_COUNT, ref, med1)
    ratio = rr / ref
    dev = np.where(sinus, np.abs(ratio - 1.0), np.nan)
    irr_med, irr_cnt = _window_median(dev, IRR_HALF_BEATS)
    irr = np.where(irr_cnt >= REF_MIN_COUNT, irr_med, np.inf)
    early = ratio < S_PREMATURE
    # a beat after a V beat (or a couplet, a run): judge the interval from the last beat
    # before the V beats (the sinus rhythm is not reset by them)
    after_v = np.r_[False, v[:-1]]
    idx = np.arange(n)
    last_sv = np.maximum.accumulate(np.where(~v, idx, -1))
    before = np.r_[-1, last_sv[:-1]]  # last non-V beat before each beat
    t = np.r_[0.0, np.cumsum(np.nan_to_num(rr[1:]))]
    span = np.where(before >= 0, t - t[np.maximum(before, 0)], np.nan)
    early[after_v] = (span < 2.0 * S_PREMATURE * ref)[after_v] & (cnt >= REF_MIN_COUNT)[after_v]
    early &= ~v
    # runs: an early beat (against the sinus RRs before it) whose successor is early
    # against the same pre-onset reference starts a run; follow it while the RR stays below
    # that reference's fraction and steady (a centred median inside a long run is the
    # run's own RR)
    past, cnt_p = _window_median(np.where(sinus, rr, np.nan), REF_HALF_BEATS, causal=True)
    thr = S_PREMATURE * np.where(cnt_p >= REF_MIN_COUNT, past, ref)
    # abrupt onset: the first beat is also early against the sinus interval just before it
    # (a sinus rate rise shortens the RR gradually)
    rr_before = np.r_[np.nan, np.where(touches_v, np.nan, rr)[:-1]]
    abrupt = rr < S_PREMATURE * rr_before
    onset = abrupt[:-1] & (rr[:-1] < thr[:-1]) & (rr[1:] < thr[:-1]) & ~v[:-1] & ~v[1:]
    run = np.zeros(n, dtype=bool)
    last = -1
    for i in np.flatnonzero(onset):
        if i <= last:
            continue
        seg = slice(i, min(n, i + MAX_RUN_BEATS))
        x = rr[seg]
        # the onset beat only has to be early; later beats keep a tachycardia rate and end
        # the run when the RR lengthens abruptly (shortening is the warm-up of the run)
        slow = x >= np.r_[thr[i], np.full(x.size - 1, min(thr[i] / S_PREMATURE, RUN_MAX_RR_S))]
        jump = np.r_[False, x[1:] > (1.0 + RUN_STEADY) * x[:-1]]
        stop = slow | v[seg] | ~np.isfinite(x) | jump
        k = int(np.argmax(stop)) if stop.any() else stop.size
        if k >= RUN_MIN_BEATS:  # shorter: judged beat by beat
            run[i : i + k] = True
        last = int(i) + k
    # two detections closer than AV-node conduction allows: one is not a conducted beat
    # (a P or T wave detected as a beat), so neither is called S
    crowded = (rr < SV_MIN_RR_S) | np.r_[rr[1:] < SV_MIN_RR_S, False]
    # two intervals adding up to one sinus interval (+/-10 %): a detection split it (a P or
    # T wave, or noise), and neither beat is ectopic; an ectopic beat is followed by a pause
    # (coupling interval + pause > 1.5 sinus intervals even when the sinus node is reset),
    # and two ectopic beats in a row come earlier than one sinus interval
    pair = (rr + np.r_[rr[1:], np.nan]) / ref
    split = (pair > 2.0 - SPLIT_SV) & (pair < SPLIT_SV)
    if conducted_shape is not None:  # two conducted QRS in a row are a couplet, not a split
        odd = ~np.asarray(conducted_shape, dtype=bool)
        split &= odd | np.r_[odd[1:], True]
    split = (split | np.r_[False, split[:-1]]) & ~run
    crowded |= split
    cand = (early | run) & ~v & ~crowded
    if p_corr is None:
        p_cons = nan
        af_like = irr >= IRREGULAR_DEV
    else:
        p_cons, p_cnt = _window_median(np.where(v, np.nan, p_corr), REF_HALF_BEATS)
        no_p = (p_cnt >= REF_MIN_COUNT) & (p_cons < P_CONSISTENT)
        # without P waves, a short AF episode is judged on the nearer beats as well
        irr_near, near_cnt = _window_median(dev, REF_HALF_BEATS)
        irr_near = np.where(near_cnt >= REF_MIN_COUNT, irr_near, irr)
        af_like = (irr >= IRREGULAR_DEV) | (
            no_p & (np.maximum(irr, irr_near) >= IRREGULAR_DEV_NO_P)
        )
        # an early beat with the sinus P wave (in a neighbourhood with consistent P waves)
        # is sinus arrhythmia, not an ectopic atrial beat, whose P wave differs in shape
        sinus_p = ~run & ~no_p & (p_corr >= P_SINUS_CORR)
        cand &= ~sinus_p
        # a mildly early beat with a clearly ectopic P wave (inverted or displaced against
        # a clear sinus P wave around it) is an atrial ectopic beat too
        ectopic_p = (p_cnt >= REF_MIN_COUNT) & (p_cons >= P_CLEAR) & (p_corr < P_ECTOPIC_CORR)
        cand |= ectopic_p & (ratio < S_PREMATURE_P) & ~v & ~crowded
    return SvTiming(
        premature=cand & ~af_like,
        early=cand,
        in_run=run,
        ref_ratio=ratio,
        irregularity=irr,
        p_consistency=p_cons,
    )
