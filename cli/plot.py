"""PNG of a record for review: leads stacked, detected beats marked, critical findings shaded.

Uses matplotlib's Agg backend (no display). Long recordings are shown as a window
(:data:`WINDOW_S`) starting shortly before the first critical finding, or at the start.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from models.record import EcgRecord
from models.result import AnalysisResult

__all__ = ["WINDOW_S", "plot_result"]

#: Longest span drawn, seconds; 10 s is the resting-ECG standard, 20 s leaves context.
WINDOW_S = 20.0
#: Seconds shown before the first critical finding.
_LEAD_IN_S = 2.0
_BEAT_COLOURS = {"N": "tab:green", "S": "tab:blue", "V": "tab:red", "F": "tab:purple", "Q": "gray"}


def _window(record: EcgRecord, result: AnalysisResult) -> tuple[float, float]:
    if record.duration_s <= WINDOW_S:
        return 0.0, record.duration_s
    onsets = [f.onset_s for f in result.findings if f.severity == "critical" and f.onset_s]
    start = max(0.0, min(onsets) - _LEAD_IN_S) if onsets else 0.0
    start = min(start, record.duration_s - WINDOW_S)
    return start, start + WINDOW_S


def plot_result(record: EcgRecord, result: AnalysisResult, out_dir: Path) -> Path:
    """Draw ``<record_id>.png`` into ``out_dir``.

    Parameters
    ----------
    record : EcgRecord
        The record analysed (signal in mV, ``(n_leads, n_samples)``).
    result : AnalysisResult
        Its analysis (beats as sample indices; findings with onset/offset in s).
    out_dir : Path
        Output folder (created if missing).

    Returns
    -------
    Path
        The PNG written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    t0_s, t1_s = _window(record, result)
    i0, i1 = round(t0_s * record.fs_hz), round(t1_s * record.fs_hz)
    t_s = np.arange(i0, i1) / record.fs_hz
    n_leads = len(record.leads)
    fig, axes = plt.subplots(
        n_leads, 1, sharex=True, figsize=(14, 1.2 + 1.1 * n_leads), squeeze=False
    )
    beats = np.asarray(result.beats.sample, dtype=np.int64)
    labels = np.asarray(result.beats.label, dtype=str)
    in_window = (beats >= i0) & (beats < i1)
    for row, (ax, name) in enumerate(zip(axes[:, 0], record.leads, strict=True)):
        trace = record.signal_mv[row, i0:i1]
        ax.plot(t_s, trace, lw=0.6, color="black")
        ax.set_ylabel(f"{name}\nmV", rotation=0, ha="right", va="center", fontsize=8)
        ax.grid(True, which="major", color="#f4b6b6", lw=0.4)
        for f in result.findings:
            if f.severity != "critical" or (f.leads and name not in f.leads):
                continue
            lo = t0_s if f.onset_s is None else max(f.onset_s, t0_s)
            hi = t1_s if f.offset_s is None else min(f.offset_s, t1_s)
            if hi > lo:
                ax.axvspan(lo, hi, color="red", alpha=0.15, lw=0)
        if row == 0 and in_window.any():
            idx = beats[in_window]
            y = np.nan_to_num(record.signal_mv[row, idx], nan=0.0)
            for lab in np.unique(labels[in_window]):
                sel = labels[in_window] == lab
                ax.scatter(
                    idx[sel] / record.fs_hz,
                    y[sel],
                    s=14,
                    color=_BEAT_COLOURS.get(str(lab), "gray"),
                    label=str(lab),
                    zorder=3,
                )
            ax.legend(loc="upper right", fontsize=7, ncol=5, frameon=False)
    axes[-1, 0].set_xlabel("time (s)")
    critical = sorted({f.code for f in result.findings if f.severity == "critical"})
    fig.suptitle(
        f"{result.record_id}  {record.fs_hz:g} Hz  {t0_s:.1f}-{t1_s:.1f} s of "
        f"{record.duration_s:.1f} s" + (f"  CRITICAL: {', '.join(critical)}" if critical else ""),
        fontsize=10,
        color="red" if critical else "black",
    )
    out = out_dir / f"{result.record_id}.png"
    fig.savefig(out, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return out
