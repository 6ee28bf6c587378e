"""EC57 scoring of one whole annotated WFDB record (shared by the slow real-data tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wfdb

from ecg_core.qrs import detect_beats
from evaluation.ec57 import LEARNING_S, Ec57Counts, aami_class, compare, vf_mask_spans


def score_record(folder: Path, name: str) -> Ec57Counts:
    """Detect and classify beats on ``folder/name``; compare with its ``atr`` annotations."""
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
