"""Beat classification into AAMI classes N, S, V, Q (unsupervised, per chunk, vectorised).

Method (per chunk of a few minutes; every step is an array operation over beats):

1. **Windows.** Each beat's QRS window (-100..+150 ms around R, all leads, at the detection
   rate) is cut by an index gather into ``(n_beats, n_leads, w)``.
2. **Alignment.** A first dominant template (median of the beats that are not premature) is
   matched to every beat over lags of +/-40 ms; the best-correlating lag re-centres the
   beat, so a fiducial that jumps between R and S does not read as a new morphology.
3. **Clustering** (greedy template clustering, cf. the template matching of Hamilton &
   Tompkins and the morphology clusters of Lagerholm et al., IEEE TBME 2000;47:838): a seed
   (first the dominant template, then the free beat closest to the mean of the free beats)
   takes every free beat correlating >= 0.90 with it and with a peak-to-peak amplitude
   within a factor 1.5; its template is re-estimated and the membership recomputed once;
   up to ``MAX_CLUSTERS`` clusters of >= ``MIN_CLUSTER`` beats, the rest stay unclustered.
   Only matrix-vector products are used, so the cost is linear in beats.
4. **Cluster labels.** The dominant cluster is the narrowest QRS among the large clusters
   whose beats are not premature as a group (a run of idioventricular beats can outnumber
   the sinus beats of a chunk, but is wider). Each other cluster's median template is
   compared with the dominant template (correlation, QRS width from the slope envelope,
   amplitude): it is ventricular when its morphology differs (correlation < 0.8) and the QRS
   is wider (more than 20 ms; ventricular origin widens the QRS, AHA/ACCF/HRS 2009 Part III)
   or much larger, or its beats are premature with a compensatory pause; or when it is very
   different (correlation < 0.5). Width is always relative to the patient's own dominant
   QRS, so wide normal beats of bundle-branch block are not called V.
5. **Beat labels.** Beats of ventricular clusters are ``V``; unclustered beats are judged on
   their own features with the same rules; the other beats are ``S`` when
   :func:`ecg_core.sveb.sv_timing` finds them early for a supraventricular origin (RR below
   85 % of a reference built from sinus-timed RRs, runs followed from their onset,
   irregular AF-like stretches and sinus P waves vetoed, milder prematurity with an
   ectopic P wave; the P-region correlation with the chunk's sinus P template is computed
   here) and ``N`` otherwise; beats in poor signal are ``Q`` (EC57: unclassifiable).
6. **Not a QRS** (:func:`not_qrs`): unclustered detections that are small with spread-out
   slope energy, or crowded against another detection, are dropped by the caller.

The numeric cut-offs were checked on the 22 MIT-BIH DS1 records (de Chazal et al., IEEE TBME
2004;51:1196 split; see docs/qrs.md). ``F`` is not emitted (EC57 does not count F called V
as an error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter

from ecg_core.sveb import S_PREMATURE, sv_timing

__all__ = [
    "BeatFeatures",
    "beat_features",
    "classify_beats",
    "in_dominant",
    "not_organised",
    "not_qrs",
]

#: QRS window around R, s.
WIN_PRE_S, WIN_POST_S = 0.10, 0.15
#: Largest lag tried when aligning a beat to the dominant template, s.
ALIGN_S = 0.04
#: Half-width of the central QRS band for the slope-energy focus, s.
FOCUS_S = 0.06
#: A detection that joins no cluster, is below this fraction of the dominant template's
#: amplitude and has less than ``ARTEFACT_FOCUS`` of its slope energy in the central QRS
#: band is not a QRS (P or T wave, baseline step, muscle noise).
ARTEFACT_AMP = 0.5
ARTEFACT_FOCUS = 0.8
#: An unclustered detection no larger than the dominant beat within this distance of
#: another detection is a P or T wave or a split QRS (250 ms is 240 bpm; ventricular
#: coupling intervals are longer).
ARTEFACT_GAP_S = 0.25
#: An unclustered detection smaller than ``SPLIT_AMP`` x the dominant beat whose RR before
#: and after add up to less than ``SPLIT_RR`` x the local median RR sits inside one normal
#: interval without resetting the rhythm (no prematurity-plus-pause pattern of an ectopic
#: beat): a tall P or T wave or a baseline jump between two normal beats. Interpolated
#: ventricular beats split an interval too but are as large as or larger than the
#: dominant QRS (AHA/ACCF/HRS 2009 Part III: wide, high-amplitude ventricular QRS).
#: Checked on MIT-BIH DS1 (docs/qrs.md).
SPLIT_AMP = 0.7
SPLIT_RR = 1.1
#: A cluster with at least this share of the largest normal-timed cluster's beats can be
#: the dominant one (the narrowest QRS among them wins).
DOMINANT_SHARE = 0.25
#: Width difference treated as a tie when choosing the dominant cluster, samples.
WIDTH_TIE = 1.0
#: Slope-energy focus below which a detection may be a flutter/fibrillation wave.
ORGANISED_FOCUS = 0.7
#: Beats in this many neighbours define the local median RR.
_RR_SPAN = 15
#: Compensatory pause: next RR over previous RR above this ratio.
COMP_PAUSE = 1.3
#: Correlation below which morphology differs from the dominant template.
V_CORR = 0.80
#: Correlation below which morphology alone makes a cluster V (an unclustered beat needs
#: prematurity as well).
V_CORR_STRONG = 0.5
#: An unclustered beat that is not premature and still correlates at least this well with
#: the dominant template is a conducted beat distorted by noise or aberration, not V: an
#: isolated ventricular ectopic in a supraventricular rhythm comes early (coupled), and
#: its morphology is unrelated to the conducted QRS. Checked on MIT-BIH DS1 (docs/qrs.md).
V_CORR_ON_TIME = 0.6
#: An unclustered beat whose slope envelope stays above 20 % of its peak over at least this
#: fraction of the 250 ms QRS window has no discrete QRS (muscle noise, baseline wander,
#: fibrillatory waves): its shape says nothing about its origin, so it is not called V.
#: Even wide ventricular QRS last well under 240 ms (AHA/ACCF/HRS 2009 Part III).
V_MAX_SPAN = 0.95
#: An unclustered beat correlating at least this well with a supraventricular template of
#: the chunk (the dominant one or another cluster judged N/S) is a conducted beat,
#: distorted by noise or aberration, even when premature (then S): ventricular activation
#: bypasses the conduction system, so an ectopic QRS is unrelated in shape to every
#: conducted morphology. Checked on MIT-BIH DS1 (docs/qrs.md).
V_CORR_SV = 0.75
#: Width excess over the template that marks a wide QRS, s (sub-sample width, see
#: :func:`_width_s`). Ventricular activation bypassing the conduction system widens the QRS
#: (AHA/ACCF/HRS 2009 Part III); the excess is relative to the patient's own dominant QRS,
#: and 15 ms (two samples at the ~120 Hz detection rate) is the smallest excess the slope
#: envelope resolves. On MIT-BIH DS1, 10-30 ms changed false V by 29 beats and VEB Se by
#: 3.6 points (docs/qrs.md).
V_WIDTH_EXCESS_S = 0.015
#: Amplitude ratio to template that marks an ectopic-sized beat.
V_AMP_RATIO = 1.6
#: An unclustered beat smaller than this fraction of the dominant QRS (peak-to-peak,
#: quality-weighted leads) is not V: ventricular ectopics are wide, high-amplitude
#: complexes (AHA/ACCF/HRS 2009 Part III), while small unrelated deflections are noise,
#: P/T waves or low-voltage conducted beats. Checked on MIT-BIH DS1 (docs/qrs.md).
V_MIN_AMP = 0.5
#: P-wave region before R, s: from 300 ms to 80 ms before R covers the P wave at PR
#: intervals of 120-200 ms plus a QRS onset up to ~50 ms before R (normal PR 120-200 ms,
#: AHA/ACCF/HRS 2009 Part II).
P_WIN_S = (0.30, 0.08)
#: Beats of the dominant cluster with RR within this fraction of the local median form the
#: sinus P template.
P_SINUS_RR = 0.1
#: Most beats whose median forms the sinus P template (speed).
P_TEMPLATE_BEATS = 64
#: Lowest rate at which the P region is read, Hz: the P wave's content is below ~15 Hz
#: (speed; the whole P window is then ~11-20 samples).
P_RATE_HZ = 50.0
#: Clustering: correlation and amplitude ratio that make two beats neighbours.
CLUSTER_CORR = 0.90
CLUSTER_AMP = 1.5
#: Clustering: most clusters per chunk, and fewest beats in one.
MAX_CLUSTERS = 8
MIN_CLUSTER = 3


@dataclass(frozen=True)
class BeatFeatures:
    """Per-beat features and cluster labels of one chunk, each an array of shape (n_beats,).

    Attributes
    ----------
    rr_ratio : RR before the beat over the local median RR.
    comp_ratio : RR after the beat over the RR before it.
    corr : lag-aligned correlation with the dominant template, -1..1.
    amp_ratio : peak-to-peak amplitude over the dominant template's.
    width_s : QRS width estimate, s.
    width_excess_s : width minus the dominant template's width, s.
    cluster : cluster index (-1 unclustered).
    cluster_v : beat belongs to a cluster judged ventricular.
    cluster_n : beat belongs to a cluster judged supraventricular (N or S by timing).
    focus : share of the window's slope energy within +/-60 ms of the aligned R, 0-1.
    gap_s : distance to the nearer neighbouring detection, s.
    dominant : index of the dominant cluster (-1 none), shape ().
    sv_corr : best lag-aligned correlation with a supraventricular template (the dominant
        one or another cluster judged N/S), -1..1; None means ``corr``.
    rr_s : RR interval before the beat, s (NaN for the first beat); None means S is judged
        by ``rr_ratio`` alone (see :func:`ecg_core.sveb.sv_timing`).
    p_corr : correlation of the P-wave region (``P_WIN_S`` before R) with the chunk's
        sinus P template, -1..1; None when not computed.
    """

    rr_ratio: NDArray[np.float64]
    comp_ratio: NDArray[np.float64]
    corr: NDArray[np.float64]
    amp_ratio: NDArray[np.float64]
    width_s: NDArray[np.float64]
    width_excess_s: NDArray[np.float64]
    cluster: NDArray[np.intp]
    cluster_v: NDArray[np.bool_]
    cluster_n: NDArray[np.bool_]
    focus: NDArray[np.float64]
    gap_s: NDArray[np.float64]
    dominant: int = -1
    sv_corr: NDArray[np.float64] | None = None
    rr_s: NDArray[np.float64] | None = None
    p_corr: NDArray[np.float64] | None = None


def _rr_features(r_idx: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = r_idx.size
    if n < 3:
        return np.ones(n), np.ones(n)
    rr = np.diff(r_idx).astype(np.float64)
    med = median_filter(rr, size=min(_RR_SPAN, rr.size), mode="nearest")
    rr_prev = np.r_[med[0], rr]
    rr_next = np.r_[rr, med[-1]]
    med_b = np.r_[med[0], med]
    return rr_prev / med_b, rr_next / np.maximum(rr_prev, 1.0)


def _windows(
    clean_mv: NDArray[np.float64], r_idx: NDArray[np.intp], pre: int, post: int, step: int
) -> NDArray[np.float64]:
    """Windows ``r - pre .. r + post`` every ``step`` samples: (n_beats, n_leads, w)."""
    offs = np.arange(-pre, post + 1, step)
    idx = np.clip(r_idx[:, np.newaxis] + offs, 0, clean_mv.shape[1] - 1)
    return np.ascontiguousarray(np.transpose(clean_mv[:, idx], (1, 0, 2)))


def _centre(win: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = win - win.mean(axis=-1, keepdims=True)
    return out


def _corr(
    a: NDArray[np.float64], b: NDArray[np.float64], lw: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Weighted correlation of centred ``a`` (n, L, w) with ``b`` (L, w) or (n, L, w)."""
    wl = lw[..., np.newaxis]
    aa, bb = a * wl, b * wl
    num = (aa * bb).sum(axis=(-2, -1))
    den = np.sqrt((aa * aa).sum(axis=(-2, -1)) * (bb * bb).sum(axis=(-2, -1)))
    out: NDArray[np.float64] = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)
    return out


