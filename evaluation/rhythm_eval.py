"""Rhythm and critical-value evaluation (issue 5): VF/VFL, AF, pauses, CinC 2017, false alarms.

Shell around the pure core: reads records (``ingest.readers``), runs the full analyser
(:func:`ecg_core.analysis.analyze_record`: QRS detection -> rhythm -> rules) and scores
the episodes against reference rhythm annotations with EC57 episode statistics
(:mod:`evaluation.episodes`). For AF and pauses the rhythm stage is also run on the
reference beats (``ref beats`` rows) to separate detector errors from rhythm errors.

Evaluators (registered in ``cli/eval_cmd.py``):

- ``rhythm-vf``     vfdb: VF/VFL episode and duration Se/+P; VF+VFL+VT ("ventricular
  tachyarrhythmia") as a second line; asystole episodes found.
- ``rhythm-af``     MIT-BIH / CPSC 2021 style folders (.atr with ``(AFIB``): AF episode and
  duration Se/+P (paced MIT-BIH records apart), reference pauses >= 3 s found.
- ``rhythm-cinc2017`` record-level AF F1 against ``REFERENCE.csv``.
- ``rhythm-alarms`` CinC 2015 false alarms: no critical finding may be raised.
"""

from __future__ import annotations

from evaluation.rhythm_eval_af import PAUSE_TARGET_S as PAUSE_TARGET_S
from evaluation.rhythm_eval_af import AfReport as AfReport
from evaluation.rhythm_eval_af import evaluate_af, is_rhythm_db
from evaluation.rhythm_eval_alarms import AlarmReport as AlarmReport
from evaluation.rhythm_eval_alarms import evaluate_alarms, is_alarms
from evaluation.rhythm_eval_base import (
    AAMI,
    beats_from_annotation,
    read_rhythm_intervals,
    reference_pauses,
)
from evaluation.rhythm_eval_cinc2017 import AF_RECORD_MIN_FRACTION as AF_RECORD_MIN_FRACTION
from evaluation.rhythm_eval_cinc2017 import Cinc2017Report as Cinc2017Report
from evaluation.rhythm_eval_cinc2017 import evaluate_cinc2017, is_cinc2017
from evaluation.rhythm_eval_vf import VfReport as VfReport
from evaluation.rhythm_eval_vf import evaluate_vf
from evaluation.rhythm_eval_vf import is_vfdb as is_vfdb

__all__ = [
    "AAMI",
    "beats_from_annotation",
    "evaluate_af",
    "evaluate_alarms",
    "evaluate_cinc2017",
    "evaluate_vf",
    "is_alarms",
    "is_cinc2017",
    "is_rhythm_db",
    "read_rhythm_intervals",
    "reference_pauses",
]
