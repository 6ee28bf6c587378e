"""Noisy-lead exclusion: noise is beat-to-median dispersion over each beat's own QRS-T.

A large, stable ST elevation in an irregular rhythm is not noise (the STEMI injection
study lost exactly the ST-elevated leads of LUDB 103 / 173 that way); broadband noise
still is; a territory whose leads are all lost is reported, never read as normal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecg_core.analysis import analyze_record
from ecg_core.rules.twelve_lead_technical import territories_not_assessable
from ecg_core.twelve_lead import NOISY_LEAD_MV, analyze_twelve_lead
from models.leads import STANDARD_12
from models.profile import load_profile
from models.record import make_record

_FS = 500.0
_INFERIOR = ("II", "III", "aVF")


def _irregular_with_ste(st_mv: float, seed: int = 0) -> np.ndarray:
    """12 leads, RR uniform in 0.4-0.8 s (AF-like), ST plateau J..T end in II, III, aVF."""
    rng = np.random.default_rng(seed)
    n = int(10 * _FS)
    t = np.arange(n) / _FS
    r_s: list[float] = []
    x = 0.4
    while x < 9.5:
        r_s.append(x)
        x += rng.uniform(0.4, 0.8)
    base = np.zeros(n)
    injury = np.zeros(n)
    for rt in r_s:
        base += 1.2 * np.exp(-((t - rt) ** 2) / (2 * 0.012**2))
        base -= 0.3 * np.exp(-((t - rt - 0.03) ** 2) / (2 * 0.01**2))
        base += 0.3 * np.exp(-((t - rt - 0.28) ** 2) / (2 * 0.05**2))
        on, j, tp, te = rt - 0.04, rt + 0.04, rt + 0.28, rt + 0.40
        w = np.zeros(n)
        a = (t >= on) & (t < j)
        w[a] = 0.5 - 0.5 * np.cos(np.pi * (t[a] - on) / (j - on))
        w[(t >= j) & (t < tp)] = 1.0
        b = (t >= tp) & (t < te)
        w[b] = 0.5 + 0.5 * np.cos(np.pi * (t[b] - tp) / (te - tp))
        injury += w
    sig = np.linspace(0.6, 1.4, 12)[:, None] * base[None] + 0.01 * rng.normal(size=(12, n))
    for lead in _INFERIOR:
        sig[STANDARD_12.index(lead)] += st_mv * injury
    return sig


def test_stable_st_elevation_in_irregular_rhythm_is_not_noise() -> None:
    # Given an AF-like irregular rhythm with a stable 0.3 mV inferior ST elevation
    from ecg_core.twelve_lead import _run

    sig = _irregular_with_ste(0.3)
    d, _, meas = _run(sig, STANDARD_12, _FS, None, None)
    rows = [STANDARD_12.index(lead) for lead in _INFERIOR]
    # (the fixed window around R holds the neighbours' ST-T at moving positions: it would
    # read the ST-elevated leads as noisy)
    assert (meas.noise_mv[rows] > NOISY_LEAD_MV).all()
    # When the 12-lead stage runs
    f = analyze_twelve_lead(sig, STANDARD_12, fs_hz=_FS)
    # Then no lead is excluded and the elevation is measured
    assert f.excluded_leads == ()
    assert d.lead_noise_mv is not None
    assert (d.lead_noise_mv[rows] < 0.5 * NOISY_LEAD_MV).all()
    st = f.per_lead("st_j_mv")
    assert all(abs(st[lead] - 0.3) < 0.06 for lead in _INFERIOR)


def test_broadband_noise_in_an_irregular_rhythm_is_still_excluded() -> None:
    # Given the same irregular rhythm with strong noise on aVL only
    sig = _irregular_with_ste(0.3)
    sig[STANDARD_12.index("aVL")] += np.random.default_rng(3).normal(0.0, 0.4, sig.shape[1])
    # Then aVL, and only aVL, is excluded
    f = analyze_twelve_lead(sig, STANDARD_12, fs_hz=_FS)
    assert [lead for lead, _ in f.excluded_leads] == ["aVL"]


def test_territory_with_fewer_than_two_measured_leads_is_not_assessable() -> None:
    measured = ("I", "II", "aVR", "aVL", "V1", "V2", "V3", "V4", "V5", "V6")
    assert territories_not_assessable(measured, ("III", "aVF")) == [("inferior", ("III", "aVF"))]
    # one inferior lead lost, two left: still assessable
    assert territories_not_assessable((*measured, "aVF"), ("III",)) == []
    # V2 lost: V1 alone cannot show septal STE, V3-V4 still can show anterior
    no_v2 = tuple(x for x in measured if x != "V2")
    assert territories_not_assessable(no_v2, ("V2",)) == [("septal", ("V2",))]
    # V1 lost: V2 still pairs with V3, septal ST elevation in V2-V3 stays readable
    no_v1 = tuple(x for x in measured if x != "V1")
    assert territories_not_assessable(no_v1, ("V1",)) == []


def test_noisy_inferior_leads_give_an_abnormal_finding(samples_dir: Path) -> None:
    # Given ludb1 with strong noise on III and aVF
    import wfdb

    rec = wfdb.rdrecord(str(samples_dir / "ludb1"))
    x = rec.p_signal.T.astype(np.float64)
    rng = np.random.default_rng(0)
    for lead in ("III", "aVF"):
        x[STANDARD_12.index(lead)] += rng.normal(0.0, 0.8, x.shape[1])
    record = make_record(
        x, fs_hz=float(rec.fs), leads=list(STANDARD_12), record_id="n", source_format="array"
    )
    # When it is analysed
    result = analyze_record(record, profile=load_profile())
    # Then the inferior territory is reported as not assessable, at abnormal severity
    terr = [f for f in result.findings if f.rule == "lead-noisy-territory"]
    assert [(f.value, f.severity, sorted(f.leads or [])) for f in terr] == [
        ("inferior", "abnormal", ["III", "aVF"])
    ]
    # and the clean record has no such finding
    clean = make_record(
        rec.p_signal.T.astype(np.float64),
        fs_hz=float(rec.fs),
        leads=list(STANDARD_12),
        record_id="c",
        source_format="array",
    )
    assert not [
        f
        for f in analyze_record(clean, profile=load_profile()).findings
        if f.code == "LEAD_UNUSABLE"
    ]


def test_motion_artefact_on_a_real_lead_is_still_excluded(samples_dir: Path) -> None:
    # Given ludb1 with 0.4 mV RMS of 0.5-8 Hz (electrode-motion-like) noise on V2
    import wfdb
    from scipy.signal import butter, sosfiltfilt

    rec = wfdb.rdrecord(str(samples_dir / "ludb1"))
    x = rec.p_signal.T.astype(np.float64)
    sos = butter(2, [0.5, 8.0], btype="band", fs=float(rec.fs), output="sos")
    motion = sosfiltfilt(sos, np.random.default_rng(5).normal(size=x.shape[1]))
    x[STANDARD_12.index("V2")] += 0.4 * motion / motion.std()
    # Then V2, and only V2, is excluded
    f = analyze_twelve_lead(x, STANDARD_12, fs_hz=float(rec.fs))
    assert [lead for lead, _ in f.excluded_leads] == ["V2"]


def test_flat_precordial_leads_make_their_territories_not_assessable(samples_dir: Path) -> None:
    # Given ludb1 with V3 and V4 flat (electrodes off): the reader marks them unusable
    import wfdb

    rec = wfdb.rdrecord(str(samples_dir / "ludb1"))
    x = rec.p_signal.T.astype(np.float64)
    for lead in ("V3", "V4"):
        x[STANDARD_12.index(lead)] = 0.0
    record = make_record(
        x, fs_hz=float(rec.fs), leads=list(STANDARD_12), record_id="f", source_format="array"
    )
    result = analyze_record(record, profile=load_profile())
    # Then the anterior territory (V3, V4) is reported; V2 still pairs with V1, V5 with V6
    terr = [f for f in result.findings if f.rule == "lead-noisy-territory"]
    assert [(f.value, f.severity, f.leads) for f in terr] == [
        ("anterior", "abnormal", ["V3", "V4"])
    ]
    assert "unusable" in terr[0].message
