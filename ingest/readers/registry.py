"""The ordered list of readers; format detection tries them in this order.

Path-based formats first (WFDB needs its ``.hea``), then formats with a magic number
(EDF/BDF, MATLAB 5), then XML by root element, then delimited text last (its sniffer is
the loosest). A new format is one module exposing ``READER`` plus one line here.
"""

from __future__ import annotations

from ingest.readers import challenge_mat, csv_reader, edf, hl7_aecg, wfdb_reader
from ingest.readers.base import Reader

__all__ = ["READERS", "reader_names"]

READERS: tuple[Reader, ...] = (
    wfdb_reader.READER,
    edf.READER,
    hl7_aecg.READER,
    # dicom_ecg.READER, ge_muse.READER, philips_xml.READER: planned (issue 2)
    challenge_mat.READER,
    csv_reader.READER,
)


def reader_names() -> tuple[str, ...]:
    """Names of the registered formats, in detection order."""
    return tuple(r.name for r in READERS)
