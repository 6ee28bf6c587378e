"""Delineation on the sample LUDB records and its invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecg_core.delineation import delineate_record, detect_p_waves


def _ludb(samples_dir: Path, name: str) -> tuple[np.ndarray, float]:
    import wfdb

    rec = wfdb.rdrecord(str(samples_dir / name))
    return rec.p_signal.T.astype(np.float64), float(rec.fs)


def _ref(samples_dir: Path, name: str, lead: str, peak: str) -> np.ndarray:
    import wfdb

    ann = wfdb.rdann(str(samples_dir / name), lead)
    sym = np.array(ann.symbol)
    i = np.flatnonzero(sym == peak)
    i = i[(i > 0) & (i < sym.size - 1)]
    return np.stack([ann.sample[i - 1], ann.sample[i], ann.sample[i + 1]], axis=1)


def _errors_ms(ref: np.ndarray, det: np.ndarray, det_peak: np.ndarray, fs: float) -> np.ndarray:
    out = []
    for on, pk, off in ref:
        j = int(np.argmin(np.abs(det_peak - pk)))
        if abs(det_peak[j] - pk) <= 0.15 * fs:
            out.append(det[j] - np.array([on, off]))
    return np.array(out) * 1000.0 / fs


@pytest.mark.parametrize("name", ["ludb1", "ludb7"])
def test_qrs_and_p_bounds_match_lead_ii(samples_dir: Path, name: str) -> None:
    # Given a LUDB sample record / When delineated
    x, fs = _ludb(samples_dir, name)
    d = delineate_record(x, fs_hz=fs)
    ref = _ref(samples_dir, name, "ii", "N")
    err = _errors_ms(ref, np.stack([d.qrs_on_idx, d.qrs_off_idx], 1), d.r_idx, fs)
    # Then every annotated QRS is found and on/offsets are within 20 ms on average
    assert len(err) == len(ref)
    assert np.all(np.abs(err.mean(axis=0)) < 20.0)
    p = detect_p_waves(x, fs_hz=fs, r_idx=d.r_idx)
    ref_p = _ref(samples_dir, name, "ii", "p")
    err_p = _errors_ms(ref_p, np.stack([p.onset_idx, p.offset_idx], 1), p.peak_idx, fs)
    assert len(err_p) >= 0.9 * len(ref_p)
    assert np.all(np.abs(err_p.mean(axis=0)) < 25.0)


@settings(max_examples=8, deadline=None)
@given(scale=st.floats(0.5, 20.0))  # P detection has an absolute 0.03 mV floor
def test_scaling_keeps_fiducials(samples_dir: Path, scale: float) -> None:
    x, fs = _ludb(samples_dir, "ludb1")
    a, b = delineate_record(x, fs_hz=fs), delineate_record(scale * x, fs_hz=fs)
    np.testing.assert_array_equal(a.qrs_on_idx, b.qrs_on_idx)
    assert (a.fiducials.qrs_on, a.fiducials.qrs_off, a.fiducials.t_off, a.fiducials.p_on) == (
        b.fiducials.qrs_on,
        b.fiducials.qrs_off,
        b.fiducials.t_off,
        b.fiducials.p_on,
    )


@settings(max_examples=5, deadline=None)
@given(pad_s=st.floats(0.1, 1.0))
def test_padding_shifts_fiducials(samples_dir: Path, pad_s: float) -> None:
    x, fs = _ludb(samples_dir, "ludb1")
    pad = int(pad_s * fs)
    padded = np.concatenate([np.repeat(x[:, :1], pad, axis=1), x], axis=1)
    a, b = delineate_record(x, fs_hz=fs), delineate_record(padded, fs_hz=fs)
    common = np.intersect1d(a.r_idx + pad, b.r_idx)
    assert common.size >= a.r_idx.size - 1
    ia = np.searchsorted(a.r_idx + pad, common)
    ib = np.searchsorted(b.r_idx, common)
    assert np.abs((a.qrs_on_idx[ia] + pad) - b.qrs_on_idx[ib]).max() <= 2


@pytest.mark.parametrize("name", ["ludb1", "ludb7"])
def test_lead_j_points_match_each_leads_annotation(samples_dir: Path, name: str) -> None:
    # Given a LUDB sample record / When delineated
    x, fs = _ludb(samples_dir, name)
    d = delineate_record(x, fs_hz=fs)
    fid = d.fiducials
    lead_off = np.array(fid.qrs_off_lead)
    # Then each lead's J point is at or after the global QRS end, by at most 40 ms
    assert lead_off.shape == (12,)
    assert np.all(lead_off >= fid.qrs_off)
    assert np.all(lead_off <= fid.qrs_off + 0.04 * fs)
    # and lies within 25 ms of that lead's annotated QRS offset (median over beats)
    leads = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
    for k, lead in enumerate(leads):
        ref = _ref(samples_dir, name, lead, "N")
        near = [np.argmin(np.abs(d.r_idx - pk)) for pk in ref[:, 1]]
        err = (d.r_idx[near] + lead_off[k] - ref[:, 2]) * 1000.0 / fs
        assert abs(float(np.median(err))) < 25.0, (lead, err)
