"""Every record of the shared PhysioNet folders reads cleanly (slow: ~1,770 records, ~12 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers import iter_record_paths, read_record

# folder -> (source_format, expected leads per record)
FOLDERS = {
    "mitdb": ("wfdb", 2),
    "vfdb": ("wfdb", 2),
    "svdb": ("wfdb", 2),
    "ludb/data": ("wfdb", 12),
    "cinc2017": ("wfdb", 1),
    "cinc2021": ("wfdb", 12),
    "cpsc2018": ("cpsc2018-mat", 12),
    "cpsc2019/data": ("cpsc2019-mat", 1),
    "cpsc2021": ("wfdb", 2),
    "ptbdb": ("wfdb", 15),
    "formats": ("hl7-aecg", 12),
}


@pytest.mark.slow
@pytest.mark.parametrize("folder", list(FOLDERS))
def test_every_shared_record_reads(shared_data: Path, folder: str) -> None:
    source_format, n_leads = FOLDERS[folder]
    paths = iter_record_paths(shared_data / folder)
    headers = list((shared_data / folder).glob("*.hea"))
    if headers:
        assert len(paths) == len(headers)  # one entry per WFDB record, annotations skipped
    for path in paths:
        rec = read_record(path)
        assert rec.source_format == source_format, path
        assert len(rec.leads) == n_leads, path
        assert rec.record_id == path.stem
        assert rec.duration_s >= 2.0
