"""Shared test helpers of the alert and review tests: a database with a clinic, a record
and a stored result, fake deliveries, a fake clock and a real local webhook receiver."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ingest.api.security import create_clinic
from ingest.blobstore import BlobStore, sha256_file
from ingest.migrations import upgrade_head
from models.db import Record, Result, make_engine, make_sessionmaker, utcnow

VT_FINDING = {
    "code": "VT",
    "severity": "critical",
    "onset_s": 1.0,
    "offset_s": 4.0,
    "leads": ["MLII"],
    "value": 182.0,
    "threshold": 150.0,
    "rule": "vt-resting",
    "message": "VT 182 bpm for 31 s",
}
TACHY_FINDING = {
    "code": "SINUS_TACHY",
    "severity": "abnormal",
    "onset_s": 0.0,
    "offset_s": 10.0,
    "rule": "sinus-tachy",
    "message": "sinus tachycardia 110 bpm",
}


class FakeClock:
    """A settable UTC clock."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class FakeDelivery:
    """A message as a consumer receives it."""

    body: dict[str, Any]
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    routing_key: str = "result.critical"
    headers: dict[str, Any] = field(default_factory=dict)
    delivery_count: int = 0
    acked: bool = False
    nacked: bool = False

    def ack(self) -> None:
        self.acked = True

    def nack(self, *, requeue: bool) -> None:
        self.nacked = True


def sqlite_sessions(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    upgrade_head(url)
    return make_sessionmaker(make_engine(url))


def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema (generator for a fixture); dropped afterwards."""
    schema = f"test_ar_{uuid.uuid4().hex[:10]}"
    url = make_url(pg_url)
    raw = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def add_clinic(sessions: sessionmaker[Session], name: str = "Clinic A") -> tuple[str, str]:
    """A clinic; returns (id, API key)."""
    with sessions() as session, session.begin():
        clinic, key = create_clinic(session, name)
        return clinic.id, key


def add_result(
    sessions: sessionmaker[Session],
    clinic_id: str,
    findings: list[dict[str, Any]],
    *,
    severity: str = "critical",
    files: list[dict[str, Any]] | None = None,
    primary_file: str = "x.hea",
    source_format: str = "wfdb",
    result_extra: dict[str, Any] | None = None,
) -> str:
    """A done record with a stored result; returns the record id."""
    with sessions() as session, session.begin():
        rec = Record(
            clinic_id=clinic_id,
            content_sha256=uuid.uuid4().hex * 2,
            status="done",
            source_format=source_format,
            primary_file=primary_file,
            files=files or [],
            total_bytes=1,
            recording_type="resting",
            patient_id="P-001",
            clinic_ref="REF-7",
            attempts=1,
        )
        session.add(rec)
        session.flush()
        result = {
            "record_id": rec.id,
            "fs_hz": 360.0,
            "duration_s": 10.0,
            "leads": ["MLII"],
            "findings": findings,
            "critical": any(f["severity"] == "critical" for f in findings),
            "beats": {"sample": [100, 400, 700], "label": ["N", "V", "N"]},
            "analysis_version": "test",
            **(result_extra or {}),
        }
        session.add(
            Result(record_id=rec.id, result_json=result, severity=severity, analysis_version="t")
        )
        return rec.id


def alert_delivery(record_id: str, clinic_id: str, codes: list[str]) -> FakeDelivery:
    return FakeDelivery(
        {
            "record_id": record_id,
            "clinic_id": clinic_id,
            "severity": "critical",
            "codes": codes,
            "status": "done",
            "result_id": None,
        }
    )


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 recording POSTed JSON bodies.

    ``statuses`` is consumed one per request (then 200): e.g. [500, 500] fails twice.
    """

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any], bytes]] = []
        self.statuses = list(statuses or [])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append((dict(self.headers.items()), json.loads(raw), raw))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for _h, body, _r in self.requests]

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free 127.0.0.1 port; yields its base URL."""
    import uvicorn

    from ingest.service import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "test server did not start"
        assert thread.is_alive(), "test server thread died"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def store_record_files(blobs: BlobStore, paths: list[Path]) -> list[dict[str, Any]]:
    """Put files into the blob store; returns the record's file manifest."""
    files = []
    for path in paths:
        sha, size = sha256_file(path)
        blobs.put_file(path, sha)
        files.append({"name": path.name, "sha256": sha, "size": size})
    return files
