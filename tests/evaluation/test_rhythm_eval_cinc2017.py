"""CinC 2017 record-level AF scoring: F1 overall and by even / odd record halves."""

from __future__ import annotations

import pytest

from evaluation.rhythm_eval_cinc2017 import Cinc2017Report


def test_f1_overall_and_by_half() -> None:
    # Given four AF records (two even, two odd) and two normals, one of them called AF
    reference = {"A00001": "A", "A00002": "A", "A00003": "A", "A00004": "A", "A00005": "N"}
    reference["A00006"] = "N"
    calls = [
        ("A00001", True, ()),
        ("A00002", True, ()),
        ("A00003", False, ()),
        ("A00004", True, ()),
        ("A00005", False, ()),
        ("A00006", True, ("LONG_QT",)),
    ]
    report = Cinc2017Report("cinc2017", calls, reference)
    # Then overall TP 3, FP 1, FN 1: F1 = 6 / 8
    assert report.f1() == pytest.approx(0.75)
    # even records: TP 2 (A00002, A00004), FP 1 (A00006): F1 = 4 / 5
    assert report.f1(0) == pytest.approx(0.8)
    # odd records: TP 1, FN 1: F1 = 2 / 3
    assert report.f1(1) == pytest.approx(2 / 3)
    assert report.to_json()["f1_af_even_odd"] == pytest.approx([0.8, 2 / 3])
    # and the normal with a critical finding is counted as a false alarm
    assert report.normal_critical() == {"records": 1, "LONG_QT": 1}
