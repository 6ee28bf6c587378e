"""Pure ECG signal processing: ``(n_leads, n_samples)`` float64 mV arrays in, findings out.

Imports only numpy, scipy and ``models``; no I/O, no settings, no logging side effects.
"""

ANALYSIS_VERSION = "0.1.0"

__all__ = ["ANALYSIS_VERSION"]
