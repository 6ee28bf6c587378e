"""Beat classification rules (ecg_core.beat_class): width measure and V criteria."""

import numpy as np

from ecg_core.beat_class import (
    CLUSTER_AMP,
    V_AMP_RATIO,
    V_CORR_SV,
    V_MAX_SPAN,
    V_MIN_AMP,
    WIN_POST_S,
    WIN_PRE_S,
    BeatFeatures,
    _same_morphology,
    _width_s,
    beat_features,
    classify_beats,
)
from tests.ecg_core.beat_factory import one_beat


def _one(sv_corr: float | None = None, **kw: float) -> BeatFeatures:
    return one_beat(sv_corr, **({"corr": 0.9, "width_s": 0.1} | kw))


def test_width_is_not_quantised_to_the_sample_step() -> None:
    # Given the same Gaussian QRS sampled at 120 Hz with its peak at 10 sub-sample phases
    fs_hz, sigma_s = 120.0, 0.012
    t = np.arange(-30, 31) / fs_hz
    widths = []
    for phase in np.linspace(0.0, 1.0, 10, endpoint=False):
        x = np.exp(-(((t - phase / fs_hz) / sigma_s) ** 2) / 2.0)
        widths.append(float(_width_s(x[np.newaxis, np.newaxis], np.ones((1, 1)), 1.0 / fs_hz)[0]))
    # Then the width moves by far less than one 8.3 ms sample step with the phase
    assert np.ptp(widths) < 0.3 / fs_hz
    # And a wider pulse reads wider by about the true difference (not 0 or 1 step)
    wide = np.exp(-((t / (1.2 * sigma_s)) ** 2) / 2.0)
    narrow = np.exp(-((t / sigma_s) ** 2) / 2.0)
    lw = np.ones((1, 1))
    d = float(_width_s(wide[np.newaxis, np.newaxis], lw, 1 / fs_hz)[0]) - float(
        _width_s(narrow[np.newaxis, np.newaxis], lw, 1 / fs_hz)[0]
    )
    assert 0.3 / fs_hz < d < 2.0 / fs_hz


def test_small_unclustered_beat_is_not_v() -> None:
    ok = np.ones(1, dtype=bool)
    # an early, wide, unrelated beat of ectopic size is V
    ectopic = _one(rr_ratio=0.6, comp_ratio=1.8, corr=0.1, amp_ratio=1.2, width_excess_s=0.05)
    assert classify_beats(ectopic, ok)[0] == "V"
    # the same beat at under half the dominant QRS amplitude is not (noise, P/T wave)
    small = _one(
        rr_ratio=0.6, comp_ratio=1.8, corr=0.1, amp_ratio=0.8 * V_MIN_AMP, width_excess_s=0.05
    )
    assert classify_beats(small, ok)[0] == "S"


def test_unclustered_beat_without_a_discrete_qrs_is_not_v() -> None:
    ok = np.ones(1, dtype=bool)
    early = {"rr_ratio": 0.6, "comp_ratio": 1.8, "corr": 0.1, "amp_ratio": 1.2}
    # a 160 ms wide, early, unrelated complex is V
    assert classify_beats(_one(width_s=0.16, width_excess_s=0.07, **early), ok)[0] == "V"
    # slope energy spread over the whole QRS window (noise): not V
    span = V_MAX_SPAN * (WIN_PRE_S + WIN_POST_S) + 0.005
    assert classify_beats(_one(width_s=span, width_excess_s=0.15, **early), ok)[0] == "S"


def test_unclustered_beat_like_a_supraventricular_template_is_not_v() -> None:
    ok = np.ones(1, dtype=bool)
    early = {"rr_ratio": 0.6, "comp_ratio": 1.8, "corr": 0.4, "amp_ratio": 1.2}
    # early, wide, unlike the dominant beat and every other conducted morphology: V
    assert classify_beats(_one(sv_corr=0.4, width_excess_s=0.05, **early), ok)[0] == "V"
    # the same beat correlating with a secondary supraventricular cluster: premature, so S
    like_sv = _one(sv_corr=V_CORR_SV + 0.05, width_excess_s=0.05, **early)
    assert classify_beats(like_sv, ok)[0] == "S"


def test_split_clusters_of_one_morphology_are_recognised() -> None:
    # Given a two-lead template and variants of it
    t = np.linspace(-1.0, 1.0, 31)
    qrs = np.stack([np.exp(-((t / 0.2) ** 2)), -0.5 * np.exp(-((t / 0.25) ** 2))])
    lw = np.ones(2)
    # Then a slightly larger copy (within the clustering amplitude ratio) is the same one
    assert _same_morphology(1.2 * qrs, qrs, lw)
    # but not a copy larger than CLUSTER_AMP, nor a different shape (a V cluster stays V)
    assert not _same_morphology(1.1 * CLUSTER_AMP * qrs, qrs, lw)
    assert not _same_morphology(np.stack([-qrs[0], qrs[1]]), qrs, lw)


