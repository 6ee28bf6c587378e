"""The rhythm stage: beats + signal -> timed episodes and the features the rules read.

Episodes form one rhythm track (non-overlapping, PhysioNet vocabulary: ``N SBR SVTA
AFL AFIB VT IVR VF ASYS B T NOISE``) painted on a 0.1 s grid by priority (VF > NOISE > ASYS >
VT > IVR > AFIB > AFL > SVTA > T > B > SBR > N), plus event episodes that may overlap the track:
``PAUSE`` (every RR >= ``pause_min_s``) and ``BII`` (second-degree block candidates).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ecg_core.rhythm.af import af_episodes, af_trace
from ecg_core.rhythm.atrial import p_wave_coherence
from ecg_core.rhythm.av_block import second_degree_candidates
from ecg_core.rhythm.av_dissociation import third_degree_block
from ecg_core.rhythm.features import AfEpisodes, RhythmFeatures, RhythmParams
from ecg_core.rhythm.flutter import FlutterEpisodes, flutter_episodes, flutter_trace
from ecg_core.rhythm.intervals import true_runs
from ecg_core.rhythm.morphology import (
    correlation_with_normal,
    pvc_families,
    t_wave_alternans_mv,
)
from ecg_core.rhythm.pauses import find_pauses
from ecg_core.rhythm.runs import BeatRuns, beat_runs, pattern_runs, pvc_coupling
from ecg_core.rhythm.vf import organised_vt_episodes, quiet_episodes, vf_episodes, vf_trace
from ecg_core.types import BeatSeries
from models.result import Episode

__all__ = ["GRID_S", "TRACK_PRIORITY", "analyze_rhythm"]

GRID_S = 0.1
#: Rhythm-track labels, lowest priority first.
TRACK_PRIORITY: tuple[str, ...] = (
    "N", "SBR", "B", "T", "SVTA", "AFL", "AFIB", "IVR", "VT", "NOISE", "ASYS", "VF",
)  # fmt: skip


def _local_rate_bpm(beats: BeatSeries, window: int) -> NDArray[np.float64]:
    rr = beats.rr_ms
    n = len(beats)
    if rr.size == 0:
        return np.full(n, np.nan)
    half = window // 2
    padded = np.pad(rr, (half, half), mode="edge")
    med = np.median(sliding_window_view(padded, 2 * half + 1), axis=1)  # per RR
    per_beat = np.concatenate((med[:1], med))  # beat k takes the RR ending at it
    return 60000.0 / per_beat


def _af_details(beats: BeatSeries, on: NDArray[np.float64], off: NDArray[np.float64]) -> AfEpisodes:
    t = beats.r_idx.astype(np.float64) / beats.fs_hz
    lo = np.searchsorted(t, on)
    hi = np.searchsorted(t, off, side="right")
    conducted = ~np.isin(beats.label, ["V", "F", "Q"])
    rr = beats.rr_ms
    rr_ok = np.where(conducted[1:] & conducted[:-1], rr, np.inf)
    rate, min_rr, qrs = (np.full(on.size, np.nan) for _ in range(3))
    for i in range(on.size):  # loop over AF episodes (few), each vectorised over beats
        a, b = int(lo[i]), int(hi[i])
        if b - a >= 2:
            rate[i] = 60.0 * (b - a - 1) / (t[b - 1] - t[a])
            m = float(np.min(rr_ok[a : b - 1]))
            min_rr[i] = m if np.isfinite(m) else np.nan
            q = beats.qrs_ms[a:b][conducted[a:b]]
            qrs[i] = float(np.nanmedian(q)) if np.isfinite(q).any() else np.nan
    return AfEpisodes(on, off, rate, min_rr, qrs, (hi - lo).astype(np.intp))


def _paint(
    n_cells: int, starts_s: NDArray[np.float64], ends_s: NDArray[np.float64]
) -> NDArray[np.bool_]:
    delta = np.zeros(n_cells + 1, dtype=np.int64)
    a = np.clip(np.floor(starts_s / GRID_S).astype(np.int64), 0, n_cells)
    b = np.clip(np.ceil(ends_s / GRID_S).astype(np.int64), 0, n_cells)
    keep = b > a
    np.add.at(delta, a[keep], 1)
    np.add.at(delta, b[keep], -1)
    return np.asarray(np.cumsum(delta)[:n_cells] > 0)


def _run_bounds(
    runs: BeatRuns, t: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if runs.first.size == 0:
        return np.zeros(0), np.zeros(0)
    nxt = np.minimum(runs.last + 1, t.size - 1)
    return t[runs.first], t[nxt]


def _track(
    beats: BeatSeries,
    feats: RhythmFeatures,
    asys: tuple[NDArray[np.float64], NDArray[np.float64]],
    afl: FlutterEpisodes | None = None,
) -> list[tuple[str, float, float]]:
    p = feats.params
    t = feats.t_beat_s
    n_cells = int(np.ceil(feats.duration_s / GRID_S))
    code = np.full(n_cells, -1, dtype=np.int8)
    layers: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    if t.size >= 2:
        layers["N"] = (t[:1], t[-1:])
        slow = (feats.local_rate_bpm < p.brady_bpm) & (feats.label == "N")
        s, e = true_runs(slow[1:] & slow[:-1])
        layers["SBR"] = (t[s], t[e])
    vt = feats.v_runs.select(feats.v_runs.n_beats >= 3)
    fast = vt.rate_bpm >= p.vt_min_rate_bpm
    layers["VT"] = _run_bounds(vt.select(fast), t)
    layers["IVR"] = _run_bounds(vt.select(~fast), t)
    layers["SVTA"] = _run_bounds(feats.s_runs, t)
    layers["B"] = _run_bounds(feats.bigeminy, t)
    layers["T"] = _run_bounds(feats.trigeminy, t)
    layers["AFIB"] = (feats.af.onset_s, feats.af.offset_s)
    if afl is not None:
        layers["AFL"] = (afl.onset_s, afl.offset_s)
    layers["ASYS"] = asys
    layers["NOISE"] = (feats.noise_spans_s[:, 0], feats.noise_spans_s[:, 1])
    layers["VF"] = (feats.vf_onset_s, feats.vf_offset_s)
    for k, name in enumerate(TRACK_PRIORITY):
        on, off = layers.get(name, (np.zeros(0), np.zeros(0)))
        if on.size:
            code[_paint(n_cells, on, off)] = k
    change = np.flatnonzero(np.diff(code)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n_cells]))
    return [
        (TRACK_PRIORITY[code[a]], a * GRID_S, min(b * GRID_S, feats.duration_s))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
        if code[a] >= 0
    ]


def _evidence(
    feats: RhythmFeatures, on: float, off: float
) -> dict[str, float | int | list[int] | list[str]]:
    t = feats.t_beat_s
    a, b = int(np.searchsorted(t, on)), int(np.searchsorted(t, off, side="right"))
    ev: dict[str, float | int | list[int] | list[str]] = {
        "n_beats": b - a,
        "leads": list(feats.leads),
    }
    if b - a >= 2:
        ev["beat_range"] = [a, b - 1]
        ev["mean_hr_bpm"] = round(60.0 * (b - a - 1) / max(t[b - 1] - t[a], 1e-9), 1)
    return ev


def _afl_evidence(
    afl: FlutterEpisodes, on: float, off: float
) -> dict[str, float | int | str | list[int] | list[str]]:
    """Rates of the flutter episode that most overlaps the painted AFL span ``[on, off]``."""
    ov = np.minimum(afl.offset_s, off) - np.maximum(afl.onset_s, on)
    if ov.size == 0:
        return {}
    i = int(np.argmax(ov))
    out: dict[str, float | int | str | list[int] | list[str]] = {
        "atrial_rate_bpm": round(float(afl.atrial_bpm[i]), 1),
        "method": "regular atrial activity 200-370 /min: narrow dominant spectral peak of the "
        "QRS-blanked residual, agreeing across leads and stable over windows",
    }
    if np.isfinite(afl.conduction_ratio[i]):
        out["ventricular_rate_bpm"] = round(float(afl.ventricular_bpm[i]), 1)
        out["conduction_ratio"] = round(float(afl.conduction_ratio[i]), 2)
    return out


def analyze_rhythm(
    signal_mv: NDArray[np.float64],
    beats: BeatSeries,
    *,
    duration_s: float,
    leads: tuple[str, ...],
    params: RhythmParams | None = None,
) -> tuple[list[Episode], RhythmFeatures]:
    """Rhythm episodes and features of one record.

    Parameters
    ----------
    signal_mv : ndarray, shape (n_leads, n_samples)
        Usable leads, mV, no NaN.
    beats : BeatSeries
        Detected and classified beats (``fs_hz`` equal to the signal's).
    duration_s : float
        Record duration, s.
    leads : tuple of str
        Names of the leads in ``signal_mv``.
    params : RhythmParams, optional
        Thresholds (see :func:`ecg_core.rhythm.features.params_from_profile`).

    Returns
    -------
    episodes : list of Episode
        Rhythm track plus PAUSE / BII events, by onset.
    features : RhythmFeatures
        Everything the arrhythmia rules read.
    """
    p = params or RhythmParams()
    fs = beats.fs_hz
    t = beats.r_idx.astype(np.float64) / fs
    noise = np.array(
        [[sp.start_idx / fs, sp.end_idx / fs] for sp in beats.unanalysable], dtype=np.float64
    ).reshape(-1, 2)
    trace = vf_trace(signal_mv, fs_hz=fs, params=p.vf)
    vf_on, vf_off = vf_episodes(trace, params=p.vf)
    svt_on, svt_off, svt_rate = organised_vt_episodes(trace, params=p.vf)
    quiet_on, quiet_off = quiet_episodes(trace, min_s=p.asystole_min_s)
    pc = p_wave_coherence(signal_mv, beats)
    af_on, af_off = af_episodes(beats, af_trace(beats, p_coherence=pc, params=p.af), params=p.af)
    # atrial flutter where AF, VF and noise leave room (AF takes precedence: flutter.py)
    afl = flutter_episodes(
        flutter_trace(signal_mv, beats, params=p.flutter),
        duration_s=duration_s,
        exclude_on=np.concatenate([af_on, vf_on, noise[:, 0]]),
        exclude_off=np.concatenate([af_off, vf_off, noise[:, 1]]),
        params=p.flutter,
    )
    pauses = find_pauses(
        beats,
        min_pause_s=p.pause_min_s,
        exclude_s=np.vstack([noise, np.column_stack([vf_on, vf_off])]),
        signal_mv=signal_mv,
        duration_s=duration_s,
    )
    s_runs = beat_runs(beats, ("S",), min_beats=3)
    pvc_idx, coupling, prev_rr, next_rr = pvc_coupling(beats)
    tw_mv, tw_beat = t_wave_alternans_mv(signal_mv, beats)
    feats = RhythmFeatures(
        duration_s=duration_s,
        t_beat_s=t,
        label=beats.label,
        qrs_ms=beats.qrs_ms,
        local_rate_bpm=_local_rate_bpm(beats, p.rate_window_rr),
        pauses=pauses,
        v_runs=beat_runs(beats, ("V", "F"), min_beats=2),
        s_runs=s_runs.select(s_runs.rate_bpm >= p.svt_min_rate_bpm),
        bigeminy=pattern_runs(beats, period=2, min_cycles=p.min_pattern_cycles),
        trigeminy=pattern_runs(beats, period=3, min_cycles=p.min_pattern_cycles),
        af=_af_details(beats, af_on, af_off),
        vf_onset_s=vf_on,
        vf_offset_s=vf_off,
        asys_onset_s=quiet_on,
        asys_offset_s=quiet_off,
        vf_windows_vt_like=int(trace.vt_like.sum()),
        pvc_idx=pvc_idx,
        pvc_coupling_ms=coupling,
        pvc_prev_rr_ms=prev_rr,
        pvc_next_rr_ms=next_rr,
        pvc_family=pvc_families(signal_mv, beats, pvc_idx),
        pvc_normal_corr=correlation_with_normal(signal_mv, beats, pvc_idx),
        bii_idx=second_degree_candidates(beats, pc)[0],
        t_alternans_mv=tw_mv,
        t_alternans_beat=tw_beat,
        noise_spans_s=noise,
        leads=leads,
        params=p,
        third_degree=third_degree_block(signal_mv, beats),
    )
    long_ = pauses.rr_s >= p.asystole_min_s
    asys = (
        np.concatenate([pauses.onset_s[long_], quiet_on]),
        np.concatenate([pauses.offset_s[long_], quiet_off]),
    )
    track = _track(beats, feats, asys, afl)
    episodes = [
        Episode(
            type=k,
            onset_s=a,
            offset_s=b,
            evidence=_evidence(feats, a, b) | (_afl_evidence(afl, a, b) if k == "AFL" else {}),
        )
        for k, a, b in track
    ]
    episodes.extend(
        Episode(
            type="PAUSE",
            onset_s=float(a),
            offset_s=float(b),
            evidence={
                "rr_s": round(float(b - a), 3),
                "beat_indices": [int(i), int(i) + 1],
                "quiet_signal": bool(q),
                "leads": list(leads),
            },
        )
        for a, b, i, q in zip(
            pauses.onset_s, pauses.offset_s, pauses.before_idx, pauses.quiet, strict=True
        )
    )
    episodes.extend(
        Episode(
            type="BII",
            onset_s=float(t[i]),
            offset_s=float(t[i + 1]),
            evidence={
                "beat_indices": [int(i), int(i) + 1],
                "method": "RR ~2x basic cycle with P waves locked to QRS; P in pause not verified",
                "leads": list(leads),
            },
        )
        for i in feats.bii_idx
    )
    td = feats.third_degree
    if td is not None:
        episodes.extend(
            Episode(
                type="BIII",
                onset_s=float(a),
                offset_s=float(b),
                evidence={
                    "atrial_rate_bpm": round(float(ar), 1),
                    "ventricular_rate_bpm": round(float(vr), 1),
                    "pr_sd_ms": round(float(sd), 1),
                    "method": "AV dissociation: regular P waves faster than a regular slow "
                    "escape rhythm, PR not constant (P detected after QRST cancellation)",
                    "leads": list(leads),
                },
            )
            for a, b, ar, vr, sd in zip(
                td.onset_s,
                td.offset_s,
                td.atrial_bpm,
                td.ventricular_bpm,
                td.pr_sd_ms,
                strict=True,
            )
        )
    episodes.extend(
        Episode(
            type="VT",
            onset_s=float(a),
            offset_s=float(b),
            evidence={
                "source": "signal",
                "rate_bpm": round(float(r), 1),
                "method": "VF-like waves, regular (cycle CV < 0.08) and slower than flutter: "
                "monomorphic VT without discrete QRS complexes to classify",
                "leads": list(leads),
            },
        )
        for a, b, r in zip(svt_on, svt_off, svt_rate, strict=True)
    )
    episodes.sort(key=lambda e: (e.onset_s, e.type))
    return episodes, feats
