"""Embedded mode (SQLite + in-process queue, no services): end to end and the queue itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.inproc_queue import InprocBroker
from ingest.messaging import Delivery
from ingest.service import Service, free_port
from ingest.testing import Stack, variant_files
from models.db import DeadLetter, ReviewItem
from models.errors import PipelineError
from models.settings import Settings
from tests.pipeline import fakes


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(tmp_path, database_url=None, amqp_url=None, roles=())
    yield stack
    stack.close()


def _start(stack: Stack, **kw: object) -> Service:
    stack.service.stop(timeout_s=2)
    stack.service = Service(stack.runtime, api_port=free_port(), **kw).start()  # type: ignore[arg-type]
    stack.client.base_url = stack.service.api_url
    return stack.service


def test_embedded_end_to_end_real_analyser(embedded: Stack, samples_dir: Path) -> None:
    _start(embedded)
    ids = [
        embedded.upload([(n, (samples_dir / n).read_bytes()) for n in (f"{s}.hea", f"{s}.dat")])
        for s in ("ludb7", "mitdb119_0-300s")
    ]
    statuses = embedded.wait_terminal(ids, 120)
    assert set(statuses.values()) == {"done"}
    for rid in ids:
        body = embedded.client.get(f"/v1/records/{rid}").json()
        assert body["result"]["record_id"] == rid
        assert body["result"]["beats"]["sample"]


def test_embedded_unanalysable_and_poison(embedded: Stack, samples_dir: Path) -> None:
    _start(embedded, analyse=fakes.corrupt, use_processes=False)
    rid = embedded.upload(variant_files(samples_dir, "A00001", "corrupt"))
    assert embedded.wait_terminal([rid], 30)[rid] == "needs_review"
    _start(embedded, analyse=fakes.always_raise, use_processes=False)
    poison = embedded.upload(variant_files(samples_dir, "A00001", "poison"))
    assert embedded.wait_terminal([poison], 60)[poison] == "failed"
    with embedded.runtime.sessions() as s:
        dead = s.query(DeadLetter).filter_by(record_id=poison).one()
        assert "injected failure" in dead.reason
        urgencies = {r.record_id: r.urgency for r in s.query(ReviewItem)}
    assert urgencies.get(rid) == 1
    assert urgencies.get(poison) == 1


class _Recorder:
    def __init__(self) -> None:
        self.seen: list[Delivery] = []

    def __call__(self, delivery: Delivery) -> None:
        self.seen.append(delivery)


def test_inproc_broker_routing_requeue_and_delivery_limit() -> None:
    broker = InprocBroker(delivery_limit=3)
    pub = broker.publisher()
    for key in ("result.critical", "result.abnormal", "result.normal"):
        pub.publish("results", key, {"k": key}, message_id=key)
    assert broker.depth("alerts") == 1
    assert broker.depth("review") == 2
    with pytest.raises(PipelineError, match="unroutable"):
        pub.publish("results", "result.bogus", {}, message_id="x")
    pub.publish("records", "", {"record_id": "r1"}, message_id="m1")
    consumer = broker.consumer()
    counts: list[int] = []

    def nack_always(delivery: Delivery) -> None:
        counts.append(delivery.delivery_count)
        delivery.nack(requeue=True)
        if len(counts) >= 3:
            consumer.stop()

    consumer.consume("records", nack_always, prefetch=1)
    assert counts == [0, 1, 2]
    body, headers = broker.get("dead") or ({}, {})
    assert body == {"record_id": "r1"}
    assert headers["x-death"][0]["reason"] == "delivery_limit"


def test_separate_roles_need_amqp(monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.serve import run_roles
    from models.errors import ConfigError

    monkeypatch.delenv("ECG_AMQP_URL", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    with pytest.raises(ConfigError, match="ECG_AMQP_URL"):
        run_roles(("worker",))
    assert Settings(_env_file=None).amqp_url is None
