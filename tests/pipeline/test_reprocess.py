"""Reprocess: selection, re-queue through the outbox, history, signed reports, alert dedup."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ingest.messaging import Names
from ingest.reanalysis import decide
from ingest.reprocess import Criteria, parse_version, progress_of, requeue, select_records
from ingest.service import Service, free_port
from ingest.testing import Stack, variant_files
from models.db import Alert, Record, Result, ResultHistory, ReviewItem
from models.errors import InputError
from tests.pipeline import fakes

NEW = "9.0.0"


def _result(critical: tuple[str, ...] = (), abnormal: tuple[str, ...] = ()) -> dict[str, Any]:
    findings = [{"code": c, "severity": "critical"} for c in critical]
    findings += [{"code": c, "severity": "abnormal"} for c in abnormal]
    return {"critical": bool(critical), "findings": findings}


@pytest.mark.parametrize(
    ("before", "after", "signed", "key", "replace"),
    [
        (None, _result(("VT",)), False, "result.critical", True),
        (_result(), _result(("ASYSTOLE",)), False, "result.critical", True),  # newly critical
        (_result(("VT",)), _result(("VT",)), False, "result.reanalysed", True),  # same: no alert
        (_result(("VT",)), _result(("VT", "ASYS")), False, "result.critical", True),
        (_result(("VT",)), _result(abnormal=("PVC",)), False, "result.revised", True),
        (_result(), _result(abnormal=("PVC",)), False, "result.abnormal", True),
        (_result(abnormal=("PVC",)), _result(abnormal=("PVC",)), False, "result.reanalysed", True),
        (_result(("VT",)), _result(("VT",)), True, "result.reanalysed", False),
        (_result(("VT",)), _result(("VT", "ASYS")), True, "result.critical", False),
        (_result(), _result(abnormal=("PVC",)), True, "result.revised", False),
    ],
)
def test_decide_table(
    before: dict[str, Any] | None, after: dict[str, Any], signed: bool, key: str, replace: bool
) -> None:
    decision = decide(before, after, signed=signed)
    assert (decision.routing_key, decision.replace) == (key, replace)
    if key == "result.critical":
        assert decision.new_codes  # an alert always names what is new


def test_parse_version_orders_numerically() -> None:
    assert parse_version("0.10.0") > parse_version("0.9.9")
    assert parse_version(None) < parse_version("0.0.1")


def test_criteria_reject_non_final_status() -> None:
    with pytest.raises(InputError, match="queued"):
        Criteria(statuses=("queued",)).check()
    with pytest.raises(InputError, match="after"):
        Criteria(since=date(2026, 2, 1), until=date(2026, 1, 1)).check()


# ------------------------------------------------------------------ end to end


class Script:
    """The scripted analyser's answers (a JSON file read by every analysis)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, Any] = {}

    def set(self, record_id: str, **entry: Any) -> None:
        self.entries[record_id] = entry
        self.path.write_text(json.dumps(self.entries))


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Script:
    path = tmp_path / "script.json"
    monkeypatch.setenv("ECG_FAKE_SCRIPT", str(path))
    out = Script(path)
    out.set("*")
    return out


