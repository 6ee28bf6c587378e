"""Lead derivation and limb-electrode reversal detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ecg_core.lead_derivation import derive_limb_leads
from ecg_core.twelve_lead import analyze_twelve_lead
from models.errors import InvalidSignalError
from models.leads import STANDARD_12


def _ludb(samples_dir: Path, name: str) -> tuple[np.ndarray, float]:
    import wfdb

    rec = wfdb.rdrecord(str(samples_dir / name))
    return rec.p_signal.T.astype(np.float64), float(rec.fs)


@given(arrays(np.float64, (2, 50), elements=st.floats(-5, 5)))
def test_derived_leads_follow_einthoven_goldberger(x: np.ndarray) -> None:
    # Given leads I and II only / When deriving / Then the classic identities hold
    d = derive_limb_leads(x, ("I", "II"))
    lead = {name: d.signal_mv[i] for i, name in enumerate(d.leads)}
    assert d.derived == ("III", "aVR", "aVL", "aVF")
    np.testing.assert_allclose(lead["III"], lead["II"] - lead["I"])
    np.testing.assert_allclose(lead["aVR"] + lead["aVL"] + lead["aVF"], 0.0, atol=1e-9)
    np.testing.assert_allclose(lead["aVF"], lead["II"] - lead["I"] / 2)


def test_no_derivation_without_lead_i() -> None:
    d = derive_limb_leads(np.ones((2, 10)), ("II", "V1"))
    assert d.derived == ()
    assert d.leads == ("II", "V1")


def test_shape_mismatch_raises() -> None:
    with pytest.raises(InvalidSignalError, match="lead names"):
        derive_limb_leads(np.ones((3, 10)), ("I", "II"))


def test_eight_lead_record_gets_limb_leads_back(samples_dir: Path) -> None:
    # Given ludb1 stored as 8 independent leads (I, II, V1-V6)
    x, fs = _ludb(samples_dir, "ludb1")
    keep = [0, 1, *range(6, 12)]
    full = analyze_twelve_lead(x, STANDARD_12, fs_hz=fs)
    eight = analyze_twelve_lead(x[keep], tuple(STANDARD_12[i] for i in keep), fs_hz=fs)
    # Then III, aVR, aVL, aVF are derived and their ST levels match the recorded ones
    assert set(eight.derived_leads) == {"III", "aVR", "aVL", "aVF"}
    st_full, st_eight = full.per_lead("st_j_mv"), eight.per_lead("st_j_mv")
    for lead in ("III", "aVR", "aVL", "aVF"):
        assert st_eight[lead] == pytest.approx(st_full[lead], abs=0.03)


def test_la_ra_reversal_is_detected(samples_dir: Path) -> None:
    # Given ludb1 and the same ECG with left and right arm electrodes swapped
    x, fs = _ludb(samples_dir, "ludb1")
    idx = {n: i for i, n in enumerate(STANDARD_12)}
    swapped = x.copy()
    swapped[idx["I"]] = -x[idx["I"]]
    swapped[idx["II"]], swapped[idx["III"]] = x[idx["III"]], x[idx["II"]]
    swapped[idx["aVR"]], swapped[idx["aVL"]] = x[idx["aVL"]], x[idx["aVR"]]
    # Then only the swapped one is reported as a reversal
    assert analyze_twelve_lead(x, STANDARD_12, fs_hz=fs).reversal is None
    assert analyze_twelve_lead(swapped, STANDARD_12, fs_hz=fs).reversal == "LA/RA"


@settings(max_examples=5, deadline=None)
@given(scale=st.floats(0.6, 3.0))
def test_noisy_lead_is_excluded(samples_dir: Path, scale: float) -> None:
    # Given ludb1 with strong broadband noise added to V5
    x, fs = _ludb(samples_dir, "ludb1")
    rng = np.random.default_rng(0)
    noisy = x.copy()
    noisy[STANDARD_12.index("V5")] += scale * rng.normal(0.0, 0.5, x.shape[1])
    f = analyze_twelve_lead(noisy, STANDARD_12, fs_hz=fs)
    # Then V5 is excluded, with the reason, and no longer measured
    assert [lead for lead, _ in f.excluded_leads] == ["V5"]
    assert "V5" not in f.leads
