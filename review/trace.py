"""ECG viewer image: SVG on standard ECG paper (25 mm/s, 10 mm/mV) with beats and findings.

Drawn server-side with matplotlib's object API (no pyplot state, safe in request
threads). One row per lead, ``ROW_MV`` high; 1 mm minor and 5 mm major grid; beats
marked by their AAMI class above the first lead; finding time spans shaded (critical
red, abnormal orange) with their code; leads excluded as noisy or derived
(:func:`review.panels.lead_status`) drawn grey with the reason after their name.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from ingest.blobstore import BlobStore
from models.record import EcgRecord
from review.panels import lead_status

__all__ = ["MM_PER_MV", "MM_PER_S", "ROW_MV", "load_record", "render_svg", "window_for"]

#: Paper speed and gain of the standard ECG printout (AHA/ACC recommendation 2007).
MM_PER_S = 25.0
MM_PER_MV = 10.0
#: Height of one lead row, mV (3 mV = 30 mm leaves room for tall QRS).
ROW_MV = 3.0
_MM_PER_IN = 25.4
_SPAN_COLOURS = {"critical": "#d62728", "abnormal": "#ff7f0e"}


def load_record(blobs: BlobStore, files: list[dict[str, Any]], primary_file: str) -> EcgRecord:
    """Read a stored record back through the readers (blobs laid out in a temp dir)."""
    from ingest.readers import read_record

    with tempfile.TemporaryDirectory(prefix="ecg-view-") as tmp:
        blobs.materialise(files, Path(tmp))
        return read_record(Path(tmp) / primary_file)


def window_for(duration_s: float, findings: list[dict[str, Any]], window_s: float) -> float:
    """Default start of the view: 2 s before the first flagged span, else 0 (s)."""
    onsets = [
        float(f["onset_s"])
        for f in findings
        if f.get("onset_s") is not None and f.get("severity") in ("critical", "abnormal")
    ]
    start = max(0.0, min(onsets) - 2.0) if onsets else 0.0
    return max(0.0, min(start, duration_s - window_s))


def render_svg(
    record: EcgRecord,
    result: dict[str, Any],
    findings: list[dict[str, Any]],
    *,
    start_s: float,
    window_s: float,
) -> bytes:
    """Draw ``window_s`` seconds from ``start_s`` as SVG at true paper scale.

    Parameters
    ----------
    record : EcgRecord
        Signal in mV, shape ``(n_leads, n_samples)``, sampled at ``fs_hz``.
    result : dict
        Stored AnalysisResult JSON (``beats.sample`` indices, ``beats.label``).
    findings : list of dict
        Findings to shade (``onset_s``/``offset_s`` in s, ``severity``, ``code``, ``leads``).
    start_s, window_s : float
        Window, seconds.

    Returns
    -------
    bytes
        The SVG document; its size in mm follows 25 mm/s and 10 mm/mV.
    """
    fs_hz = record.fs_hz
    n_samples = record.signal_mv.shape[-1]
    i0 = max(0, round(start_s * fs_hz))
    i1 = min(n_samples, i0 + round(window_s * fs_hz))
    t0_s, t1_s = i0 / fs_hz, max(i1, i0 + 1) / fs_hz
    n_leads = record.signal_mv.shape[0]
    width_mm = (t1_s - t0_s) * MM_PER_S
    height_mm = n_leads * ROW_MV * MM_PER_MV
    fig = Figure(figsize=(width_mm / _MM_PER_IN, height_mm / _MM_PER_IN))
    FigureCanvasSVG(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    y_top = 0.0
    y_bottom = -n_leads * ROW_MV
    ax.set_xlim(t0_s, t1_s)
    ax.set_ylim(y_bottom, y_top)
    ax.axis("off")
    _grid(ax, t0_s, t1_s, y_bottom, y_top)
    for f in findings:
        colour = _SPAN_COLOURS.get(str(f.get("severity")))
        if colour is None:
            continue
        lo = t0_s if f.get("onset_s") is None else max(float(f["onset_s"]), t0_s)
        hi = t1_s if f.get("offset_s") is None else min(float(f["offset_s"]), t1_s)
        if hi > lo:
            ax.axvspan(lo, hi, color=colour, alpha=0.12, lw=0)
            ax.text(lo + 0.02, y_top - 0.15, str(f.get("code")), color=colour, fontsize=7, va="top")
    t_s = np.arange(i0, i1) / fs_hz
    marked = lead_status(result)
    for row in range(n_leads):
        baseline = -(row + 0.5) * ROW_MV
        trace = record.signal_mv[row, i0:i1]
        centre = float(np.nanmedian(trace)) if np.isfinite(trace).any() else 0.0
        lead = record.leads[row]
        status = marked.get(lead)
        colour = "#777777" if status else "black"  # excluded or derived: grey, and named
        ax.plot(t_s, trace - centre + baseline, lw=0.6, color=colour)
        name = f"{lead} ({'; '.join(status)})" if status else lead
        ax.text(t0_s + 0.05, baseline + 0.9, name, fontsize=8, weight="bold", color=colour)
    beats = result.get("beats") or {}
    sample = np.asarray(beats.get("sample") or [], dtype=np.int64)
    label = np.asarray(beats.get("label") or [], dtype=str)
    keep = (sample >= i0) & (sample < i1)
    for idx, lab in zip(sample[keep], label[keep], strict=True):
        colour = "#1f77b4" if lab == "N" else "#d62728"
        ax.text(idx / fs_hz, y_top - 0.55, str(lab), fontsize=6, ha="center", color=colour)
        ax.plot([idx / fs_hz] * 2, [y_top - 0.75, y_top - 0.95], lw=0.6, color=colour)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def _grid(ax: Any, t0_s: float, t1_s: float, y0_mv: float, y1_mv: float) -> None:
    # 1 mm = 0.04 s horizontally and 0.1 mV vertically; every 5th line is a major line
    minor_t = np.arange(np.ceil(t0_s / 0.04) * 0.04, t1_s, 0.04)
    minor_v = np.arange(np.ceil(y0_mv / 0.1) * 0.1, y1_mv, 0.1)
    major = (np.round(minor_t / 0.04).astype(np.int64) % 5) == 0
    ax.vlines(minor_t[~major], y0_mv, y1_mv, colors="#f9d3d3", lw=0.25)
    ax.vlines(minor_t[major], y0_mv, y1_mv, colors="#f2a0a0", lw=0.5)
    major_v = (np.round(minor_v / 0.1).astype(np.int64) % 5) == 0
    ax.hlines(minor_v[~major_v], t0_s, t1_s, colors="#f9d3d3", lw=0.25)
    ax.hlines(minor_v[major_v], t0_s, t1_s, colors="#f2a0a0", lw=0.5)
