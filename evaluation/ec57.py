"""ANSI/AAMI EC57 beat-by-beat comparison: matching, AAMI classes, Se / +P / FPR.

Pure functions (no I/O). Conventions, following ANSI/AAMI EC57:2012 section 4 and the
``bxb`` program of the WFDB software package (Moody & Mark):

* Reference and test beats match one-to-one when they lie within 150 ms of each other,
  nearest pairs first.
* Beats inside the learning period (first 5 min) and inside ventricular flutter/fibrillation
  episodes (reference ``[`` ... ``]``) are not scored.
* Labels map to AAMI classes: N L R e j B -> N; A a J S n -> S; V E r -> V; F -> F;
  / f Q -> Q. Non-beat annotations are ignored.
* QRS Se = TP / (TP + FN), +P = TP / (TP + FP) over all classes.
* VEB: Se = Vv / (all reference V); +P = Vv / (all test v except Fv, since fusion beats called
  ventricular are not false positives); FPR = (Nv + Sv) / (reference N + S that were detected).
* SVEB: Se = Ss / (all reference S); +P = Ss / (all test s).
* Gross statistics pool the counts of all records; average statistics are the mean of the
  per-record figures over records where the denominator is non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AAMI_CLASSES",
    "AAMI_MAP",
    "Ec57Counts",
    "aami_class",
    "average",
    "compare",
    "gross",
    "match_beats",
    "vf_mask_spans",
]

AAMI_CLASSES = ("N", "S", "V", "F", "Q")
AAMI_MAP: dict[str, str] = {
    **dict.fromkeys("NLRejB", "N"),
    **dict.fromkeys("AaJSn", "S"),
    **dict.fromkeys("VEr", "V"),
    "F": "F",
    **dict.fromkeys("/fQ", "Q"),
}
#: EC57 match window, s.
MATCH_WINDOW_S = 0.15
#: EC57 learning period excluded from scoring, s.
LEARNING_S = 300.0


def aami_class(symbols: Iterable[str]) -> NDArray[np.str_]:
    """Map WFDB beat symbols to AAMI classes ('' for non-beat annotations)."""
    return np.array([AAMI_MAP.get(s, "") for s in symbols], dtype="<U1")


def match_beats(
    ref_idx: NDArray[np.integer], test_idx: NDArray[np.integer], window: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Match reference and test beats one-to-one within ``window`` samples, nearest first.

    Parameters
    ----------
    ref_idx, test_idx : ndarray of int, shape (n_ref,), (n_test,)
        Sorted sample indices.
    window : int
        Largest allowed distance, samples (inclusive).

    Returns
    -------
    ref_pos, test_pos : ndarray of intp, shape (n_pairs,)
        Positions (into ``ref_idx`` and ``test_idx``) of matched pairs.
    """
    ref = np.asarray(ref_idx, dtype=np.int64)
    test = np.asarray(test_idx, dtype=np.int64)
    if ref.size == 0 or test.size == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    # candidate pairs: each ref with its two test neighbours, and vice versa
    j = np.searchsorted(test, ref)
    ri = np.concatenate([np.arange(ref.size), np.arange(ref.size)])
    tj = np.concatenate([j - 1, j])
    i = np.searchsorted(ref, test)
    ri = np.concatenate([ri, i - 1, i])
    tj = np.concatenate([tj, np.arange(test.size), np.arange(test.size)])
    ok = (ri >= 0) & (ri < ref.size) & (tj >= 0) & (tj < test.size)
    ri, tj = ri[ok], tj[ok]
    dist = np.abs(ref[ri] - test[tj])
    ok = dist <= window
    ri, tj, dist = ri[ok], tj[ok], dist[ok]
    order = np.lexsort((tj, ri, dist))
    used_r = np.zeros(ref.size, dtype=bool)
    used_t = np.zeros(test.size, dtype=bool)
    out_r: list[int] = []
    out_t: list[int] = []
    for a, b in zip(ri[order].tolist(), tj[order].tolist(), strict=True):
        if not used_r[a] and not used_t[b]:
            used_r[a] = used_t[b] = True
            out_r.append(a)
            out_t.append(b)
    sort = np.argsort(out_r)
    return (
        np.asarray(out_r, dtype=np.intp)[sort],
        np.asarray(out_t, dtype=np.intp)[sort],
    )


