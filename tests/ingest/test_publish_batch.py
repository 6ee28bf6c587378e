"""Batched publisher confirms (``Publisher.publish_many``) and the relay's use of them."""

from __future__ import annotations

import pytest

from ingest.inproc_queue import InprocBroker
from ingest.messaging import AmqpBroker, OutgoingMessage
from models.errors import PipelineError


def _batch() -> list[OutgoingMessage]:
    return [
        OutgoingMessage("records", "", {"record_id": "r1"}, "m-records-1"),
        OutgoingMessage("results", "result.critical", {"record_id": "r1"}, "m-critical"),
        OutgoingMessage("results", "result.bogus", {"record_id": "r1"}, "m-bogus"),
        OutgoingMessage("results", "result.normal", {"record_id": "r1"}, "m-normal"),
        OutgoingMessage("records", "", {"record_id": "r2"}, "m-records-2"),
    ]


@pytest.mark.broker
def test_amqp_publish_many_confirms_all_but_the_unroutable(amqp_broker: AmqpBroker) -> None:
    publisher = amqp_broker.publisher()
    try:
        report = publisher.publish_many(_batch())
    finally:
        publisher.close()
    # result.normal has no queue but is not mandatory; result.bogus is returned
    assert report.confirmed == [0, 1, 3, 4]
    assert len(report.errors) == 1
    assert "m-bogus" in report.errors[0]
    assert "unroutable" in report.errors[0]
    assert amqp_broker.queue_depth("records") == 2
    assert amqp_broker.queue_depth("alerts") == 1
    assert amqp_broker.queue_depth("review") == 1
    got = amqp_broker.get("records")
    assert got is not None
    assert got[0] == {"record_id": "r1"}  # order kept


@pytest.mark.broker
def test_amqp_publish_many_large_batch_and_single_publish(amqp_broker: AmqpBroker) -> None:
    publisher = amqp_broker.publisher()
    try:
        msgs = [OutgoingMessage("records", "", {"record_id": f"r{i}"}, f"m{i}") for i in range(300)]
        report = publisher.publish_many(msgs)
        assert report.confirmed == list(range(300))
        assert report.errors == []
        publisher.publish("records", "", {"record_id": "one"}, message_id="single")
        with pytest.raises(PipelineError, match="unroutable"):
            publisher.publish("results", "result.bogus", {}, message_id="bogus")
        # the channel is still usable after an unroutable message
        publisher.publish("records", "", {"record_id": "two"}, message_id="after")
    finally:
        publisher.close()
    assert amqp_broker.queue_depth("records") == 302


def test_inproc_publish_many_reports_like_amqp() -> None:
    broker = InprocBroker()
    report = broker.publisher().publish_many(_batch())
    assert report.confirmed == [0, 1, 3, 4]
    assert len(report.errors) == 1
    assert "result.bogus" in report.errors[0]
    assert broker.depth("records") == 2
    assert broker.depth("alerts") == 1
    assert broker.depth("review") == 1
