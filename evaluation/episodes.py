"""EC57-style episode statistics (ANSI/AAMI EC57:2012, section on VF/AF episodes).

Pure functions on lists of ``(onset_s, offset_s)`` intervals of one rhythm class:

- episode sensitivity: share of reference episodes overlapped by a detected episode;
- episode positive predictivity: share of detected episodes overlapping a reference one;
- duration sensitivity: overlapped time / reference time;
- duration positive predictivity: overlapped time / detected time.

Gross statistics pool counts and durations over records; average statistics are the
per-record mean of the ratios (records where the ratio is undefined are skipped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EpisodeCounts",
    "average",
    "clip_intervals",
    "episode_counts",
    "gross",
    "join_reference",
    "overlap_s",
]

Interval = tuple[float, float]


@dataclass(frozen=True)
class EpisodeCounts:
    """Episode matching counts and durations of one record (or pooled).

    Attributes
    ----------
    n_ref, n_det : int
        Reference and detected episodes.
    ref_hit : int
        Reference episodes overlapped by at least one detected episode.
    det_hit : int
        Detected episodes overlapping at least one reference episode.
    ref_s, det_s, overlap_s : float
        Total reference, detected and overlapping duration, s.
    """

    n_ref: int
    n_det: int
    ref_hit: int
    det_hit: int
    ref_s: float
    det_s: float
    overlap_s: float

    @property
    def episode_se(self) -> float:
        """Episode sensitivity (NaN with no reference episode)."""
        return self.ref_hit / self.n_ref if self.n_ref else float("nan")

    @property
    def episode_ppv(self) -> float:
        """Episode positive predictivity (NaN with no detected episode)."""
        return self.det_hit / self.n_det if self.n_det else float("nan")

    @property
    def duration_se(self) -> float:
        """Duration sensitivity (NaN with no reference time)."""
        return self.overlap_s / self.ref_s if self.ref_s > 0 else float("nan")

    @property
    def duration_ppv(self) -> float:
        """Duration positive predictivity (NaN with no detected time)."""
        return self.overlap_s / self.det_s if self.det_s > 0 else float("nan")


def _as_array(intervals: Sequence[Interval]) -> np.ndarray:
    arr = np.asarray(list(intervals), dtype=np.float64).reshape(-1, 2)
    if arr.size and np.any(arr[:, 1] < arr[:, 0]):
        raise ValueError(f"interval with offset before onset: {arr[arr[:, 1] < arr[:, 0]][0]}")
    return arr


def _union_length(arr: np.ndarray) -> float:
    if arr.size == 0:
        return 0.0
    arr = arr[np.argsort(arr[:, 0])]
    ends = np.maximum.accumulate(arr[:, 1])
    new = np.concatenate(([True], arr[1:, 0] > ends[:-1]))
    group = np.cumsum(new) - 1
    starts = arr[new, 0]
    stops = np.zeros(starts.size)
    np.maximum.at(stops, group, arr[:, 1])
    return float(np.sum(stops - starts))


def overlap_s(ref: Sequence[Interval], det: Sequence[Interval]) -> float:
    """Length of the intersection of the unions of ``ref`` and ``det``, s."""
    a, b = _as_array(ref), _as_array(det)
    if a.size == 0 or b.size == 0:
        return 0.0
    lo = np.maximum(a[:, None, 0], b[None, :, 0])
    hi = np.minimum(a[:, None, 1], b[None, :, 1])
    pieces = np.stack([lo, hi], axis=-1).reshape(-1, 2)
    pieces = pieces[pieces[:, 1] > pieces[:, 0]]
    return _union_length(pieces)


def episode_counts(ref: Sequence[Interval], det: Sequence[Interval]) -> EpisodeCounts:
    """Match detected against reference episodes of one class in one record.

    Parameters
    ----------
    ref, det : sequence of (onset_s, offset_s)
        Reference and detected episodes, s.

    Returns
    -------
    EpisodeCounts
        Counts and durations.

    Examples
    --------
    >>> c = episode_counts([(0.0, 10.0), (20.0, 30.0)], [(5.0, 12.0)])
    >>> c.episode_se, c.episode_ppv, round(c.duration_se, 2)
    (0.5, 1.0, 0.25)
    """
    a, b = _as_array(ref), _as_array(det)
    if a.size and b.size:
        hit = (a[:, None, 0] < b[None, :, 1]) & (b[None, :, 0] < a[:, None, 1])
        ref_hit, det_hit = int(hit.any(axis=1).sum()), int(hit.any(axis=0).sum())
    else:
        ref_hit = det_hit = 0
    return EpisodeCounts(
        n_ref=int(a.shape[0]),
        n_det=int(b.shape[0]),
        ref_hit=ref_hit,
        det_hit=det_hit,
        ref_s=_union_length(a),
        det_s=_union_length(b),
        overlap_s=overlap_s(ref, det),
    )


def gross(counts: Iterable[EpisodeCounts]) -> EpisodeCounts:
    """Pool counts and durations over records (EC57 gross statistics)."""
    items = list(counts)
    return EpisodeCounts(
        n_ref=sum(c.n_ref for c in items),
        n_det=sum(c.n_det for c in items),
        ref_hit=sum(c.ref_hit for c in items),
        det_hit=sum(c.det_hit for c in items),
        ref_s=sum(c.ref_s for c in items),
        det_s=sum(c.det_s for c in items),
        overlap_s=sum(c.overlap_s for c in items),
    )


def average(counts: Iterable[EpisodeCounts]) -> dict[str, float]:
    """Per-record mean of each statistic (EC57 average), skipping undefined ratios."""
    items = list(counts)
    out: dict[str, float] = {}
    for name in ("episode_se", "episode_ppv", "duration_se", "duration_ppv"):
        vals = [getattr(c, name) for c in items]
        vals = [v for v in vals if not np.isnan(v)]
        out[name] = float(np.mean(vals)) if vals else float("nan")
    return out


def clip_intervals(intervals: Sequence[Interval], start_s: float) -> list[Interval]:
    """Restrict intervals to the test period that begins at ``start_s``.

    EC57 (and WFDB ``epicmp``, whose default test period starts 5 minutes into the
    record) scores episodes only after the learning period: an episode that ends before
    ``start_s`` is not counted, one that spans it is counted from ``start_s`` on. Apply
    it to reference and detected episodes alike.

    Examples
    --------
    >>> clip_intervals([(10.0, 20.0), (290.0, 310.0), (400.0, 410.0)], 300.0)
    [(300.0, 310.0), (400.0, 410.0)]
    """
    return [(max(a, start_s), b) for a, b in intervals if b > start_s]


def join_reference(
    labelled: Sequence[tuple[str, float, float]],
    kinds: Sequence[str],
    bridge: Sequence[str] = ("NOISE",),
) -> list[Interval]:
    """Reference episodes of ``kinds``: adjacent intervals joined, also across ``bridge``.

    One clinical episode is one run of the class, whatever sub-label it carries: VF next
    to VFL is one VF/VFL episode (EC57 scores them as one class), and a ``(NOISE``
    annotation inside it marks signal quality, not a change of rhythm, so VF - NOISE - VF
    is one episode. Any other rhythm in between ends the episode.

    Parameters
    ----------
    labelled : sequence of (label, onset_s, offset_s)
        Consecutive rhythm intervals of one record, in time order.
    kinds : sequence of str
        Labels of the class (e.g. ``VF``, ``VFL``, ``VFIB``).
    bridge : sequence of str
        Labels that do not end an episode when the class resumes after them.

    Returns
    -------
    list of (onset_s, offset_s)
        Joined episodes (bridging intervals included in the span).

    Examples
    --------
    >>> join_reference([("VF", 0, 5), ("NOISE", 5, 6), ("VFL", 6, 9), ("N", 9, 20),
    ...                 ("VF", 20, 22)], ("VF", "VFL"))
    [(0, 9), (20, 22)]
    """
    out: list[Interval] = []
    pending_end: float | None = None  # end of the last class interval of the open episode
    start: float | None = None
    for label, a, b in labelled:
        if label in kinds:
            if start is None:
                start = a
            pending_end = b
        elif label in bridge and start is not None:
            continue
        elif start is not None and pending_end is not None:
            out.append((start, pending_end))
            start = pending_end = None
    if start is not None and pending_end is not None:
        out.append((start, pending_end))
    return out
