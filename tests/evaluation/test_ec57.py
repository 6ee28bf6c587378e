import numpy as np
import pytest

from evaluation.ec57 import aami_class, average, compare, gross, match_beats, vf_mask_spans


def test_aami_mapping():
    assert aami_class(list("NLRejAaJSVEF/fQ+~")).tolist() == [
        "N",
        "N",
        "N",
        "N",
        "N",
        "S",
        "S",
        "S",
        "S",
        "V",
        "V",
        "F",
        "Q",
        "Q",
        "Q",
        "",
        "",
    ]


def test_match_is_one_to_one_nearest_first():
    ref = np.array([100, 200, 300])
    test = np.array([105, 195, 199, 500])
    r, t = match_beats(ref, test, 10)
    assert r.tolist() == [0, 1]
    assert t.tolist() == [0, 2]


def test_counts_and_statistics():
    fs = 100.0
    ref = np.arange(10) * 100
    ref_cls = np.array(list("NNVNNVNNSN"))
    test = np.r_[ref[:-1] + 3, 950]  # last ref beat missed (N), one extra at 950
    test_cls = np.array(list("NNVNNNNNSV"))
    c = compare("x", ref, ref_cls, test, test_cls, fs_hz=fs)
    assert (c.tp, c.fn, c.fp) == (9, 1, 1)
    s = c.stats()
    assert s["qrs_se"] == pytest.approx(90.0)
    assert s["qrs_pp"] == pytest.approx(90.0)
    assert s["veb_se"] == pytest.approx(50.0)
    assert s["veb_pp"] == pytest.approx(50.0)  # one true v, one extra v
    assert s["sveb_se"] == pytest.approx(100.0)


def test_learning_period_and_vf_excluded():
    fs = 100.0
    ref = np.arange(0, 1000, 50)
    c = compare(
        "x",
        ref,
        np.full(ref.size, "N"),
        np.array([], int),
        np.array([], str),
        fs_hz=fs,
        start_idx=500,
        excluded=[(700, 800)],
    )
    assert c.fn == int(((ref >= 500) & ~((ref >= 700) & (ref <= 800))).sum())
    assert vf_mask_spans(np.array([1, 5, 9]), ["[", "!", "]"]) == [(1, 9)]


def test_gross_and_average():
    fs = 100.0
    a = compare(
        "a", np.array([0, 100]), np.array(["N", "N"]), np.array([0]), np.array(["N"]), fs_hz=fs
    )
    b = compare(
        "b",
        np.array([0, 100]),
        np.array(["N", "N"]),
        np.array([0, 100]),
        np.array(["N", "N"]),
        fs_hz=fs,
    )
    g = gross([a, b])
    assert (g.tp, g.fn) == (3, 1)
    assert average([a, b])["qrs_se"] == pytest.approx(75.0)
