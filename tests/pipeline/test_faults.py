"""Fault tests against the real RabbitMQ and PostgreSQL, with real worker subprocesses."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ingest.messaging import AmqpBroker, Names
from ingest.testing import Stack, variant_files
from ingest.worker import route_for
from models.db import DeadLetter, InboxEntry, Record, Result, ReviewItem
from models.result import AnalysisResult
from tests.pipeline.conftest import close_all_amqp_connections
from tests.pipeline.ledger import settled_ledger

pytestmark = [pytest.mark.broker, pytest.mark.db]

StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(
    tmp_path: Path, pg_schema_url: str, amqp_url: str, amqp_names: Names
) -> Iterator[StackFactory]:
    stacks: list[Stack] = []

    def make(**kw: Any) -> Stack:
        stack = Stack(
            tmp_path, database_url=pg_schema_url, amqp_url=amqp_url, prefix=amqp_names.prefix, **kw
        )
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()


def _wait_status(stack: Stack, rid: str, wanted: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while stack.statuses([rid]).get(rid) != wanted:
        if time.monotonic() > deadline:
            pytest.fail(f"record {rid} never reached {wanted}:\n{stack.worker_logs()}")
        time.sleep(0.05)


def test_end_to_end_real_analyser(make_stack: StackFactory, samples_dir: Path) -> None:
    # Given the stack and one worker process running the real analysis
    stack = make_stack()
    stack.start_worker()
    # When a clinic uploads a 12-lead WFDB record
    files = [(n, (samples_dir / n).read_bytes()) for n in ("ludb7.hea", "ludb7.dat")]
    rid = stack.upload(files, recording_type="resting")
    # Then the stored result is the analyser's JSON contract, stored once
    assert stack.wait_terminal([rid], 120)[rid] == "done", stack.worker_logs()
    body = stack.client.get(f"/v1/records/{rid}").json()
    result = AnalysisResult.model_validate(body["result"])
    assert result.record_id == rid
    assert len(result.leads) == 12
    assert len(result.beats.sample) > 5
    assert body["severity"] == route_for(body["result"])[1]
    with stack.runtime.sessions() as s:
        assert s.scalar(select(func.count()).where(Result.record_id == rid)) == 1
        assert s.scalar(select(func.count()).where(InboxEntry.record_id == rid)) == 1


def test_worker_killed_mid_message_is_redelivered_and_stored_once(
    make_stack: StackFactory, samples_dir: Path
) -> None:
    stack = make_stack(extra_env={"ECG_FAKE_SLOW_S": "4"})
    first = stack.start_worker("tests.pipeline.fakes:slow", concurrency=1)
    rid = stack.upload(variant_files(samples_dir, "A00001", "kill-9"))
    _wait_status(stack, rid, "analysing", 60)
    # When the worker is killed -9 in the middle of the analysis
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    stack.start_worker("tests.pipeline.fakes:slow", concurrency=1)
    # Then the broker redelivers and the result is stored exactly once (the fake analyser's
    # verdict depends on the random record id: unanalysable results end in needs_review)
    status = stack.wait_terminal([rid], 90)[rid]
    assert status in ("done", "needs_review"), stack.worker_logs()
    book = settled_ledger(stack.runtime.sessions, [rid])
    assert book["lost"] == 0
    assert book["duplicated"] == 0
    with stack.runtime.sessions() as s:
        rec = s.get(Record, rid)
        assert rec is not None
        assert rec.attempts == 2


def test_broker_connections_closed_under_load(make_stack: StackFactory, samples_dir: Path) -> None:
    stack = make_stack(extra_env={"ECG_FAKE_SLOW_S": "0.05"})
    for _ in range(2):
        stack.start_worker("tests.pipeline.fakes:slow", concurrency=2)
    ids = []
    for i in range(150):
        ids.append(stack.upload(variant_files(samples_dir, "A00001", f"close-{i}")))
        if i in (50, 100):
            close_all_amqp_connections()  # relay, consumers and both workers lose the broker
    stack.wait_terminal(ids, 120)
    book = settled_ledger(stack.runtime.sessions, ids)
    print("ledger after close_all_connections:", book)
    assert book["lost"] == 0, stack.worker_logs()
    assert book["duplicated"] == 0
    assert book["missing_alerts"] == 0
    assert book["missing_review"] == 0


def test_poison_message_is_dead_lettered_with_reason(
    make_stack: StackFactory, amqp_url: str, amqp_names: Names, samples_dir: Path
) -> None:
    stack = make_stack(max_attempts=3)
    stack.start_worker("tests.pipeline.fakes:always_raise", concurrency=1)
    rid = stack.upload(variant_files(samples_dir, "A00001", "poison"))
    # Then after 3 attempts it is failed, dead-lettered with the reason, and on the worklist
    assert stack.wait_terminal([rid], 90)[rid] == "failed", stack.worker_logs()
    with stack.runtime.sessions() as s:
        dead = s.scalars(select(DeadLetter).where(DeadLetter.record_id == rid)).one()
        assert dead.attempts == 3
        assert "injected failure" in dead.reason
    broker = AmqpBroker(amqp_url, amqp_names)
    deadline = time.monotonic() + 20
    message = None
    while message is None and time.monotonic() < deadline:
        message = broker.get("dead")
        time.sleep(0.1)
    assert message is not None
    assert message[0]["record_id"] == rid
    assert "injected failure" in message[0]["reason"]
    book = settled_ledger(stack.runtime.sessions, [rid])
    assert book["missing_review"] == 0
    with stack.runtime.sessions() as s:
        item = s.scalars(select(ReviewItem).where(ReviewItem.record_id == rid)).one()
        assert item.severity == "unanalysable"
