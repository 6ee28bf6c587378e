"""In-process broker for the embedded mode: same :class:`ingest.messaging.Broker` interface.

Queues live in memory (one process); ack/nack, prefetch, delivery counts, the delivery
limit with dead-lettering and the topic bindings behave like the RabbitMQ topology.
Durability comes from the outbox: on start-up the embedded service re-publishes every
committed message whose effect is not stored yet (:func:`ingest.outbox.recover_unfinished`).
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.messaging import (
    BROKER_DELIVERY_LIMIT,
    RESULT_ROUTES,
    Handler,
    Names,
    OutgoingMessage,
    PublishReport,
    QueueKey,
    Route,
    deliver,
)
from models.errors import PipelineError

__all__ = ["InprocBroker"]


@dataclass
class _Message:
    message_id: str
    routing_key: str
    body: dict[str, Any]
    headers: dict[str, Any] = field(default_factory=dict)
    delivery_count: int = 0


class _Queue:
    def __init__(self, name: str, dead: _Queue | None, delivery_limit: int | None) -> None:
        self.name = name
        self.ready: deque[_Message] = deque()
        self.cond = threading.Condition()
        self.dead = dead
        self.delivery_limit = delivery_limit

    def put(self, msg: _Message, *, front: bool = False) -> None:
        with self.cond:
            if front:
                self.ready.appendleft(msg)
            else:
                self.ready.append(msg)
            self.cond.notify_all()

    def requeue(self, msg: _Message) -> None:
        msg.delivery_count += 1
        if self.delivery_limit is not None and msg.delivery_count >= self.delivery_limit:
            self.dead_letter(msg, "delivery_limit")
        else:
            self.put(msg, front=True)

    def dead_letter(self, msg: _Message, reason: str) -> None:
        if self.dead is None:
            return  # no DLX: RabbitMQ drops it too
        msg.headers = {**msg.headers, "x-death": [{"queue": self.name, "reason": reason}]}
        self.dead.put(msg)


class _InprocDelivery:
    def __init__(self, queue: _Queue, msg: _Message, consumer: _InprocConsumer) -> None:
        self._queue = queue
        self._msg = msg
        self._consumer = consumer
        self.message_id = msg.message_id
        self.routing_key = msg.routing_key
        self.body = copy.deepcopy(msg.body)
        self.headers = dict(msg.headers)
        self.delivery_count = msg.delivery_count
        self._settled = False
        self._lock = threading.Lock()

    def _settle(self) -> bool:
        with self._lock:
            if self._settled:
                return False
            self._settled = True
        self._consumer._release()
        return True

    def ack(self) -> None:
        self._settle()

    def nack(self, *, requeue: bool) -> None:
        if not self._settle():
            return
        if requeue:
            self._queue.requeue(self._msg)
        else:
            self._queue.dead_letter(self._msg, "rejected")


class _InprocConsumer:
    def __init__(self, broker: InprocBroker) -> None:
        self._broker = broker
        self._stop = threading.Event()
        self._inflight = 0
        self._cond = threading.Condition()

    def _release(self) -> None:
        with self._cond:
            self._inflight -= 1
            self._cond.notify_all()

    def stop(self) -> None:
        self._stop.set()

    def consume(self, queue: QueueKey, handler: Handler, *, prefetch: int) -> None:
        q = self._broker._queue(queue)
        while not self._stop.is_set():
            with self._cond:
                while self._inflight >= prefetch and not self._stop.is_set():
                    self._cond.wait(0.2)
            if self._stop.is_set():
                break
            with q.cond:
                if not q.ready:
                    q.cond.wait(0.2)
                    continue
                msg = q.ready.popleft()
            with self._cond:
                self._inflight += 1
            deliver(handler, _InprocDelivery(q, msg, self), queue, self._stop.wait)


class _InprocPublisher:
    def __init__(self, broker: InprocBroker) -> None:
        self._broker = broker

    def publish(
        self,
        route: Route,
        routing_key: str,
        body: dict[str, Any],
        *,
        message_id: str,
        headers: dict[str, Any] | None = None,
    ) -> None:
        self._broker._route(route, routing_key, body, message_id, headers or {})

    def publish_many(self, messages: Sequence[OutgoingMessage]) -> PublishReport:
        report = PublishReport()
        for i, m in enumerate(messages):
            try:
                self.publish(
                    m.route, m.routing_key, m.body, message_id=m.message_id, headers=m.headers
                )
            except PipelineError as exc:
                report.errors.append(str(exc))
            else:
                report.confirmed.append(i)
        return report

    def idle(self, seconds: float) -> None:
        self._broker._wakeup.wait(seconds)
        self._broker._wakeup.clear()

    def close(self) -> None:
        return None


class InprocBroker:
    """Memory-only broker with the RabbitMQ topology's semantics (one process)."""

    def __init__(self, names: Names | None = None, *, delivery_limit: int | None = None) -> None:
        self.names = names or Names()
        dead = _Queue(self.names.dead, None, None)
        limit = delivery_limit or BROKER_DELIVERY_LIMIT
        self._queues: dict[str, _Queue] = {
            "records": _Queue(self.names.records, dead, limit),
            "dead": dead,
            "alerts": _Queue(self.names.alerts, None, None),
            "review": _Queue(self.names.review, None, None),
        }
        self._wakeup = threading.Event()
        self._ids = itertools.count()

    def _queue(self, key: QueueKey) -> _Queue:
        return self._queues[key]

    def notify(self) -> None:
        """Wake an idle publisher (the relay) now: an outbox row was committed."""
        self._wakeup.set()

    def declare_topology(self) -> None:
        """Nothing to declare: the topology exists from construction."""

    def publisher(self) -> _InprocPublisher:
        """A publisher (thread-safe here, but one per thread like RabbitMQ)."""
        return _InprocPublisher(self)

    def consumer(self, *, drain_s: float = 30.0) -> _InprocConsumer:
        """A consumer for one thread."""
        del drain_s  # settling happens in memory; nothing to drain
        return _InprocConsumer(self)

    def depth(self, key: QueueKey) -> int:
        """Ready messages in a queue."""
        return len(self._queues[key].ready)

    def get(self, key: QueueKey) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Take one message (body, headers) off a queue, or None."""
        q = self._queues[key]
        with q.cond:
            if not q.ready:
                return None
            msg = q.ready.popleft()
        return msg.body, msg.headers

    def _route(
        self,
        route: Route,
        routing_key: str,
        body: dict[str, Any],
        message_id: str,
        headers: dict[str, Any],
    ) -> None:
        if route == "records":
            targets: tuple[str, ...] = ("records",)
        elif route == "dead":
            targets = ("dead",)
        else:
            if routing_key not in RESULT_ROUTES:
                raise PipelineError(f"message {message_id}: unroutable key {routing_key!r}")
            targets = RESULT_ROUTES[routing_key]
        for key in targets:
            self._queues[key].put(
                _Message(message_id, routing_key, copy.deepcopy(body), dict(headers))
            )
