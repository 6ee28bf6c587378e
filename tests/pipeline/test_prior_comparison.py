"""The worker compares a resting ECG with the same patient's previous one (embedded stack).

In-process queue, the real analyser in threads, SQLite (and PostgreSQL when it runs).
The first upload is the real LUDB 7 record; the second is LUDB 7 with a SYNTHETIC
0.3 mV ST elevation in V1-V4 (tests/ecg_core/st_elevation_synth.py), uploaded for the
same patient id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from ingest.readers import read_record
from ingest.service import Service, free_port
from ingest.testing import Stack
from models.db import Result
from models.record import EcgRecord
from tests.ecg_core.st_elevation_synth import with_st_elevation


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.db)])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """In-process queue and worker threads over SQLite, or over a real PostgreSQL."""
    url = request.getfixturevalue("pg_schema_url") if request.param == "postgresql" else None
    s = Stack(tmp_path, database_url=url, amqp_url=None, roles=())
    s.service.stop(timeout_s=2)
    s.service = Service(s.runtime, api_port=free_port(), use_processes=False).start()
    s.client.base_url = s.service.api_url
    yield s
    s.close()


def _wfdb(record: EcgRecord, folder: Path, name: str) -> list[tuple[str, bytes]]:
    """``record`` written as a WFDB record (header + format-16 signal file)."""
    import wfdb

    folder.mkdir(parents=True, exist_ok=True)
    n = len(record.leads)
    wfdb.wrsamp(
        name,
        fs=record.fs_hz,
        units=["mV"] * n,
        sig_name=list(record.leads),
        p_signal=record.signal_mv.T,
        fmt=["16"] * n,
        write_dir=str(folder),
        comments=["<age>: 50", "<sex>: M"],
    )
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob(f"{name}.*"))]


def _result(stack: Stack, rid: str) -> dict[str, Any]:
    body = stack.client.get(f"/v1/records/{rid}").json()
    result: dict[str, Any] = body["result"]
    return result


def _codes(result: dict[str, Any]) -> set[str]:
    return {f["code"] for f in result["findings"]}


def test_second_upload_of_a_patient_is_compared_with_the_first(
    stack: Stack, samples_dir: Path, tmp_path: Path
) -> None:
    ludb7 = read_record(samples_dir / "ludb7.hea")
    ludb1 = read_record(samples_dir / "ludb1.hea")
    # Given the real LUDB 7 ECG of patient P-7, analysed
    first = stack.upload(_wfdb(ludb7, tmp_path / "a", "ecg_a"), patient_id="P-7")
    assert stack.wait_terminal([first], 60)[first] == "done"
    before = _result(stack, first)
    assert before["comparison"] == {"prior_record_id": None, "note": "no prior ECG to compare"}
    # When the same patient's next ECG shows new anterior ST elevation
    ste = with_st_elevation(ludb7, ("V1", "V2", "V3", "V4"), 0.3, record_id="x")
    second = stack.upload(_wfdb(ste, tmp_path / "b", "ecg_b"), patient_id="P-7")
    assert stack.wait_terminal([second], 60)[second] == "done"
    # Then the worker passed the first ECG in: re-infarction over the old Q waves,
    # and the acute MI says it is also on the earlier ECG
    after = _result(stack, second)
    assert after["critical"]
    assert {"ACUTE_MI", "REINFARCTION"} <= _codes(after)
    assert after["comparison"]["prior_record_id"] == first
    assert after["comparison"]["days_since_prior"] is not None
    re = next(f for f in after["findings"] if f["code"] == "REINFARCTION")
    assert re["evidence"]["prior_record_id"] == first
    stemi = next(f for f in after["findings"] if f["rule"] == "stemi")
    assert stemi["evidence"]["prior_ecg"]["record_id"] == first
    assert f"record {first}" in stemi["message"]

    # Given another patient whose previous stored result is unreadable
    third = stack.upload(_wfdb(ludb1, tmp_path / "c", "ecg_c"), patient_id="P-1")
    assert stack.wait_terminal([third], 60)[third] == "done"
    with stack.runtime.sessions() as session, session.begin():
        session.execute(
            update(Result).where(Result.record_id == third).values(result_json={"junk": [1]})
        )
    ste1 = with_st_elevation(ludb1, ("V1", "V2", "V3", "V4"), 0.3, record_id="y")
    fourth = stack.upload(_wfdb(ste1, tmp_path / "d", "ecg_d"), patient_id="P-1")
    # Then the analysis still completes, as "no prior ECG to compare"
    assert stack.wait_terminal([fourth], 60)[fourth] == "done"
    last = _result(stack, fourth)
    assert "ACUTE_MI" in _codes(last)
    assert "REINFARCTION" not in _codes(last)
    assert last["comparison"]["prior_record_id"] is None
