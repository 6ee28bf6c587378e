"""Fixtures of the ingest tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ingest.messaging import AmqpBroker, Names


@pytest.fixture
def amqp_broker(amqp_url: str) -> Iterator[AmqpBroker]:
    """A RabbitMQ topology under a private prefix, deleted afterwards."""
    broker = AmqpBroker(amqp_url, Names(f"test-ingest-{uuid.uuid4().hex[:8]}."))
    broker.declare_topology()
    try:
        yield broker
    finally:
        broker.delete_topology()
