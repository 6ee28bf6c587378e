"""SVEB (class S) on whole shared records (slow: ~30 min of ECG each).

Thresholds sit a little below what docs/qrs.md reports (training figures on MIT-BIH DS1),
so a real regression fails while run-to-run identity is not required.
"""

from pathlib import Path

import pytest

from evaluation.ec57 import Ec57Counts
from tests.ecg_core.ec57_records import score_record


def _false_s(c: Ec57Counts) -> int:
    return int(c.matrix[:, 1].sum() - c.matrix[1, 1] + c.extra[1])


@pytest.mark.slow
def test_svt_runs_are_s_and_af_is_not(shared_data: Path) -> None:
    folder = shared_data / "mitdb"
    if not all((folder / f"{r}.atr").exists() for r in ("209", "203")):
        pytest.skip("shared mitdb records 209/203 not present")
    # Given 209 (isolated APCs and SVT runs) and 203 (AF and flutter, its beats labelled N)
    svt, af = score_record(folder, "209"), score_record(folder, "203")
    # Then most S beats of 209, runs included, are found, with few false S
    s = svt.stats()
    assert (s["sveb_se"] or 0.0) >= 85.0
    assert (s["sveb_pp"] or 0.0) >= 90.0
    # and the irregular short RRs of AF are not called S (there were ~490 before sveb.py)
    assert _false_s(af) <= 20
