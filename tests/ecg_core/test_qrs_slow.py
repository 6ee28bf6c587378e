"""EC57 beat-by-beat scores on whole shared MIT-BIH records (slow: ~30 min of ECG each).

Thresholds sit a little below what docs/qrs.md reports for these records, so a real
regression fails while run-to-run identity is not required.
"""

import pytest

from evaluation.ec57 import gross
from tests.ecg_core.ec57_records import score_record

# 119: ventricular bigeminy; 203: multiform PVCs and noise; 208: PVCs, couplets, fusion beats.
RECORDS = ("119", "203", "208")


@pytest.mark.slow
def test_ec57_whole_mitdb_records(shared_data):
    # Given three whole MIT-BIH records with hard ventricular ectopy
    folder = shared_data / "mitdb"
    if not all((folder / f"{r}.atr").exists() for r in RECORDS):
        pytest.skip("shared mitdb records 119/203/208 not present")
    # When detected and classified, scored with the EC57 rules (5 min learning excluded)
    stats = gross([score_record(folder, r) for r in RECORDS]).stats()
    # Then gross QRS and VEB figures stay near those measured (docs/qrs.md)
    assert (stats["qrs_se"] or 0.0) >= 99.4
    assert (stats["qrs_pp"] or 0.0) >= 99.2
    assert (stats["veb_se"] or 0.0) >= 96.0
    assert (stats["veb_pp"] or 0.0) >= 85.0
