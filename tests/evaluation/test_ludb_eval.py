"""LUDB delineation and diagnosis evaluation (whole database: slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.ludb_eval import LUDB_DIAGNOSES, evaluate_delineation, ludb_labels, score_diagnoses


def test_stemi_truth_does_not_match_nstemi(shared_data: Path) -> None:
    labels = ludb_labels(shared_data / "ludb")
    truth = LUDB_DIAGNOSES["STEMI"][0]
    assert any("nstemi" in r["Ischemia"].lower() and not truth(r) for r in labels.values())
    rows = score_diagnoses({k: set() for k in labels}, labels, LUDB_DIAGNOSES)
    stemi = next(r for r in rows if r.name == "STEMI")
    assert stemi.tp == 0
    assert stemi.fn >= 1
    assert stemi.fp == 0


@pytest.mark.slow
def test_ludb_delineation_meets_targets(shared_data: Path) -> None:
    stats = evaluate_delineation(shared_data / "ludb")
    limits = {"QRS_on": (10, 20), "QRS_off": (15, 20), "T_off": (25, 40)}
    for name, (mean_max, sd_max) in limits.items():
        e = np.asarray(stats.errors[name])
        assert abs(e.mean()) <= mean_max, name
        assert e.std() <= sd_max, name
    for wave in ("P", "QRS"):
        se = stats.tp[wave] / (stats.tp[wave] + stats.fn[wave])
        assert se >= 0.98, wave
