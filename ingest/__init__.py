"""Readers for ECG file formats, upload API, queue publisher and ingest workers (the I/O shell)."""
