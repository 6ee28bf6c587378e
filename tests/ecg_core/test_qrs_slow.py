"""EC57 beat-by-beat scores on whole shared MIT-BIH records (slow: ~30 min of ECG each).

Thresholds sit a little below what docs/qrs.md reports for these records, so a real
regression fails while run-to-run identity is not required.
"""

from pathlib import Path

import numpy as np
import pytest
import wfdb

from ecg_core.qrs import detect_beats
from evaluation.ec57 import LEARNING_S, aami_class, compare, gross, vf_mask_spans

# 119: ventricular bigeminy; 203: multiform PVCs and noise; 208: PVCs, couplets, fusion beats.
RECORDS = ("119", "203", "208")


def _score(folder: Path, name: str):
    stem = str(folder / name)
    rec = wfdb.rdrecord(stem)
    ann = wfdb.rdann(stem, "atr")
    fs = float(rec.fs)
    beats = detect_beats(np.asarray(rec.p_signal, dtype=np.float64).T, fs_hz=fs)
    cls = aami_class(ann.symbol)
    is_beat = cls != ""
    sample = np.asarray(ann.sample)
    return compare(
        name,
        sample[is_beat],
        cls[is_beat],
        beats.r_idx,
        beats.label,
        fs_hz=fs,
        start_idx=int(LEARNING_S * fs),
        excluded=vf_mask_spans(sample, list(ann.symbol)),
    )


@pytest.mark.slow
def test_ec57_whole_mitdb_records(shared_data):
    # Given three whole MIT-BIH records with hard ventricular ectopy
    folder = shared_data / "mitdb"
    if not all((folder / f"{r}.atr").exists() for r in RECORDS):
        pytest.skip("shared mitdb records 119/203/208 not present")
    # When detected and classified, scored with the EC57 rules (5 min learning excluded)
    stats = gross([_score(folder, r) for r in RECORDS]).stats()
    # Then gross QRS and VEB figures stay near those measured (docs/qrs.md)
    assert (stats["qrs_se"] or 0.0) >= 99.4
    assert (stats["qrs_pp"] or 0.0) >= 99.2
    assert (stats["veb_se"] or 0.0) >= 96.0
    assert (stats["veb_pp"] or 0.0) >= 85.0
