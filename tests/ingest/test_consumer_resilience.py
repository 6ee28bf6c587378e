"""A consumer outlives a handler that raises: the message is requeued, the thread goes on.

Before this guard an exception from a handler (a database error in the review consumer,
say) ended the consumer thread: the queue silently stopped draining while the service
looked healthy.
"""

from __future__ import annotations

import threading

import pytest

from ingest.inproc_queue import InprocBroker
from ingest.messaging import AmqpBroker, Broker, Delivery


class _FlakyHandler:
    """Raises on the first delivery of every message, acks the second; stops after ``n``."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen: list[tuple[str, int]] = []
        self.handled: list[str] = []
        self.done = threading.Event()

    def __call__(self, delivery: Delivery) -> None:
        self.seen.append((delivery.body["record_id"], delivery.delivery_count))
        if delivery.body["record_id"] not in {r for r, _ in self.seen[:-1]}:
            raise RuntimeError("database went away")  # first delivery of this message
        delivery.ack()
        self.handled.append(delivery.body["record_id"])
        if len(self.handled) >= self.n:
            self.done.set()


def _run(broker: Broker, n: int) -> _FlakyHandler:
    publisher = broker.publisher()
    try:
        for i in range(n):
            publisher.publish("records", "", {"record_id": f"r{i}"}, message_id=f"m{i}")
    finally:
        publisher.close()
    handler = _FlakyHandler(n)
    consumer = broker.consumer(drain_s=1.0)
    thread = threading.Thread(
        target=consumer.consume, args=("records", handler), kwargs={"prefetch": 1}, daemon=True
    )
    thread.start()
    try:
        assert handler.done.wait(30), f"only {handler.handled} handled; seen {handler.seen}"
        assert thread.is_alive()  # the consumer outlived every failure
    finally:
        consumer.stop()
        thread.join(10)
    return handler


def test_inproc_consumer_survives_handler_errors() -> None:
    handler = _run(InprocBroker(delivery_limit=5), 3)
    assert sorted(handler.handled) == ["r0", "r1", "r2"]
    assert all(count in (0, 1) for _, count in handler.seen)


@pytest.mark.broker
def test_amqp_consumer_survives_handler_errors(amqp_broker: AmqpBroker) -> None:
    handler = _run(amqp_broker, 3)
    assert sorted(handler.handled) == ["r0", "r1", "r2"]
    assert amqp_broker.queue_depth("records") == 0
    assert amqp_broker.queue_depth("dead") == 0
