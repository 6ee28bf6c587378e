"""Upload API against SQLite (no services): acceptance, idempotency, bad input, isolation."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx import Client as HttpClient
from sqlalchemy import func, select

from ingest.api.security import create_clinic
from ingest.service import Runtime, Service, build_runtime, free_port
from models.db import OutboxMessage, Record
from models.settings import Settings


@pytest.fixture
def runtime(embedded_settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(embedded_settings.model_copy(update={"max_upload_mb": 2}))
    yield rt
    rt.engine.dispose()


def _serve(runtime: Runtime) -> Generator[HttpClient]:
    service = Service(runtime, roles=("api",), api_port=free_port()).start()
    try:
        with HttpClient(base_url=service.api_url, timeout=60) as client:
            yield client
    finally:
        service.stop(timeout_s=5)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[HttpClient]:
    yield from _serve(runtime)


def _key(runtime: Runtime, name: str) -> str:
    with runtime.sessions() as session, session.begin():
        return create_clinic(session, name)[1]


def _files(samples_dir: Path, *names: str) -> list[tuple[str, tuple[str, bytes]]]:
    return [("file", (n, (samples_dir / n).read_bytes())) for n in names]


def _counts(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.sessions() as s:
        blobs = [p for p in Path(runtime.blobs.url).rglob("*") if p.is_file()]
        return (
            s.scalar(select(func.count(Record.id))) or 0,
            s.scalar(select(func.count(OutboxMessage.id))) or 0,
            len(blobs),
        )


def _post(client: HttpClient, key: str | None, files: Any, **kw: Any) -> Any:
    headers = {"X-API-Key": key} if key else {}
    headers.update(kw.pop("headers", {}))
    return client.post("/v1/records", files=files, headers=headers, **kw)


def test_upload_wfdb_pair_is_accepted_once(
    client: HttpClient, runtime: Runtime, samples_dir: Path
) -> None:
    # Given a clinic and a WFDB record (header + signal file)
    key = _key(runtime, "A")
    files = _files(samples_dir, "ludb7.hea", "ludb7.dat")
    # When it uploads the record twice
    first = _post(client, key, files, data={"recording_type": "resting", "patient_age_years": "61"})
    again = _post(client, key, files)
    # Then the first answer is 202 with a status URL, the second returns the same record
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["status"] == "queued"
    assert body["duplicate"] is False
    assert again.status_code == 200
    assert again.json()["record_id"] == body["record_id"]
    status = client.get(body["status_url"], headers={"X-API-Key": key}).json()
    assert status["status"] == "queued"
    assert status["files"] == ["ludb7.hea", "ludb7.dat"]
    assert status["source_format"] == "wfdb"
    assert status["result"] is None
    assert _counts(runtime) == (1, 1, 2)  # one record, one outbox message, two blobs


def test_idempotency_key(client: HttpClient, runtime: Runtime, samples_dir: Path) -> None:
    key = _key(runtime, "A")
    h = {"Idempotency-Key": "upload-42"}
    one = _post(client, key, _files(samples_dir, "ludb1.hea", "ludb1.dat"), headers=h)
    same = _post(client, key, _files(samples_dir, "ludb1.hea", "ludb1.dat"), headers=h)
    other = _post(client, key, _files(samples_dir, "A00001.hea", "A00001.mat"), headers=h)
    assert one.status_code == 202
    assert same.json()["record_id"] == one.json()["record_id"]
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"


@pytest.mark.parametrize(
    ("case", "status", "code", "needle"),
    [
        ("unknown_format", 415, "unsupported_format", "unknown format"),
        ("corrupt", 422, "invalid_record", "truncated"),
        ("oversize", 413, "upload_too_large", "exceeds the limit"),
        ("no_key", 401, "unauthorized", "missing API key"),
        ("wrong_key", 401, "unauthorized", "wrong API key"),
        ("bad_metadata", 422, "invalid_metadata", "patient_age_years"),
        ("unknown_field", 422, "invalid_metadata", "colour"),
        ("no_file", 422, "invalid_record", "no file"),
        ("two_records", 422, "invalid_record", "exactly one .hea"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_leaves_nothing(
    client: HttpClient,
    runtime: Runtime,
    samples_dir: Path,
    case: str,
    status: int,
    code: str,
    needle: str,
) -> None:
    key = _key(runtime, "A")
    good = _files(samples_dir, "ludb1.hea", "ludb1.dat")
    data: dict[str, str] = {}
    files: Any = good
    use_key: str | None = key
    if case == "unknown_format":
        files = [("file", ("notes.bin", b"\x00\x01hello, not an ECG" * 50))]
    elif case == "corrupt":
        dat = (samples_dir / "ludb1.dat").read_bytes()[:5000]
        files = [good[0], ("file", ("ludb1.dat", dat))]
    elif case == "oversize":
        files = [("file", ("big.dat", b"\x00" * (3 * 1024 * 1024)))]
    elif case == "no_key":
        use_key = None
    elif case == "wrong_key":
        use_key = "ecg_not-a-real-key"
    elif case == "bad_metadata":
        data = {"patient_age_years": "old", "recording_type": "resting"}
    elif case == "unknown_field":
        data = {"colour": "blue"}
    elif case == "no_file":
        files = None
        data = {"recording_type": "resting"}
    elif case == "two_records":
        files = _files(samples_dir, "ludb1.hea", "ludb1.dat", "ludb7.hea", "ludb7.dat")
    resp = _post(client, use_key, files, data=data)
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert err["code"] == code
    assert needle in err["message"]
    assert _counts(runtime) == (0, 0, 0)


def test_clinic_sees_only_its_own_records(
    client: HttpClient, runtime: Runtime, samples_dir: Path
) -> None:
    key_a, key_b = _key(runtime, "A"), _key(runtime, "B")
    rid = _post(client, key_a, _files(samples_dir, "ludb1.hea", "ludb1.dat")).json()["record_id"]
    # every endpoint: status, list, and re-upload of the same bytes by B
    assert client.get(f"/v1/records/{rid}", headers={"X-API-Key": key_b}).status_code == 404
    assert client.get(f"/v1/records/{rid}", headers={"X-API-Key": key_a}).status_code == 200
    listed = client.get("/v1/records", headers={"X-API-Key": key_b}).json()
    assert listed == []
    assert [
        r["record_id"] for r in client.get("/v1/records", headers={"X-API-Key": key_a}).json()
    ] == [rid]
    other = _post(client, key_b, _files(samples_dir, "ludb1.hea", "ludb1.dat"))
    assert other.status_code == 202
    assert other.json()["record_id"] != rid
    for path in (f"/v1/records/{rid}", "/v1/records"):
        assert client.get(path).status_code == 401


def test_rate_limit_per_clinic(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={"rate_limit_per_min": 2})
    served = _serve(runtime)
    client = next(served)
    key_a, key_b = _key(runtime, "A"), _key(runtime, "B")
    codes = [client.get("/v1/records", headers={"X-API-Key": key_a}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/v1/records", headers={"X-API-Key": key_b}).status_code == 200
    served.close()


def test_openapi_docs_served(client: HttpClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/records" in spec["paths"]
    assert "/v1/records/{record_id}" in spec["paths"]
    assert client.get("/docs").status_code == 200
