"""SVEB (class S) on whole shared records (slow: ~30 min of ECG each).

Thresholds sit a little below what docs/qrs.md reports (training figures on MIT-BIH DS1),
so a real regression fails while run-to-run identity is not required.
"""

from pathlib import Path

import numpy as np
import pytest
import wfdb

from ecg_core.qrs import detect_beats
from evaluation.ec57 import LEARNING_S, Ec57Counts, aami_class, compare, vf_mask_spans


def _score(folder: Path, name: str) -> Ec57Counts:
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


def _false_s(c: Ec57Counts) -> int:
    return int(c.matrix[:, 1].sum() - c.matrix[1, 1] + c.extra[1])


@pytest.mark.slow
def test_svt_runs_are_s_and_af_is_not(shared_data: Path) -> None:
    folder = shared_data / "mitdb"
    if not all((folder / f"{r}.atr").exists() for r in ("209", "203")):
        pytest.skip("shared mitdb records 209/203 not present")
    # Given 209 (isolated APCs and SVT runs) and 203 (AF and flutter, its beats labelled N)
    svt, af = _score(folder, "209"), _score(folder, "203")
    # Then most S beats of 209, runs included, are found, with few false S
    s = svt.stats()
    assert (s["sveb_se"] or 0.0) >= 85.0
    assert (s["sveb_pp"] or 0.0) >= 90.0
    # and the irregular short RRs of AF are not called S (there were ~490 before sveb.py)
    assert _false_s(af) <= 20