def _wait_consumed(
    sessions: sessionmaker[Session], message_ids: list[str], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with sessions() as s:
            if progress_of(s, message_ids) == len(message_ids):
                return
        if time.monotonic() > deadline:
            pytest.fail(f"reprocess messages not consumed within {timeout_s} s")
        time.sleep(0.1)


def _alerts(sessions: sessionmaker[Session], ids: list[str], want: int) -> Counter[str]:
    """Alerts per record once ``want`` have arrived (plus a moment for any surplus)."""
    deadline = time.monotonic() + 20

    def count() -> Counter[str]:
        with sessions() as s:
            return Counter(s.scalars(select(Alert.record_id).where(Alert.record_id.in_(ids))))

    while sum(count().values()) < want and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a spam alert would arrive now
    return count()


def _sign(sessions: sessionmaker[Session], record_id: str) -> None:
    """A reviewer signs the record's report (the review service sets this status)."""
    with sessions() as s, s.begin():
        for item in s.scalars(select(ReviewItem).where(ReviewItem.record_id == record_id)):
            item.status = "signed"


def _scenario(stack: Stack, script: Script, samples_dir: Path, timeout_s: float) -> None:
    sessions = stack.runtime.sessions
    uploads = [variant_files(samples_dir, "A00001", f"rp-{i}") for i in range(3)]
    for files in uploads[1:]:  # scripted by header hash: known before the upload
        script.set(hashlib.sha256(files[0][1]).hexdigest(), critical=["VT"])
    ids = [stack.upload(files) for files in uploads]
    plain, crit, signed = ids
    # Given three analysed records: one normal, two critical (one of them signed later)
    assert set(stack.wait_terminal(ids, timeout_s).values()) == {"done"}, stack.worker_logs()
    assert _alerts(sessions, ids, 2) == {crit: 1, signed: 1}
    with sessions() as s:
        signed_json = s.scalars(select(Result.result_json).where(Result.record_id == signed)).one()
    _sign(sessions, signed)
    # When the algorithm changes: plain becomes critical, crit finds VT again, and the
    # signed record's re-analysis finds VT plus a new ASYSTOLE
    script.set(plain, critical=["ASYSTOLE"], version=NEW)
    script.set(crit, critical=["VT"], version=NEW)
    script.set(signed, critical=["VT", "ASYSTOLE"], version=NEW)
    with sessions() as s:
        chosen = select_records(s, Criteria(older_than=NEW, record_ids=tuple(ids)))
    assert {c.record_id for c in chosen} == set(ids)
    assert {c.record_id for c in chosen if c.signed} == {signed}
    report = requeue(sessions, [c.record_id for c in chosen], batch_size=2, batch_tag="t1")
    assert (report.queued, report.skipped) == (3, 0)
    _wait_consumed(sessions, report.message_ids, timeout_s)
    # Then newly critical findings alert (plain, signed), the repeated VT does not
    assert _alerts(sessions, ids, 4) == {plain: 1, crit: 1, signed: 2}
    with sessions() as s:
        results = {
            r.record_id: r for r in s.scalars(select(Result).where(Result.record_id.in_(ids)))
        }
        history = [
            (h.record_id, h.kind, h.version)
            for h in s.scalars(select(ResultHistory).where(ResultHistory.record_id.in_(ids)))
        ]
        records = {r.id: r for r in s.scalars(select(Record).where(Record.id.in_(ids)))}
    # the unsigned results are replaced (version 2) and the old ones kept as history
    assert results[plain].version == results[crit].version == 2
    assert results[plain].severity == "critical"
    assert results[plain].analysis_version == NEW
    # the signed report's result is untouched; the new one is held beside it
    assert results[signed].version == 1
    assert results[signed].result_json == signed_json
    assert sorted(history) == sorted(
        [(plain, "superseded", 1), (crit, "superseded", 1), (signed, "held", 1)]
    )
    assert {records[r].status for r in ids} == {"done"}
    assert {records[r].analysis_version for r in ids} == {NEW}
    # And running the same batch again changes versions but alerts nobody
    with sessions() as s:
        assert select_records(s, Criteria(older_than=NEW, record_ids=tuple(ids))) == []
    again = requeue(sessions, ids, batch_tag="t2")
    _wait_consumed(sessions, again.message_ids, timeout_s)
    assert _alerts(sessions, ids, 4) == {plain: 1, crit: 1, signed: 2}
    with sessions() as s:
        assert s.scalars(select(Result.version).where(Result.record_id == plain)).one() == 3


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(tmp_path, database_url=None, amqp_url=None, roles=())
    yield stack
    stack.close()


def test_reprocess_embedded(embedded: Stack, script: Script, samples_dir: Path) -> None:
    embedded.service.stop(timeout_s=2)
    embedded.service = Service(
        embedded.runtime, api_port=free_port(), analyse=fakes.scripted, use_processes=False
    ).start()
    embedded.client.base_url = embedded.service.api_url
    _scenario(embedded, script, samples_dir, timeout_s=60)


def test_reprocess_cli_dry_run_and_wait(
    embedded: Stack, script: Script, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import app

    embedded.service.stop(timeout_s=2)
    embedded.service = Service(
        embedded.runtime, api_port=free_port(), analyse=fakes.scripted, use_processes=False
    ).start()
    embedded.client.base_url = embedded.service.api_url
    rid = embedded.upload(variant_files(samples_dir, "A00001", "cli"))
    assert embedded.wait_terminal([rid], 30)[rid] == "done"
    monkeypatch.setenv("ECG_DATA_DIR", str(embedded.settings.data_dir))
    monkeypatch.delenv("ECG_DATABASE_URL", raising=False)
    monkeypatch.delenv("ECG_AMQP_URL", raising=False)
    monkeypatch.chdir(embedded.tmp_path)  # no .env here
    runner = CliRunner()
    # Given no criterion, When reprocess runs, Then it refuses with a clear message
    refused = runner.invoke(app, ["reprocess"])
    assert refused.exit_code == 2
    assert "--all" in refused.output
    # When a dry run lists the outdated records, Then nothing is queued
    dry = runner.invoke(app, ["reprocess", "--older-than", NEW, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert rid in dry.output
    assert "1 records would be re-analysed" in dry.output
    assert embedded.statuses([rid])[rid] == "done"
    # When it runs with --wait, Then the record is re-analysed and the summary says so
    script.set(rid, version=NEW)
    ran = runner.invoke(app, ["reprocess", "--record-id", rid, "--wait", "--timeout", "30"])
    assert ran.exit_code == 0, ran.output
    assert "1 queued, 0 skipped" in ran.output
    assert "re-analysed 1/1" in ran.output
    assert "kept as history 1" in ran.output


@pytest.mark.broker
@pytest.mark.db
def test_reprocess_rabbitmq_postgresql(
    tmp_path: Path,
    pg_schema_url: str,
    amqp_url: str,
    amqp_names: Names,
    script: Script,
    samples_dir: Path,
) -> None:
    stack = Stack(
        tmp_path,
        database_url=pg_schema_url,
        amqp_url=amqp_url,
        prefix=amqp_names.prefix,
        extra_env={"ECG_FAKE_SCRIPT": str(script.path)},
    )
    try:
        stack.start_worker("tests.pipeline.fakes:scripted", concurrency=2)
        _scenario(stack, script, samples_dir, timeout_s=90)
    finally:
        stack.close()
