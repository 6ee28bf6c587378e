"""Holter heart-rate trend for the reviewer page: computed from the stored beat times.

The stored Holter ``summary`` holds hourly means only (``hourly_hr_bpm``); the trend
plot needs one point per minute (recordings up to 4 h) or per 5 minutes (longer, e.g.
24 h). It is computed here, in the review shell, from the stored result: ``beats.sample``
(R-peak sample indices) at ``fs_hz``, with the result's ``NOISE`` episodes removed from
each bin's analysable time, the same definition as the summary's 1-minute rates
(:func:`ecg_core.holter._minute_rates`: beats in the bin / analysable seconds x 60, and
no value when less than half of the bin is analysable).

The SVG shows the trend with the time spans of the critical (red) and abnormal (orange)
findings shaded; :func:`image_map` gives the clickable areas (an HTML ``<map>``, no
JavaScript) that move the trace window to a finding or to a time.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from numpy.typing import NDArray

__all__ = [
    "FIG_H_PX",
    "FIG_W_PX",
    "MapArea",
    "TrendSpan",
    "bin_seconds",
    "hr_trend",
    "image_map",
    "render_trend_svg",
    "trend_spans",
]

#: Size of the trend image in CSS pixels (the ``<img>`` is drawn at exactly this size so
#: the image-map coordinates match).
FIG_W_PX = 960
FIG_H_PX = 260
_PX_PER_IN = 96.0
#: Axes position in figure fractions (left, bottom, width, height).
_AX = (0.06, 0.16, 0.92, 0.76)
_SPAN_COLOURS = {"critical": "#d62728", "abnormal": "#ff7f0e"}
#: Recordings up to this long get 1-minute points, longer ones 5-minute points.
_MINUTE_BINS_MAX_S = 4 * 3600.0


@dataclass(frozen=True)
class TrendSpan:
    """A flagged finding's time span on the trend (seconds from the start)."""

    code: str
    severity: str
    onset_s: float
    offset_s: float


@dataclass(frozen=True)
class MapArea:
    """One clickable rectangle of the trend image (CSS pixels) and where it leads."""

    x0: int
    y0: int
    x1: int
    y1: int
    start_s: float
    label: str


def bin_seconds(duration_s: float) -> float:
    """Trend bin: 60 s up to 4 h of recording, else 300 s."""
    return 60.0 if duration_s <= _MINUTE_BINS_MAX_S else 300.0