def _synthetic(fs_hz: float, n_beats: int, odd: str) -> tuple[np.ndarray, np.ndarray]:
    """Regular 75 bpm rhythm of narrow Gaussian QRS; every 4th beat replaced by ``odd``."""
    rr_s = 0.8
    n = int((n_beats + 1) * rr_s * fs_hz)
    t = np.arange(n) / fs_hz
    x = np.zeros(n)
    r_idx = []
    for k in range(n_beats):
        tr = (k + 1) * rr_s
        if k % 4 == 2 and odd == "small_on_time":
            # smaller, same width, different shape (biphasic), on time
            x += 0.25 * (np.exp(-(((t - tr + 0.008) / 0.008) ** 2) / 2))
            x -= 0.25 * (np.exp(-(((t - tr - 0.008) / 0.008) ** 2) / 2))
        elif k % 4 == 2 and odd == "pvc":
            # early (70 % of RR), wide and large, opposite polarity; full compensatory pause
            tr -= 0.3 * rr_s
            x -= 1.8 * np.exp(-(((t - tr) / 0.035) ** 2) / 2)
        else:
            x += np.exp(-(((t - tr) / 0.01) ** 2) / 2)
        r_idx.append(round(tr * fs_hz))
    return x[np.newaxis], np.asarray(r_idx, dtype=np.intp)


def test_small_narrow_on_time_cluster_is_not_v_but_wide_early_one_is() -> None:
    fs_hz = 250.0
    for odd, want_v in (("small_on_time", False), ("pvc", True)):
        # Given a clean rhythm where every 4th beat has another morphology
        x, r_idx = _synthetic(fs_hz, 60, odd)
        lw = np.ones((1, r_idx.size))
        f = beat_features(x, r_idx, lw, fs_hz, step=2)
        labels = classify_beats(f, np.ones(r_idx.size, dtype=bool))
        odd_beats = np.arange(r_idx.size) % 4 == 2
        # Then the odd beats form a cluster of their own (not the dominant one)
        assert (f.cluster[odd_beats] >= 0).all()
        assert (f.cluster[odd_beats] != f.dominant).all()
        if want_v:
            assert (labels[odd_beats] == "V").all()
        else:
            # smaller than 1 / V_AMP_RATIO of the dominant beat, not wider, not early: not V
            assert np.median(f.amp_ratio[odd_beats]) < 1.0 / V_AMP_RATIO
            assert (labels[odd_beats] == "N").all()
        # and the dominant beats stay N (the local median RR is skewed in the last beats)
        mid = np.arange(r_idx.size) < r_idx.size - 8
        assert (labels[mid & ~odd_beats] == "N").all()


def _with_p_waves(fs_hz: float, n_beats: int, pac_p: float) -> tuple[np.ndarray, np.ndarray]:
    """75 bpm sinus beats with a P wave 160 ms before R; every 6th beat an early atrial
    beat (70 % of the RR, reset pause 0.9 s) whose P wave has amplitude ``pac_p``."""
    rr = np.full(n_beats, 0.8)
    rr[6::6] = 0.56
    rr[7::6] = 0.9
    r_s = 0.8 + np.cumsum(rr) - rr[0]
    n = int((r_s[-1] + 1.0) * fs_hz)
    t = np.arange(n) / fs_hz
    x = np.zeros(n)
    for k, tr in enumerate(r_s):
        p_amp = pac_p if k % 6 == 0 and k > 0 else 0.15
        x += p_amp * np.exp(-(((t - tr + 0.16) / 0.02) ** 2) / 2)
        x += np.exp(-(((t - tr) / 0.01) ** 2) / 2)
    return x[np.newaxis], np.round(r_s * fs_hz).astype(np.intp)


def test_early_atrial_beats_are_s_by_timing_and_p_wave() -> None:
    fs_hz = 250.0
    for pac_p, want in ((-0.15, "S"), (0.15, "N")):
        # Given sinus beats and early beats of the same QRS, with an inverted (ectopic) or
        # the sinus P wave
        x, r_idx = _with_p_waves(fs_hz, 90, pac_p)
        ok = np.ones(r_idx.size, dtype=bool)
        f = beat_features(x, r_idx, np.ones((1, r_idx.size)), fs_hz, step=2)
        labels = classify_beats(f, ok)
        early = (np.arange(r_idx.size) % 6 == 0) & (np.arange(r_idx.size) > 0)
        inner = (np.arange(r_idx.size) > 3) & (np.arange(r_idx.size) < r_idx.size - 3)
        assert f.rr_s is not None
        assert f.p_corr is not None
        # Then the sinus beats correlate with the sinus P template and stay N
        assert np.median(f.p_corr[~early]) > 0.9
        assert (labels[inner & ~early] == "N").all()
        # and the early beats are S only with an ectopic P wave (same P: sinus arrhythmia)
        assert (labels[inner & early] == want).all()
