"""The normalised record: units, lead names, validation, gaps and unusable leads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import InputError, InvalidSignalError, SamplingRateError, SignalTooShortError
from models.record import make_record


def _sine(n_leads: int = 2, n: int = 2500) -> np.ndarray:
    t = np.arange(n) / 250.0
    return np.vstack([np.sin(2 * np.pi * 1.2 * t) * (i + 1) for i in range(n_leads)])


def test_units_are_converted_to_millivolts() -> None:
    # Given the same trace in microvolts and in volts
    sig = _sine()
    rec_uv = make_record(
        sig * 1000, fs_hz=250, leads=["I", "II"], record_id="a", source_format="array", units="uV"
    )
    rec_v = make_record(
        sig / 1000,
        fs_hz=250,
        leads=["I", "II"],
        record_id="a",
        source_format="array",
        units=["V", "V"],
    )
    # Then both come back in mV
    np.testing.assert_allclose(rec_uv.signal_mv, sig)
    np.testing.assert_allclose(rec_v.signal_mv, sig)


def test_samples_leads_layout_is_transposed_and_input_not_mutated() -> None:
    sig = _sine(3).T.copy()
    before = sig.copy()
    rec = make_record(
        sig,
        fs_hz=250,
        leads=["avr", "Lead II", "MLII"],
        record_id="r",
        source_format="array",
        layout="samples_leads",
    )
    assert rec.signal_mv.shape == (3, 2500)
    assert rec.leads == ("aVR", "II", "MLII")
    np.testing.assert_array_equal(sig, before)


@pytest.mark.parametrize("fs", [0, 1e9, float("nan"), -250, 49.9, "abc"])
def test_implausible_sampling_rate_is_rejected(fs: object) -> None:
    with pytest.raises(SamplingRateError, match="sampling rate"):
        make_record(
            _sine(),
            fs_hz=fs,
            leads=["I", "II"],
            record_id="x",  # type: ignore[arg-type]
            source_format="array",
        )


def test_one_second_is_too_short_and_names_the_file() -> None:
    with pytest.raises(SignalTooShortError, match=r"f\.csv: need at least 2 s.*1\.00 s"):
        make_record(
            _sine(n=250),
            fs_hz=250,
            leads=["I", "II"],
            record_id="f",
            source_format="csv",
            source="f.csv",
        )


def test_all_nan_signal_is_an_input_error() -> None:
    with pytest.raises(InvalidSignalError, match="NaN"):
        make_record(
            np.full((1, 1000), np.nan),
            fs_hz=250,
            leads=["II"],
            record_id="n",
            source_format="array",
        )


def test_nan_runs_are_reported_as_gaps_not_filled() -> None:
    sig = _sine()
    sig[1, 500:750] = np.nan
    rec = make_record(sig, fs_hz=250, leads=["I", "II"], record_id="g", source_format="array")
    assert len(rec.gaps) == 1
    gap = rec.gaps[0]
    assert (gap.lead, gap.start_s, gap.end_s) == ("II", 2.0, 3.0)
    assert np.isnan(rec.signal_mv[1, 500:750]).all()


def test_flat_saturated_and_missing_leads_are_marked_unusable() -> None:
    sig = _sine(4)
    sig[1] = 0.5  # flat
    sig[2] = np.clip(sig[2] * 10, -2, 2)  # clipped at the rails
    sig[3] = np.nan
    rec = make_record(
        sig, fs_hz=250, leads=["I", "II", "V1", "V2"], record_id="u", source_format="array"
    )
    reasons = {u.lead: u.reason for u in rec.unusable_leads}
    assert reasons == {"II": "flat", "V1": "saturated", "V2": "missing"}
    assert rec.usable_mask.tolist() == [True, False, False, False]


def test_lead_count_mismatch_names_both_counts() -> None:
    with pytest.raises(InvalidSignalError, match="2 signal channels but 3 lead names"):
        make_record(
            _sine(), fs_hz=250, leads=["I", "II", "III"], record_id="m", source_format="array"
        )


def test_unknown_unit_is_rejected() -> None:
    with pytest.raises(InputError, match="unknown physical unit 'mmHg'"):
        make_record(
            _sine(),
            fs_hz=250,
            leads=["I", "II"],
            record_id="m",
            source_format="array",
            units="mmHg",
        )


@given(scale=st.floats(1e-2, 1e2), offset=st.floats(-5, 5))
def test_usable_leads_are_invariant_to_scale_and_offset(scale: float, offset: float) -> None:
    rec = make_record(
        _sine() * scale + offset, fs_hz=250, leads=["I", "II"], record_id="h", source_format="array"
    )
    assert rec.unusable_leads == ()
    assert rec.duration_s == pytest.approx(10.0)


def _unusable_per_lead(signal_mv: np.ndarray) -> list[str | None]:
    """Reference: the per-lead checks of make_record, one np.percentile call per lead."""
    out: list[str | None] = []
    for row in signal_mv:
        values = row[np.isfinite(row)]
        if values.size == 0:
            out.append("missing")
            continue
        lo, hi = np.percentile(values, [1.0, 99.0])
        if hi - lo < 0.01:
            out.append("flat")
            continue
        rails = np.count_nonzero(values == values.min()) + np.count_nonzero(values == values.max())
        out.append("saturated" if rails > 0.2 * values.size else None)
    return out


@pytest.mark.parametrize("seed", range(12))
def test_unusable_leads_equal_per_lead_checks_and_input_untouched(seed: int) -> None:
    # Given leads that are ordinary, flat, clipped, gapped, missing or nearly flat
    # (values near the 0.01 mV limit), given samples-first as a WFDB reader does
    rng = np.random.default_rng(seed)
    n = 3000
    sig = rng.normal(size=(8, n)).cumsum(axis=1) * 0.01
    sig[1] = 0.0
    sig[2] = np.clip(sig[2], np.quantile(sig[2], 0.15), np.quantile(sig[2], 0.85))
    sig[3, rng.integers(0, n, 40)] = np.nan
    sig[4] = np.nan
    sig[5] = np.round(rng.normal(size=n) * 0.004, 3)
    sig[6, 100:200] = np.inf
    sig = sig[rng.permutation(8)]
    src = np.ascontiguousarray(sig.T)
    before = src.copy()
    # When made into a record
    rec = make_record(
        src,
        fs_hz=500,
        leads=[f"V{i}" for i in range(1, 7)] + ["I", "II"],
        record_id="r",
        source_format="wfdb",
        layout="samples_leads",
    )
    # Then the unusable leads are those of the per-lead checks, the signal is the
    # input (inf as NaN) in a new C-ordered array, and the caller's array is unchanged
    want = _unusable_per_lead(np.where(np.isinf(sig), np.nan, sig))
    got = {u.lead: u.reason for u in rec.unusable_leads}
    assert [got.get(name) for name in rec.leads] == want
    assert np.array_equal(rec.signal_mv, np.where(np.isinf(sig), np.nan, sig), equal_nan=True)
    assert rec.signal_mv.flags.c_contiguous
    assert not np.shares_memory(rec.signal_mv, src)
    assert np.array_equal(src, before, equal_nan=True)