def hr_trend(
    result: dict[str, Any], bin_s: float | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Mean heart rate per bin from the stored beats.

    Parameters
    ----------
    result : dict
        Stored AnalysisResult JSON (``fs_hz``, ``duration_s``, ``beats.sample``,
        ``episodes`` with ``type == "NOISE"`` spans).
    bin_s : float, optional
        Bin length, s (default :func:`bin_seconds`).

    Returns
    -------
    t_s, hr_bpm, bin_s
        Bin start times (s), mean HR per bin (bpm; NaN where less than half the bin is
        analysable), and the bin length used.
    """
    fs_hz = float(result.get("fs_hz") or 0.0)
    duration_s = float(result.get("duration_s") or 0.0)
    if bin_s is None:
        bin_s = bin_seconds(duration_s)
    n_bins = max(1, math.ceil(duration_s / bin_s)) if duration_s > 0 else 0
    t_s = np.arange(n_bins, dtype=np.float64) * bin_s
    if n_bins == 0 or fs_hz <= 0:
        return t_s, np.full(n_bins, np.nan), bin_s
    sample = np.asarray((result.get("beats") or {}).get("sample") or [], dtype=np.float64)
    idx = np.clip(np.floor(sample / fs_hz / bin_s).astype(np.int64), 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)[:n_bins].astype(np.float64)
    length = np.minimum(t_s + bin_s, duration_s) - t_s
    noisy = np.zeros(n_bins)
    for e in result.get("episodes") or []:
        if e.get("type") != "NOISE":
            continue
        a, b = float(e["onset_s"]), float(e["offset_s"])
        noisy += np.clip(np.minimum(b, t_s + length) - np.maximum(a, t_s), 0.0, None)
    usable = length - noisy
    hr = np.where(usable >= bin_s / 2.0, counts * 60.0 / np.maximum(usable, 1e-9), np.nan)
    return t_s, np.asarray(hr, dtype=np.float64), bin_s


def trend_spans(findings: list[dict[str, Any]]) -> list[TrendSpan]:
    """Critical and abnormal findings with a time span, most severe first."""
    out = [
        TrendSpan(
            code=str(f.get("code")),
            severity=str(f["severity"]),
            onset_s=float(f["onset_s"]),
            offset_s=float(f["offset_s"] if f.get("offset_s") is not None else f["onset_s"]),
        )
        for f in findings
        if f.get("severity") in _SPAN_COLOURS and f.get("onset_s") is not None
    ]
    return sorted(out, key=lambda s: (s.severity != "critical", s.onset_s))


def _hours_label(t_s: float) -> str:
    h, rem = divmod(round(t_s), 3600)
    return f"{h:02d}:{rem // 60:02d}"


def render_trend_svg(
    t_s: NDArray[np.float64],
    hr_bpm: NDArray[np.float64],
    bin_s: float,
    duration_s: float,
    spans: list[TrendSpan],
    *,
    image_format: str = "svg",
) -> bytes:
    """Draw the HR trend with the flagged spans shaded, ``FIG_W_PX`` x ``FIG_H_PX``.

    Returns
    -------
    bytes
        SVG document (``image_format="png"`` for a raster preview).
    """
    fig = Figure(figsize=(FIG_W_PX / _PX_PER_IN, FIG_H_PX / _PX_PER_IN))
    FigureCanvasSVG(fig)
    ax = fig.add_axes(_AX)
    end_s = max(duration_s, bin_s)
    ax.set_xlim(0.0, end_s)
    finite = hr_bpm[np.isfinite(hr_bpm)]
    lo = min(40.0, float(finite.min()) - 5.0) if finite.size else 40.0
    hi = max(120.0, float(finite.max()) + 5.0) if finite.size else 120.0
    ax.set_ylim(lo, hi)
    min_w = end_s / 400.0  # a single-beat finding stays visible
    for s in spans:
        a, b = s.onset_s, max(s.offset_s, s.onset_s + min_w)
        alpha = 0.45 if s.severity == "critical" else 0.2
        ax.axvspan(a, b, color=_SPAN_COLOURS[s.severity], alpha=alpha, lw=0)
    ax.plot(t_s + bin_s / 2.0, hr_bpm, lw=1.0, color="#1d3557", marker="." if t_s.size < 80 else "")
    ax.set_ylabel("HR (bpm)", fontsize=8)
    step = 3600.0 if end_s > 3 * 3600 else 600.0 if end_s > 1800 else 60.0
    ticks = np.arange(0.0, end_s + 1e-9, step)
    ax.set_xticks(ticks)
    ax.set_xticklabels([_hours_label(x) for x in ticks], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(True, lw=0.3, color="#ccc")
    ax.set_xlabel(f"time from start (hh:mm); one point per {bin_s / 60:g} min", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format=image_format, dpi=_PX_PER_IN)
    return buf.getvalue()


def image_map(duration_s: float, spans: list[TrendSpan], window_s: float = 10.0) -> list[MapArea]:
    """Clickable areas of the trend image: each flagged span, then equal time slices.

    The first matching area wins in an HTML image map, so the findings come first (a
    band of at most 15 px at each onset); the slices (1/48 of the recording, at least
    60 s) cover the rest of the plot.
    """
    if duration_s <= 0:
        return []
    x_left = _AX[0] * FIG_W_PX
    x_w = _AX[2] * FIG_W_PX
    y0 = int(FIG_H_PX * (1.0 - _AX[1] - _AX[3]))
    y1 = int(FIG_H_PX * (1.0 - _AX[1]))

    def x(t: float) -> int:
        return round(x_left + min(max(t, 0.0), duration_s) / duration_s * x_w)

    def start(t: float) -> float:
        return round(max(0.0, min(t - 2.0, duration_s - window_s)), 1)

    areas = []
    for s in spans:
        # a narrow band at the onset: a long span (hours of AF) must not hide the slices
        a = x(s.onset_s)
        b = min(max(x(s.offset_s), a + 3), a + 12)
        a -= 3
        label = f"{s.code} ({s.severity}) at {_clock(s.onset_s)}"
        areas.append(MapArea(a, y0, b, y1, start(s.onset_s), label))
    step = max(60.0, duration_s / 48.0)
    t = 0.0
    while t < duration_s:
        areas.append(MapArea(x(t), y0, x(t + step), y1, start(t + 2.0), f"trace at {_clock(t)}"))
        t += step
    return areas


def _clock(t_s: float) -> str:
    h, rem = divmod(int(t_s), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"
