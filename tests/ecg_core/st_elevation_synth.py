"""Synthetic ST elevation on a real record (test helper; the elevation is SYNTHETIC).

No public database here holds two ECGs of one patient before and after a re-infarction
(LUDB's "Stemi" tracings meet no 4th UDMI ST criterion, docs/twelve_lead.md). The tests
therefore take a real LUDB record as the earlier ECG and the same record with an ST
segment raised by a known amount in chosen leads as the later one: on every beat, from
the beat's QRS offset (J, raised over 20 ms) to its T offset (lowered over the last
120 ms), so the PR baseline is untouched and ST reads higher at J and J+60 ms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ecg_core.delineation import delineate_record
from ecg_core.qrs import detect_beats
from models.record import EcgRecord

__all__ = ["with_st_elevation"]


def with_st_elevation(
    record: EcgRecord, leads: Sequence[str], amp_mv: float, *, record_id: str
) -> EcgRecord:
    """``record`` with a synthetic ST elevation of ``amp_mv`` in ``leads``."""
    x = record.signal_mv.copy()
    fs = record.fs_hz
    beats = detect_beats(x, fs_hz=fs)
    d = delineate_record(x, fs_hz=fs, r_idx=beats.r_idx, labels=beats.label)
    rise, fall = int(0.02 * fs), int(0.12 * fs)
    rows = [record.leads.index(name) for name in leads]
    for on, off in zip(d.qrs_off_idx, d.t_off_idx, strict=True):
        if on < 0 or off - on <= rise + fall:
            continue
        env = np.ones(off - on)
        env[:rise] = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, rise))
        env[-fall:] = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fall))
        x[rows, on:off] += amp_mv * env
    return dataclasses.replace(record, signal_mv=x, record_id=record_id)
