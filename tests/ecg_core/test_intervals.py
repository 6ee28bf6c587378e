"""QTc formulas and interval measurement on real records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecg_core.intervals import QTC_FORMULAS, qtc_ms
from ecg_core.twelve_lead import analyze_twelve_lead
from models.errors import RuleProfileError
from models.leads import STANDARD_12


@given(qt=st.floats(200, 700))
def test_all_formulas_agree_at_60_bpm(qt: float) -> None:
    # At RR = 1 s every correction is the identity
    for formula in QTC_FORMULAS:
        assert qtc_ms(qt, 1000.0, formula) == pytest.approx(qt)


@given(qt=st.floats(200, 700), rr=st.floats(400, 1500))
def test_bazett_corrects_more_than_fridericia_at_fast_rates(qt: float, rr: float) -> None:
    b, f = qtc_ms(qt, rr, "bazett"), qtc_ms(qt, rr, "fridericia")
    assert (b >= f) if rr <= 1000 else (b <= f)


def test_unknown_formula_names_it() -> None:
    with pytest.raises(RuleProfileError, match="rautaharju"):
        qtc_ms(400.0, 800.0, "rautaharju")


def test_intervals_on_ludb1_match_annotations(samples_dir: Path) -> None:
    import wfdb

    # Given ludb1 and its lead II reference annotation
    rec = wfdb.rdrecord(str(samples_dir / "ludb1"))
    x = rec.p_signal.T.astype(np.float64)
    f = analyze_twelve_lead(x, STANDARD_12, fs_hz=float(rec.fs))
    widths = []
    for lead in ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"):
        ann = wfdb.rdann(str(samples_dir / "ludb1"), lead)
        sym, smp = np.array(ann.symbol), ann.sample
        n = np.flatnonzero(sym == "N")
        widths.extend(smp[n + 1] - smp[n - 1])
    ref_qrs_ms = float(np.median(widths)) * 1000.0 / rec.fs
    # Then the QRS duration agrees with the annotators' (all leads) within 25 ms
    assert f.measures.qrs_ms == pytest.approx(ref_qrs_ms, abs=25.0)
    ref_hr = 60.0 / (float(np.median(np.diff(smp[sym == "N"]))) / rec.fs)
    assert f.measures.hr_bpm == pytest.approx(ref_hr, rel=0.05)
    assert f.measures.pr_ms is not None
    assert 100.0 < f.measures.pr_ms < 260.0
    assert f.measures.axis_deg is not None
