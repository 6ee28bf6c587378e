"""Pure ECG signal processing: ``(n_leads, n_samples)`` float64 mV arrays in, findings out.

Imports only numpy, scipy and ``models``; no I/O, no settings, no logging side effects.
"""

#: Stored with every result; ``ecg reprocess --outdated`` re-runs results of other versions.
#: 0.2.0: beat classes (SVEB timing, P-wave match), AFL, polymorphic VT, U waves, paced
#: rhythm, resting AF, noise measure over each beat's own QRS-T, Q waves stored, prior-ECG
#: comparison.
ANALYSIS_VERSION = "0.2.0"

__all__ = ["ANALYSIS_VERSION"]