def _align(
    wide: NDArray[np.float64], template: NDArray[np.float64], lw: NDArray[np.float64], lag: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Best lag (within +/-``lag``) of each beat against ``template``.

    ``wide`` is (n, L, w + 2 lag); returns the aligned centred windows (n, L, w) and the
    best weighted correlation per beat. ``einsum`` over a sliding-window view gives every
    lag's window sums and cross term (the template is centred, so the windows need not be).
    """
    n = wide.shape[0]
    w = wide.shape[-1] - 2 * lag
    t = template - template.mean(axis=-1, keepdims=True)  # (L, w)
    sw = np.lib.stride_tricks.sliding_window_view(wide, w, axis=-1)  # (n, L, S, w)
    w2 = lw * lw  # (n, L)
    # plain einsum loops, no BLAS: small products, and BLAS threads would only contend
    num = np.einsum("nlsw,lw->nls", sw, t)
    num = np.einsum("nls,nl->ns", num, w2)
    s1 = np.einsum("nlsw->nls", sw)
    var = np.einsum("nlsw,nlsw->nls", sw, sw) - s1 * s1 / w  # (n, L, S), times w
    den_a = np.einsum("nls,nl->ns", np.maximum(var, 0.0), w2)
    den_b = (w2 * (t * t).sum(axis=-1)).sum(axis=-1)  # (n,)
    corr = num / np.maximum(np.sqrt(den_a * den_b[:, np.newaxis]), 1e-12)
    best = np.argmax(corr, axis=1)
    rows = np.arange(n)
    return _centre(sw[rows, :, best]), corr[rows, best]


def _width_s(win: NDArray[np.float64], lw: NDArray[np.float64], dt_s: float) -> NDArray[np.float64]:
    """QRS width from the slope envelope (span above 20 % of its peak), s.

    The two 20 % crossings are placed by linear interpolation between samples, so the width
    is not quantised to the ~8 ms sample step of the detection rate (a 15-20 ms width
    excess would otherwise be decided by where the sample grid falls).
    """
    slope = np.abs(np.diff(win, axis=-1))  # (..., L, w-1)
    env = (slope * lw[..., np.newaxis]).sum(axis=-2)
    thr = 0.2 * env.max(axis=-1, keepdims=True)
    above = env >= thr
    m = env.shape[-1]
    first = np.argmax(above, axis=-1)[..., np.newaxis]
    last = m - 1 - np.argmax(above[..., ::-1], axis=-1)[..., np.newaxis]
    e_f = np.take_along_axis(env, first, -1)
    e_fb = np.take_along_axis(env, np.maximum(first - 1, 0), -1)
    e_l = np.take_along_axis(env, last, -1)
    e_la = np.take_along_axis(env, np.minimum(last + 1, m - 1), -1)
    # fraction of the outer sample step that lies above the threshold (0 at the window edge)
    fr_f = np.where(e_f > e_fb, (e_f - thr) / np.maximum(e_f - e_fb, 1e-12), 0.0)
    fr_l = np.where(e_l > e_la, (e_l - thr) / np.maximum(e_l - e_la, 1e-12), 0.0)
    out: NDArray[np.float64] = ((last - first) + fr_f + fr_l)[..., 0] * dt_s
    return out


def _p_corr(
    clean_mv: NDArray[np.float64],
    r_idx: NDArray[np.intp],
    lw: NDArray[np.float64],
    fs_hz: float,
    step: int,
    sinus: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Correlation of each beat's P-wave region with the chunk's sinus P template.

    The region ``P_WIN_S`` before R is cut on all leads, its mean and linear trend removed
    (the tail of the previous T wave and baseline drift), and correlated (lead-weighted)
    with the median region of the sinus-timed dominant beats. A sinus beat repeats the
    sinus P wave (~0.9); a premature atrial beat has an ectopic P wave, often on the
    previous T wave, and atrial fibrillation has none, only fibrillatory waves (~0).
    """
    pre, post = round(P_WIN_S[0] * fs_hz), -round(P_WIN_S[1] * fs_hz)
    step = max(step, int(fs_hz // P_RATE_HZ))
    win = _windows(clean_mv, r_idx, pre, post, step)  # (n, L, w)
    t = np.linspace(-1.0, 1.0, win.shape[-1])
    win = _centre(win)
    win -= np.einsum("nlw,w->nl", win, t)[..., np.newaxis] * t / float(t @ t)
    idx = np.flatnonzero(sinus) if sinus.sum() >= 5 else np.arange(win.shape[0])
    if idx.size > P_TEMPLATE_BEATS:  # an even sample of the chunk's beats is enough
        idx = idx[np.linspace(0, idx.size - 1, P_TEMPLATE_BEATS).astype(np.intp)]
    tmpl = np.median(win[idx], axis=0)
    return _corr(win, tmpl, lw)


def _gap_s(r_idx: NDArray[np.intp], fs_hz: float) -> NDArray[np.float64]:
    d = np.diff(r_idx).astype(np.float64) / fs_hz
    out: NDArray[np.float64] = np.minimum(np.r_[np.inf, d], np.r_[d, np.inf])
    return out


def _focus(
    win: NDArray[np.float64], lw: NDArray[np.float64], centre: int, half: int
) -> NDArray[np.float64]:
    """Share of the squared-slope energy within ``centre +/- half`` samples, per beat."""
    slope = np.diff(win, axis=-1)
    env = ((slope * slope) * (lw * lw)[..., np.newaxis]).sum(axis=-2)  # (n, w-1)
    a, b = max(0, centre - half), min(env.shape[-1], centre + half)
    out: NDArray[np.float64] = env[:, a:b].sum(axis=-1) / np.maximum(env.sum(axis=-1), 1e-12)
    return out


def _ptp(win: NDArray[np.float64], lw: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = (np.ptp(win, axis=-1) * lw).sum(axis=-1)
    return out


def _same_morphology(
    a: NDArray[np.float64], b: NDArray[np.float64], lw_chunk: NDArray[np.float64]
) -> bool:
    """Two templates (n_leads, w) that the clustering criterion makes neighbours."""
    c_ab = float(_corr(a[np.newaxis], b, lw_chunk[np.newaxis])[0])
    pa, pb = float(_ptp(a, lw_chunk)), float(_ptp(b, lw_chunk))
    same_amp = abs(np.log(max(pa, 1e-9) / max(pb, 1e-9))) <= np.log(CLUSTER_AMP)
    return c_ab >= CLUSTER_CORR and bool(same_amp)


def _clusters(
    aligned: NDArray[np.float64],
    lw_chunk: NDArray[np.float64],
    ptp: NDArray[np.float64],
    first: NDArray[np.float64],
) -> NDArray[np.intp]:
    """Greedy template clusters; -1 for unclustered beats.

    The first seed is the template ``first`` (n_leads, w); later seeds are the free beat
    closest to the mean of the free beats (a cheap medoid). A cluster takes every free
    beat that correlates >= ``CLUSTER_CORR`` with its seed and has an amplitude within
    ``CLUSTER_AMP`` of it; its template is then re-estimated as the members' mean and
    the membership recomputed once. Only matrix-vector products are used (no n x n
    matrix), so the cost is linear in the number of beats.
    """
    n = aligned.shape[0]
    x = (aligned * lw_chunk[np.newaxis, :, np.newaxis]).reshape(n, -1)
    xn = x / np.maximum(np.linalg.norm(x, axis=1), 1e-12)[:, np.newaxis]
    logp = np.log(np.maximum(ptp, 1e-9))
    amp_tol = np.log(CLUSTER_AMP)
    label = np.full(n, -1, dtype=np.intp)
    free = np.ones(n, dtype=bool)
    seed = (first * lw_chunk[:, np.newaxis]).ravel()
    seed_logp = float(np.log(max(float(_ptp(first, lw_chunk)), 1e-9)))
    c = 0
    pick = -1
    for _ in range(2 * MAX_CLUSTERS):
        members = np.zeros(n, dtype=bool)
        for _ in range(2):  # the seed, then the members' mean
            sn = seed / max(float(np.linalg.norm(seed)), 1e-12)
            sim = np.einsum("nd,d->n", xn, sn)
            members = free & (sim >= CLUSTER_CORR) & (np.abs(logp - seed_logp) <= amp_tol)
            if members.sum() < MIN_CLUSTER:
                break
            seed = x[members].mean(axis=0)
            seed_logp = float(logp[members].mean())
        if members.sum() >= MIN_CLUSTER:
            label[members] = c
            free &= ~members
            c += 1
        elif pick >= 0:
            free[pick] = False  # an isolated beat stays unclustered
        idx = np.flatnonzero(free)
        if c >= MAX_CLUSTERS or idx.size < MIN_CLUSTER:
            break
        sub = xn[idx]
        pick = int(idx[int(np.argmax(np.einsum("nd,d->n", sub, sub.mean(axis=0))))])
        seed = x[pick].copy()
        seed_logp = float(logp[pick])
    return label


def _dominant(
    aligned: NDArray[np.float64],
    cluster: NDArray[np.intp],
    rr_ratio: NDArray[np.float64],
    lw_chunk: NDArray[np.float64],
    n_cl: int,
) -> int:
    """Index of the dominant (supraventricular) cluster, -1 if none.

    Among clusters whose beats are not premature as a group and that hold at least
    ``DOMINANT_SHARE`` of the largest such cluster's beats, the narrowest QRS wins: a run
    of idioventricular or ventricular beats can outnumber the sinus beats in a chunk, but
    is wider than them (AHA/ACCF/HRS 2009 Part III).
    """
    sizes = np.bincount(cluster[cluster >= 0], minlength=n_cl)
    ok = np.array(
        [sizes[c] > 0 and np.median(rr_ratio[cluster == c]) > S_PREMATURE for c in range(n_cl)],
        dtype=bool,
    )
    if not ok.any():
        return -1
    big = ok & (sizes >= DOMINANT_SHARE * sizes[ok].max())
    cands = np.flatnonzero(big)
    widths = np.array(
        [float(_width_s(aligned[cluster == c].mean(axis=0), lw_chunk, 1.0)) for c in cands]
    )
    narrow = cands[widths <= widths.min() + WIDTH_TIE]
    return int(narrow[np.argmax(sizes[narrow])])


def beat_features(
    clean_mv: NDArray[np.float64],
    r_idx: NDArray[np.intp],
    lead_weight: NDArray[np.float64],
    fs_hz: float,
    *,
    step: int = 1,
) -> BeatFeatures:
    """Compute the classification features and morphology clusters of a chunk's beats.

    Parameters
    ----------
    clean_mv : ndarray, shape (n_leads, n_samples)
        Cleaned ECG, mV.
    r_idx : ndarray of intp, shape (n_beats,)
        R-peak indices into ``clean_mv``.
    lead_weight : ndarray, shape (n_leads, n_beats)
        Per-lead quality weight at each beat, 0-1.
    fs_hz : float
        Sampling rate, Hz.
    step : int
        Sub-sampling step inside beat windows (speed; 1 keeps every sample).

    Returns
    -------
    BeatFeatures
        Features, shape (n_beats,) each.
    """
    n = r_idx.size
    rr_ratio, comp_ratio = _rr_features(r_idx)
    if n == 0:
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.intp)
        zb = np.zeros(0, dtype=bool)
        return BeatFeatures(z, z, z, z, z, z, zi, zb, zb, z, z)
    pre, post = round(WIN_PRE_S * fs_hz), round(WIN_POST_S * fs_hz)
    lag = max(1, round(ALIGN_S * fs_hz / step))
    wide = _windows(clean_mv, r_idx, pre + lag * step, post + lag * step, step)
    w = wide.shape[-1] - 2 * lag
    lw = lead_weight.T  # (n_beats, n_leads)
    lw_chunk = np.median(lw, axis=0)
    dt_s = step / fs_hz
    centred = _centre(wide[..., lag : lag + w])
    dominant = rr_ratio > S_PREMATURE
    template = np.median(centred[dominant] if dominant.sum() >= 5 else centred, axis=0)
    aligned, _ = _align(wide, template, lw, lag)
    ptp = _ptp(aligned, lw)
    cluster = (
        _clusters(aligned, lw_chunk, ptp, template) if n >= MIN_CLUSTER else np.full(n, -1, np.intp)
    )
    n_cl = int(cluster.max()) + 1
    dom = _dominant(aligned, cluster, rr_ratio, lw_chunk, n_cl)
    if dom >= 0:
        template = np.median(aligned[cluster == dom], axis=0)
    corr = _corr(aligned, template, lw)
    t_width = float(_width_s(template, lw_chunk, dt_s))
    t_ptp = float(_ptp(template, lw_chunk))
    width = _width_s(aligned, lw, dt_s)
    amp = ptp / np.maximum((np.ptp(template, axis=-1)[np.newaxis] * lw).sum(axis=-1), 1e-9)
    cluster_v = np.zeros(n, dtype=bool)
    cluster_n = np.zeros(n, dtype=bool)
    free = cluster < 0
    sv_corr = corr.copy()
    templates: dict[int, NDArray[np.float64]] = {}
    for c in range(n_cl):
        m = cluster == c
        if c == dom:
            cluster_n[m] = True
            templates[c] = template
            continue
        tc = np.median(aligned[m], axis=0)
        templates[c] = tc
        c_corr = float(_corr(tc[np.newaxis], template, lw_chunk[np.newaxis])[0])
        c_wx = float(_width_s(tc, lw_chunk, dt_s)) - t_width
        c_amp = float(_ptp(tc, lw_chunk)) / max(t_ptp, 1e-9)
        c_prem = float(np.median(rr_ratio[m])) < S_PREMATURE
        c_pause = float(np.median(comp_ratio[m])) > COMP_PAUSE
        differs = c_corr < V_CORR
        wide_c = c_wx > V_WIDTH_EXCESS_S
        big_c = not 1.0 / V_AMP_RATIO <= c_amp <= V_AMP_RATIO
        # smaller, not wider and on time: a conducted beat with a changed axis, a low-voltage
        # lead or noise, not a ventricular beat (those are wide or large, or come early)
        small_on_time = c_amp < 1.0 / V_AMP_RATIO and not wide_c and not c_prem
        if not small_on_time and (
            (differs and (wide_c or big_c or (c_prem and c_pause))) or c_corr < V_CORR_STRONG
        ):
            cluster_v[m] = True
        else:
            cluster_n[m] = True
            if free.any():
                sv_corr[free] = np.maximum(sv_corr[free], _corr(aligned[free], tc, lw[free]))
    # a candidate V cluster that the clustering criterion would have joined to a
    # supraventricular cluster is one morphology split by the greedy seeding: same class
    sv_clusters = [k for k in range(n_cl) if cluster_n[cluster == k].any()]
    for c in range(n_cl):
        m = cluster == c
        if cluster_v[m].any() and any(
            _same_morphology(templates[c], templates[k], lw_chunk) for k in sv_clusters
        ):
            cluster_v[m] = False
            cluster_n[m] = True
            if free.any():  # now a supraventricular template for unclustered beats too
                sv_corr[free] = np.maximum(
                    sv_corr[free], _corr(aligned[free], templates[c], lw[free])
                )
    return BeatFeatures(
        rr_ratio=rr_ratio,
        comp_ratio=comp_ratio,
        corr=corr,
        amp_ratio=amp,
        width_s=width,
        width_excess_s=width - t_width,
        cluster=cluster,
        cluster_v=cluster_v,
        cluster_n=cluster_n,
        focus=_focus(aligned, lw, pre // step, round(FOCUS_S * fs_hz / step)),
        gap_s=_gap_s(r_idx, fs_hz),
        dominant=dom,
        sv_corr=sv_corr,
        rr_s=np.r_[np.nan, np.diff(r_idx) / fs_hz],
        p_corr=_p_corr(
            clean_mv,
            r_idx,
            lw,
            fs_hz,
            step,
            (cluster == dom) & (np.abs(rr_ratio - 1.0) < P_SINUS_RR),
        ),
    )


def not_qrs(features: BeatFeatures) -> NDArray[np.bool_]:
    """Detections that are not QRS complexes.

    Unclustered detections that are small with unfocused slope energy, or no larger than
    the dominant beat and crowded against another detection, or small and splitting one
    normal RR interval in two (``SPLIT_AMP``, ``SPLIT_RR``).

    Parameters
    ----------
    features : BeatFeatures
        Output of :func:`beat_features`.

    Returns
    -------
    ndarray of bool, shape (n_beats,)
        True for detections to drop.
    """
    f = features
    small = (f.amp_ratio < ARTEFACT_AMP) & (f.focus < ARTEFACT_FOCUS)
    crowded = (f.amp_ratio < 1.0) & (f.gap_s < ARTEFACT_GAP_S)
    # (RR before + RR after) / local median RR = rr_ratio * (1 + comp_ratio)
    split = (f.amp_ratio < SPLIT_AMP) & (f.rr_ratio * (1.0 + f.comp_ratio) < SPLIT_RR)
    out: NDArray[np.bool_] = (f.cluster < 0) & (small | crowded | split)
    return out


def not_organised(features: BeatFeatures) -> NDArray[np.bool_]:
    """Detections unlike an organised QRS: unclustered, or slope energy spread out.

    A QRS concentrates its slope energy within +/-60 ms of R (focus ~0.9); the waves of
    ventricular flutter/fibrillation are near-sinusoidal, so their slope energy spreads over
    the window (focus ~0.5). Used only to pick spans for the signal-based VF check.
    """
    f = features
    out: NDArray[np.bool_] = (f.cluster < 0) | (f.focus < ORGANISED_FOCUS)
    return out


def in_dominant(features: BeatFeatures) -> NDArray[np.bool_]:
    """Beats of the chunk's dominant (supraventricular) morphology cluster."""
    out: NDArray[np.bool_] = (features.cluster >= 0) & (features.cluster == features.dominant)
    return out


def classify_beats(features: BeatFeatures, quality_ok: NDArray[np.bool_]) -> NDArray[np.str_]:
    """Assign AAMI classes from beat features and cluster labels.

    Parameters
    ----------
    features : BeatFeatures
        Output of :func:`beat_features`.
    quality_ok : ndarray of bool, shape (n_beats,)
        Beat lies in acceptable signal.

    Returns
    -------
    ndarray of str, shape (n_beats,)
        ``N``, ``S``, ``V`` or ``Q`` per beat.
    """
    f = features
    differs = f.corr < V_CORR
    wide = f.width_excess_s > V_WIDTH_EXCESS_S
    big = (f.amp_ratio > V_AMP_RATIO) | (f.amp_ratio < 1.0 / V_AMP_RATIO)
    premature = f.rr_ratio < S_PREMATURE
    pause = f.comp_ratio > COMP_PAUSE
    own_v = (differs & (wide | big | (premature & pause))) | ((f.corr < V_CORR_STRONG) & premature)
    own_v &= premature | (f.corr < V_CORR_ON_TIME)
    own_v &= f.amp_ratio >= V_MIN_AMP
    own_v &= f.width_s < V_MAX_SPAN * (WIN_PRE_S + WIN_POST_S)
    own_v &= (f.corr if f.sv_corr is None else f.sv_corr) < V_CORR_SV
    is_v = f.cluster_v | (~f.cluster_n & own_v)
    early_sv = (
        premature
        if f.rr_s is None
        else sv_timing(f.rr_s, is_v, f.p_corr, f.cluster_n & ~is_v).premature
    )
    label = np.full(f.corr.shape, "N", dtype="<U1")
    label[early_sv & ~is_v] = "S"
    label[is_v] = "V"
    label[~quality_ok] = "Q"
    return label