def vf_mask_spans(sample: NDArray[np.integer], symbol: Sequence[str]) -> list[tuple[int, int]]:
    """Spans (start, end) of reference VF/flutter episodes marked ``[`` ... ``]``."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for s, sym in zip(np.asarray(sample).tolist(), symbol, strict=True):
        if sym == "[":
            start = s
        elif sym == "]" and start is not None:
            spans.append((start, s))
            start = None
    if start is not None:
        spans.append((start, np.iinfo(np.int64).max))
    return spans


@dataclass
class Ec57Counts:
    """Beat-by-beat counts of one record (or pooled records).

    ``matrix[i, j]``: reference class ``i`` (N S V F Q) labelled ``j`` (n s v f q) by the
    test; ``missed[i]``: reference class ``i`` not detected; ``extra[j]``: test beats of
    class ``j`` with no reference beat.
    """

    record: str
    matrix: NDArray[np.int64] = field(default_factory=lambda: np.zeros((5, 5), np.int64))
    missed: NDArray[np.int64] = field(default_factory=lambda: np.zeros(5, np.int64))
    extra: NDArray[np.int64] = field(default_factory=lambda: np.zeros(5, np.int64))

    @property
    def tp(self) -> int:
        """Matched beats."""
        return int(self.matrix.sum())

    @property
    def fn(self) -> int:
        """Missed reference beats."""
        return int(self.missed.sum())

    @property
    def fp(self) -> int:
        """Test beats without a reference beat."""
        return int(self.extra.sum())

    def stats(self) -> dict[str, float | None]:
        """QRS, VEB and SVEB statistics in percent (None when undefined)."""
        m, mi, ex = self.matrix, self.missed, self.extra
        n_, s_, v_, f_ = range(4)

        def pct(num: float, den: float) -> float | None:
            return None if den <= 0 else 100.0 * num / den

        vv = m[v_, v_]
        ss = m[s_, s_]
        return {
            "qrs_se": pct(self.tp, self.tp + self.fn),
            "qrs_pp": pct(self.tp, self.tp + self.fp),
            "veb_se": pct(vv, m[v_].sum() + mi[v_]),
            "veb_pp": pct(vv, m[:, v_].sum() - m[f_, v_] + ex[v_]),
            "veb_fpr": pct(m[n_, v_] + m[s_, v_], m[n_].sum() + m[s_].sum()),
            "sveb_se": pct(ss, m[s_].sum() + mi[s_]),
            "sveb_pp": pct(ss, m[:, s_].sum() + ex[s_]),
        }

    def as_dict(self) -> dict[str, object]:
        """JSON-ready counts and statistics."""
        return {
            "record": self.record,
            "tp": self.tp,
            "fn": self.fn,
            "fp": self.fp,
            "n_ref_v": int(self.matrix[2].sum() + self.missed[2]),
            "n_ref_s": int(self.matrix[1].sum() + self.missed[1]),
            "matrix": self.matrix.tolist(),
            "missed": self.missed.tolist(),
            "extra": self.extra.tolist(),
            **self.stats(),
        }


def _class_index(labels: NDArray[np.str_]) -> NDArray[np.intp]:
    lut = {c: i for i, c in enumerate(AAMI_CLASSES)}
    return np.array([lut.get(str(c), 4) for c in labels], dtype=np.intp)


def compare(
    record: str,
    ref_idx: NDArray[np.integer],
    ref_class: NDArray[np.str_],
    test_idx: NDArray[np.integer],
    test_class: NDArray[np.str_],
    *,
    fs_hz: float,
    start_idx: int = 0,
    excluded: Sequence[tuple[int, int]] = (),
    window_s: float = MATCH_WINDOW_S,
) -> Ec57Counts:
    """Score one record beat by beat (EC57).

    Parameters
    ----------
    record : str
        Record name.
    ref_idx : ndarray of int, shape (n_ref,)
        Reference beat positions (beats only, sorted), samples.
    ref_class : ndarray of str, shape (n_ref,)
        Reference AAMI class per beat (N S V F Q).
    test_idx, test_class : ndarray, shape (n_test,)
        Test beat positions and classes.
    fs_hz : float
        Sampling rate of both annotation sets, Hz.
    start_idx : int
        Beats before this sample are not scored (learning period).
    excluded : sequence of (int, int)
        Spans not scored (VF episodes).
    window_s : float
        Match window, s.

    Returns
    -------
    Ec57Counts
        Confusion matrix, missed and extra beats.
    """
    ref = np.asarray(ref_idx, dtype=np.int64)
    test = np.asarray(test_idx, dtype=np.int64)
    rc, tc = _class_index(np.asarray(ref_class)), _class_index(np.asarray(test_class))
    win = round(window_s * fs_hz)
    r_pos, t_pos = match_beats(ref, test, win)

    def scored(idx: NDArray[np.int64]) -> NDArray[np.bool_]:
        ok = idx >= start_idx
        for a, b in excluded:
            ok &= ~((idx >= a) & (idx <= b))
        return ok

    # a pair is scored when its reference beat is; unmatched beats by their own position
    ref_ok, test_ok = scored(ref), scored(test)
    counts = Ec57Counts(record)
    keep = ref_ok[r_pos]
    np.add.at(counts.matrix, (rc[r_pos[keep]], tc[t_pos[keep]]), 1)
    matched_r = np.zeros(ref.size, dtype=bool)
    matched_r[r_pos] = True
    matched_t = np.zeros(test.size, dtype=bool)
    matched_t[t_pos] = True
    counts.missed = np.bincount(rc[~matched_r & ref_ok], minlength=5).astype(np.int64)
    counts.extra = np.bincount(tc[~matched_t & test_ok], minlength=5).astype(np.int64)
    return counts


def gross(records: Sequence[Ec57Counts], name: str = "gross") -> Ec57Counts:
    """Pool the counts of several records."""
    out = Ec57Counts(name)
    for r in records:
        out.matrix = out.matrix + r.matrix
        out.missed = out.missed + r.missed
        out.extra = out.extra + r.extra
    return out


def average(records: Sequence[Ec57Counts]) -> dict[str, float | None]:
    """Mean of the per-record statistics over records where each is defined."""
    per = [r.stats() for r in records]
    out: dict[str, float | None] = {}
    for key in per[0] if per else []:
        vals = [float(v) for p in per if (v := p[key]) is not None]
        out[key] = float(np.mean(vals)) if vals else None
    return out
