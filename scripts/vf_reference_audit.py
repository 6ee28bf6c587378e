"""Audit of the vfdb VF/VFL reference against the VF detector's window features.

Reproduces the evidence in docs/rhythm.md (VF +P, "reference ambiguity"): for every
*oscillating* 4-s window of the VF detector (busy, oscillating, concentrated, little high
frequency, >= 0.1 mV: ``ecg_core.rhythm.vf``), the reference rhythm at the window centre,
the wave-to-wave rate and cycle CV, and the share of windows that are regular (CV below
``VfParams.vt_max_cycle_cv``) and at least as fast as flutter (``vfl_min_rate_hz``), per
reference class and per record. With ``--loro``, a leave-one-record-out check of a learnt
window classifier (logistic regression on the detector's features; needs scikit-learn)
scored like ``ecg eval --what rhythm-vf`` on the detector alone.

Usage::

    .venv/bin/python scripts/vf_reference_audit.py ../shared/ecg-data/vfdb [--loro]

Development tool (reads files, prints); not part of the analyser.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import wfdb
from numpy.lib.stride_tricks import sliding_window_view

import ecg_core.rhythm.vf as vf
from evaluation.ec57 import LEARNING_S
from evaluation.episodes import clip_intervals, episode_counts, gross, join_reference
from evaluation.rhythm_eval_base import read_rhythm_intervals
from ingest.readers import read_record

VF_REF = ("VF", "VFL", "VFIB")
FEATURES = ("conc", "hf", "tcsc", "acmin", "acmax", "df_hz", "amp_mv", "cycle_cv", "cycle_hz")


def _record_windows(stem: Path, p: vf.VfParams) -> dict[str, object]:
    """Detector trace and features of every oscillating window of one record."""
    record = read_record(stem)
    sig = record.signal_mv[record.usable_mask]
    sig = np.where(np.isnan(sig), 0.0, sig)
    trace = vf.vf_trace(sig, fs_hz=record.fs_hz, params=p)
    x, fs2 = vf._decimate(sig, record.fs_hz)
    views = sliding_window_view(x, round(p.window_s * fs2), axis=-1)[:, :: round(p.step_s * fs2)]
    f = {k: getattr(trace, k) for k in ("conc", "hf", "tcsc", "acmin", "acmax", "df_hz", "amp_mv")}
    with np.errstate(invalid="ignore"):
        idx = np.flatnonzero(vf._oscillating(f, p))
    cv, hz = vf._cycle_regularity(views, idx, fs2)  # for all oscillating windows
    ref = read_rhythm_intervals(wfdb.rdann(str(stem), "atr"), record.duration_s)
    label = [next((lab for lab, a, b in ref if a <= t < b), "-") for t in trace.t_s[idx]]
    feats = {k: f[k][idx] for k in f} | {"cycle_cv": cv[idx], "cycle_hz": hz[idx]}
    return {"trace": trace, "idx": idx, "label": np.asarray(label), "feats": feats, "ref": ref}


def _class(label: str) -> str:
    return "VF/VFL" if label in VF_REF else label if label in ("VT", "N") else "other"


def audit(records: dict[str, dict[str, object]], p: vf.VfParams) -> None:
    """Print the share of regular >= flutter-rate windows per reference class and record."""
    pooled: dict[str, list[tuple[float, float]]] = defaultdict(list)
    print("class   record  windows  median rate/min  median CV  regular  regular >= flutter rate")
    for name, r in records.items():
        feats = r["feats"]
        assert isinstance(feats, dict)
        labels = np.asarray(r["label"])
        for cls in ("VF/VFL", "VT", "N", "other"):
            m = np.array([_class(str(lab)) == cls for lab in labels], dtype=bool)
            pooled[cls].extend(zip(feats["cycle_hz"][m], feats["cycle_cv"][m], strict=True))
            if m.sum() >= 5 and cls in ("VF/VFL", "VT"):
                _row(cls, name, feats["cycle_hz"][m], feats["cycle_cv"][m], p)
    for cls, pairs in pooled.items():
        a = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
        _row(cls, "all", a[:, 0], a[:, 1], p)


def _row(cls: str, name: str, hz: np.ndarray, cv: np.ndarray, p: vf.VfParams) -> None:
    ok = np.isfinite(hz)
    reg = ok & (cv < p.vt_max_cycle_cv)
    fast = reg & (hz >= p.vfl_min_rate_hz)
    n = max(1, int(ok.sum()))
    print(
        f"{cls:7s} {name:6s} {hz.size:8d} {60 * np.nanmedian(hz):16.0f} "
        f"{np.nanmedian(cv):10.3f} {reg.sum() / n:8.2f} {fast.sum() / n:24.2f}"
    )


def loro(records: dict[str, dict[str, object]], p: vf.VfParams) -> None:
    """Leave-one-record-out logistic regression on the window features, episode-scored."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def matrix(r: dict[str, object]) -> np.ndarray:
        feats = r["feats"]
        assert isinstance(feats, dict)
        cols = [np.asarray(feats[k], dtype=np.float64) for k in FEATURES]
        x = np.column_stack(
            [
                np.log(np.maximum(c, 1e-4)) if k in ("amp_mv", "hf") else c
                for k, c in zip(FEATURES, cols, strict=True)
            ]
        )
        return np.where(np.isfinite(x), x, 0.0)

    y = {k: np.isin(np.asarray(r["label"]), VF_REF) for k, r in records.items()}
    prob: dict[str, np.ndarray] = {}
    for k, r in records.items():
        train = [j for j in records if j != k]
        model = make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)
        )
        model.fit(
            np.vstack([matrix(records[j]) for j in train]), np.concatenate([y[j] for j in train])
        )
        prob[k] = model.predict_proba(matrix(r))[:, 1] if np.asarray(r["idx"]).size else np.zeros(0)
    for thr in (0.3, 0.5, 0.7):
        counts = []
        for k, r in records.items():
            trace = r["trace"]
            assert isinstance(trace, vf.VfTrace)
            like = np.zeros(trace.t_s.size, dtype=bool)
            like[np.asarray(r["idx"])] = prob[k] > thr
            on, off = vf._candidate_episodes(like, trace.t_s, trace.step_s, p)
            det = clip_intervals(list(zip(on.tolist(), off.tolist(), strict=True)), LEARNING_S)
            ref = r["ref"]
            assert isinstance(ref, list)
            counts.append(
                episode_counts(clip_intervals(join_reference(ref, VF_REF), LEARNING_S), det)
            )
        g = gross(counts)
        print(
            f"LORO threshold {thr}: episode Se {100 * g.episode_se:.1f} % "
            f"+P {100 * g.episode_ppv:.1f} % ({g.n_det - g.det_hit} false episodes)"
        )


def main() -> None:
    """Command line: folder, optional ``--loro``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--loro", action="store_true", help="leave-one-record-out classifier check")
    args = ap.parse_args()
    p = vf.VfParams()
    stems = sorted(s.with_suffix("") for s in args.folder.glob("*.atr"))
    records = {s.name: _record_windows(s, p) for s in stems}
    audit(records, p)
    if args.loro:
        loro(records, p)


if __name__ == "__main__":
    main()
