"""Messaging: the broker interface, queue names, and its RabbitMQ implementation (pika).

This is the only module that imports pika. :mod:`ingest.inproc_queue` implements the
same :class:`Broker` interface in memory for the embedded mode.

Topology (declared idempotently at start-up by :func:`declare_topology`)::

    (default exchange) --> [ecg.records]  quorum, DLX ecg.dlx, delivery limit
    ecg.dlx (fanout)   --> [ecg.dead]     quorum
    ecg.results (topic) result.critical --> [ecg.alerts], [ecg.review]
                        result.abnormal, result.unanalysable, result.revised --> [ecg.review]
                        result.normal, result.reanalysed --> (no queue: stored only)

Messages are persistent JSON bodies carrying ids only (claim check), published with
confirms and ``mandatory`` (an unroutable message is an error, except result.normal).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

import pika
import pika.exceptions as pexc
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from models.errors import BrokerUnavailableError, PipelineError
from models.settings import Settings

__all__ = [
    "BROKER_DELIVERY_LIMIT",
    "RESULT_ROUTES",
    "AmqpBroker",
    "Backoff",
    "Broker",
    "Consumer",
    "Delivery",
    "Handler",
    "Names",
    "OutgoingMessage",
    "PublishReport",
    "Publisher",
    "QueueKey",
    "Route",
    "declare_topology",
    "deliver",
    "make_broker",
]

log = logging.getLogger(__name__)

Route = Literal["records", "results", "dead"]
QueueKey = Literal["records", "dead", "alerts", "review"]
#: Routing keys of the results exchange and the queues each one reaches.
RESULT_ROUTES: dict[str, tuple[QueueKey, ...]] = {
    "result.critical": ("alerts", "review"),
    "result.abnormal": ("review",),
    "result.unanalysable": ("review",),
    "result.revised": ("review",),  # re-analysis: a critical value gone, or held result differs
    "result.normal": (),
    "result.reanalysed": (),  # re-analysis with nothing clinically new (stored only)
}
#: Broker-side backstop: a message returned this many times (e.g. it kills its worker
#: every time) is dead-lettered by RabbitMQ itself. The worker's own limit
#: (``Settings.max_attempts``) normally acts first and records the reason.
BROKER_DELIVERY_LIMIT = 10


@dataclass(frozen=True)
class Names:
    """Physical exchange and queue names, all carrying the same prefix."""

    prefix: str = ""

    @property
    def records(self) -> str:
        """Work queue of uploaded records."""
        return f"{self.prefix}ecg.records"

    @property
    def dlx(self) -> str:
        """Dead-letter exchange of the work queue."""
        return f"{self.prefix}ecg.dlx"

    @property
    def dead(self) -> str:
        """Dead-letter queue."""
        return f"{self.prefix}ecg.dead"

    @property
    def results(self) -> str:
        """Topic exchange of analysis results."""
        return f"{self.prefix}ecg.results"

    @property
    def alerts(self) -> str:
        """Queue of critical results (alerts service)."""
        return f"{self.prefix}ecg.alerts"

    @property
    def review(self) -> str:
        """Queue of results needing a human (review worklist)."""
        return f"{self.prefix}ecg.review"

    def queue(self, key: QueueKey) -> str:
        """Physical name of a logical queue."""
        return str(getattr(self, key))

    def exchange(self, route: Route) -> tuple[str, str | None]:
        """Exchange of a logical route, and the routing key it forces (if any)."""
        if route == "records":
            return "", self.records
        if route == "dead":
            return self.dlx, None
        return self.results, None

    def all_queues(self) -> tuple[str, ...]:
        """Every queue of the topology."""
        return (self.records, self.dead, self.alerts, self.review)

    def all_exchanges(self) -> tuple[str, ...]:
        """Every (non-default) exchange of the topology."""
        return (self.dlx, self.results)


class Delivery(Protocol):
    """One delivered message; settle it exactly once with :meth:`ack` or :meth:`nack`."""

    message_id: str
    routing_key: str
    body: dict[str, Any]
    headers: dict[str, Any]
    delivery_count: int  # earlier deliveries of this message (0 the first time)

    def ack(self) -> None:
        """Acknowledge (thread-safe): the effect is stored, forget the message."""

    def nack(self, *, requeue: bool) -> None:
        """Reject (thread-safe): requeue it, or dead-letter it when ``requeue`` is False."""


Handler = Callable[[Delivery], None]

#: Pause after a handler raised, before its message is offered again, s.
HANDLER_FAILURE_PAUSE_S = 0.5


def deliver(
    handler: Handler, delivery: Delivery, queue: str, pause: Callable[[float], Any]
) -> None:
    """Call ``handler``; if it raises, log why and requeue the message.

    A consumer thread must outlive one failed message (a database hiccup, a bug on one
    odd body): an uncaught exception would end the thread and silently stop the queue
    (the reviewer worklist or the alerts) while the service looks healthy. The message
    goes back to the queue; a quorum queue dead-letters it after its delivery limit, so a
    poison message is parked in the dead-letter queue, not lost and not looping forever.
    """
    try:
        handler(delivery)
    except Exception:
        log.exception(
            "handler of %s failed on message %s (delivery %d); requeued",
            queue,
            delivery.message_id,
            delivery.delivery_count,
        )
        pause(HANDLER_FAILURE_PAUSE_S)
        delivery.nack(requeue=True)  # no-op when the handler had settled it already


@dataclass(frozen=True)
class OutgoingMessage:
    """One message for :meth:`Publisher.publish_many`."""

    route: Route
    routing_key: str
    body: dict[str, Any]
    message_id: str
    headers: dict[str, Any] | None = None


@dataclass
class PublishReport:
    """What :meth:`Publisher.publish_many` achieved.

    ``confirmed`` holds the indices of the messages the broker confirmed (only those may
    be marked sent); ``errors`` says why the others were not (unroutable, nacked after
    the retries, broker lost).
    """

    confirmed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Publisher(Protocol):
    """Publishes with confirms; returns only once the broker has the message."""

    def publish(
        self,
        route: Route,
        routing_key: str,
        body: dict[str, Any],
        *,
        message_id: str,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Publish one persistent message and wait for the broker's confirm."""

    def publish_many(self, messages: Sequence[OutgoingMessage]) -> PublishReport:
        """Publish persistent messages in order and wait for every confirm (pipelined)."""

    def idle(self, seconds: float) -> None:
        """Wait, keeping the connection alive (heartbeats)."""

    def close(self) -> None:
        """Close the connection."""


class Consumer(Protocol):
    """Consumes one queue until :meth:`stop`; the handler settles each delivery."""

    def consume(self, queue: QueueKey, handler: Handler, *, prefetch: int) -> None:
        """Block, delivering messages to ``handler`` (which must not block for long)."""

    def stop(self) -> None:
        """Stop consuming (thread- and signal-safe); in-flight deliveries may still settle."""


class Broker(Protocol):
    """Factory of publishers and consumers on one topology."""

    names: Names

    def declare_topology(self) -> None:
        """Declare exchanges, queues and bindings (idempotent)."""

    def publisher(self) -> Publisher:
        """A new publisher (not shared between threads)."""

    def consumer(self, *, drain_s: float = 30.0) -> Consumer:
        """A new consumer (one per thread)."""


class Backoff:
    """Exponential reconnect delay: 0.2 s doubling up to ``max_s``."""

    def __init__(self, first_s: float = 0.2, max_s: float = 5.0) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self._next = first_s

    def next(self) -> float:
        """The delay to wait now; the following one doubles."""
        delay = self._next
        self._next = min(self._next * 2, self.max_s)
        return delay

    def reset(self) -> None:
        """Back to the first delay (after a successful connect)."""
        self._next = self.first_s


# ---------------------------------------------------------------- RabbitMQ (pika)

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    pexc.AMQPConnectionError,
    pexc.ConnectionClosed,
    pexc.StreamLostError,
    pexc.ChannelClosed,
    pexc.ChannelWrongStateError,
    pexc.ConnectionWrongStateError,
    ConnectionError,
    OSError,
)


def declare_topology(ch: BlockingChannel, names: Names) -> None:
    """Declare the whole topology on a channel (safe to repeat)."""
    quorum = {"x-queue-type": "quorum"}
    ch.exchange_declare(names.dlx, exchange_type="fanout", durable=True)
    ch.queue_declare(names.dead, durable=True, arguments=quorum)
    ch.queue_bind(names.dead, names.dlx)
    ch.queue_declare(
        names.records,
        durable=True,
        arguments={
            **quorum,
            "x-dead-letter-exchange": names.dlx,
            "x-delivery-limit": BROKER_DELIVERY_LIMIT,
        },
    )
    ch.exchange_declare(names.results, exchange_type="topic", durable=True)
    for key, queues in RESULT_ROUTES.items():
        for q in queues:
            ch.queue_declare(names.queue(q), durable=True, arguments=quorum)
            ch.queue_bind(names.queue(q), names.results, routing_key=key)


def _params(url: str, heartbeat_s: int) -> pika.URLParameters:
    params = pika.URLParameters(url)
    params.heartbeat = heartbeat_s
    params.blocked_connection_timeout = 60
    params.connection_attempts = 1
    params.socket_timeout = 5
    return params


#: Longest wait for the confirms of one batch before the connection is recycled, s.
CONFIRM_TIMEOUT_S = 30.0


class _ConfirmError(Exception):
    """The broker did not confirm a batch in time."""


class _Confirms:
    """Confirm bookkeeping of one channel; pika calls these in the publishing thread."""

    def __init__(self, conn: BlockingConnection) -> None:
        self._conn = conn
        self.next_tag = 1  # delivery tags count the channel's publishes from 1
        self.pending: dict[int, int] = {}  # delivery tag -> message index
        self.acked: dict[int, bool] = {}  # message index -> ack (True) / nack (False)
        self.returned: dict[str, int] = {}  # message id -> index, filled by publish_many
        self.unroutable: set[int] = set()

    def on_confirm(self, frame: Any) -> None:
        method = frame.method
        ack = isinstance(method, pika.spec.Basic.Ack)
        tag = int(method.delivery_tag)
        tags = [t for t in self.pending if t <= tag] if method.multiple else [tag]
        for t in tags:
            index = self.pending.pop(t, None)
            if index is not None:
                self.acked[index] = ack
        if not self.pending:  # wake process_data_events() in publish_many
            self._conn.add_callback_threadsafe(_noop)

    def on_return(self, _ch: Any, _method: Any, props: pika.BasicProperties, _body: bytes) -> None:
        index = self.returned.get(str(props.message_id))
        if index is not None:  # mandatory and no queue bound; its ack follows
            self.unroutable.add(index)


_PUBLISH_ERRORS: tuple[type[BaseException], ...] = (*_CONNECTION_ERRORS, _ConfirmError)


def _noop() -> None:
    return None


class AmqpPublisher:
    """Confirmed, persistent, mandatory publishing; reconnects with backoff.

    :meth:`publish_many` sends a whole batch on the channel and then waits for the
    confirms (RabbitMQ acks several messages with one ``multiple`` frame), instead of
    one network round trip and one blocking wait per message. The guarantee is the
    same: a message counts as published only once the broker has confirmed it. This
    uses pika's underlying asynchronous channel (``BlockingChannel._impl``), because
    ``BlockingChannel`` only offers one blocking confirm per publish.
    """

    def __init__(self, url: str, names: Names, *, attempts: int = 8) -> None:
        self._url = url
        self._names = names
        self._attempts = attempts
        self._conn: BlockingConnection | None = None
        self._ch: BlockingChannel | None = None
        self._confirms: _Confirms | None = None
        self._backoff = Backoff()

    def _channel(self) -> tuple[BlockingConnection, Any, _Confirms]:
        if self._conn is None or self._conn.is_closed or self._ch is None or self._ch.is_closed:
            self._reset()
            conn = BlockingConnection(_params(self._url, 30))
            ch = conn.channel()
            confirms = _Confirms(conn)
            selected: list[bool] = []

            def on_select_ok(_frame: Any) -> None:
                selected.append(True)
                conn.add_callback_threadsafe(_noop)

            ch._impl.confirm_delivery(ack_nack_callback=confirms.on_confirm, callback=on_select_ok)
            ch._impl.add_on_return_callback(confirms.on_return)
            deadline = time.monotonic() + CONFIRM_TIMEOUT_S
            while not selected:
                if time.monotonic() > deadline:
                    raise pexc.AMQPConnectionError("confirm.select not answered")
                conn.process_data_events(time_limit=1.0)
            self._conn, self._ch, self._confirms = conn, ch, confirms
            self._backoff.reset()
        assert self._ch is not None
        assert self._confirms is not None
        return self._conn, self._ch._impl, self._confirms

    def _reset(self) -> None:
        conn, self._conn, self._ch, self._confirms = self._conn, None, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:
                log.debug("closing a broken publisher connection failed", exc_info=True)

    def _frame(self, msg: OutgoingMessage) -> tuple[str, str, bytes, pika.BasicProperties, bool]:
        exchange, forced_key = self._names.exchange(msg.route)
        key = forced_key or msg.routing_key
        mandatory = not (msg.route == "results" and not RESULT_ROUTES.get(key, ("?",)))
        props = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=msg.message_id,
            headers=msg.headers or {},
        )
        payload = json.dumps(msg.body, separators=(",", ":")).encode()
        return exchange, key, payload, props, mandatory

    def publish_many(self, messages: Sequence[OutgoingMessage]) -> PublishReport:
        """Publish in order, then wait for the broker's confirms of the whole batch.

        Nacked messages and those cut off by a lost connection are sent again (up to
        ``attempts`` rounds, reconnecting with backoff); unroutable ones (mandatory, no
        queue bound) are not. Never raises for one message's failure: the report says
        which messages were confirmed and why the others were not.
        """
        report = PublishReport()
        frames = [self._frame(m) for m in messages]
        todo = list(range(len(messages)))
        last = ""
        for _ in range(self._attempts):
            if not todo:
                break
            confirms: _Confirms | None = None
            try:
                conn, channel, confirms = self._channel()
                confirms.acked.clear()
                confirms.unroutable.clear()
                confirms.returned = {messages[i].message_id: i for i in todo}
                for i in todo:
                    exchange, key, payload, props, mandatory = frames[i]
                    confirms.pending[confirms.next_tag] = i
                    confirms.next_tag += 1
                    channel.basic_publish(
                        exchange, key, payload, properties=props, mandatory=mandatory
                    )
                deadline = time.monotonic() + CONFIRM_TIMEOUT_S
                while confirms.pending:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise _ConfirmError(f"no confirm within {CONFIRM_TIMEOUT_S:g} s")
                    conn.process_data_events(time_limit=min(remaining, 1.0))
            except _PUBLISH_ERRORS as exc:
                last = f"{type(exc).__name__}: {exc}"
                log.warning("publishing %d messages failed (%s); reconnecting", len(todo), exc)
                self._reset()  # confirms of this channel are void; unconfirmed go again
                time.sleep(self._backoff.next())
            if confirms is None:
                continue
            retry: list[int] = []
            for i in todo:
                ok = confirms.acked.get(i)
                if i in confirms.unroutable:
                    exchange, key = frames[i][0], frames[i][1]
                    report.errors.append(
                        f"message {messages[i].message_id} to {exchange or '(default)'}/{key} "
                        "is unroutable: no queue bound (topology not declared?)"
                    )
                elif ok:
                    report.confirmed.append(i)
                else:
                    if ok is False:
                        last = "nacked by the broker"
                        log.warning("broker nacked message %s; retrying", messages[i].message_id)
                    retry.append(i)
            confirms.pending.clear()
            todo = retry
        if todo:
            report.errors.append(
                f"{len(todo)} message(s) not confirmed after {self._attempts} attempts: {last}"
            )
        report.confirmed.sort()
        return report

    def publish(
        self,
        route: Route,
        routing_key: str,
        body: dict[str, Any],
        *,
        message_id: str,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Publish and wait for the confirm; retry on connection loss.

        Raises
        ------
        PipelineError
            The message is unroutable (no queue bound) or the broker nacked it.
        BrokerUnavailableError
            The broker could not be reached after the retries.
        """
        report = self.publish_many([OutgoingMessage(route, routing_key, body, message_id, headers)])
        if report.confirmed:
            return
        reason = report.errors[0] if report.errors else "not confirmed"
        if "unroutable" in reason:
            raise PipelineError(reason)
        raise BrokerUnavailableError(f"could not publish message {message_id}: {reason}")

    def idle(self, seconds: float) -> None:
        """Sleep while servicing heartbeats on an open connection."""
        conn = self._conn
        if conn is None or not conn.is_open:
            time.sleep(seconds)
            return
        try:
            conn.process_data_events(time_limit=seconds)
        except _CONNECTION_ERRORS:
            self._reset()

    def close(self) -> None:
        """Close the connection."""
        self._reset()


class _AmqpDelivery:
    def __init__(
        self,
        consumer: AmqpConsumer,
        conn: BlockingConnection,
        ch: BlockingChannel,
        method: Any,
        props: pika.BasicProperties,
        body: bytes,
    ) -> None:
        self._consumer = consumer
        self._conn = conn
        self._ch = ch
        self._tag: int = method.delivery_tag
        self.routing_key: str = method.routing_key
        self.headers: dict[str, Any] = dict(props.headers or {})
        self.message_id: str = props.message_id or f"tag-{self._tag}"
        count = self.headers.get("x-delivery-count", 0)
        self.delivery_count: int = int(count) if isinstance(count, int) else 0
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = {"_undecodable": body[:200].decode("latin-1")}
        self.body: dict[str, Any] = decoded if isinstance(decoded, dict) else {"value": decoded}
        self._generation = consumer._generation
        self._settled = False
        self._lock = threading.Lock()

    def _settle(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if self._settled:
                return
            self._settled = True
        self._consumer._settled(self._generation)

        def run() -> None:
            try:
                fn()
            except _CONNECTION_ERRORS:
                log.warning("channel gone before settling %s; broker redelivers", self.message_id)

        try:
            self._conn.add_callback_threadsafe(run)
        except _CONNECTION_ERRORS:
            log.warning("connection gone before settling %s; broker redelivers", self.message_id)

    def ack(self) -> None:
        self._settle(partial(self._ch.basic_ack, self._tag))

    def nack(self, *, requeue: bool) -> None:
        self._settle(partial(self._ch.basic_nack, self._tag, requeue=requeue))


class AmqpConsumer:
    """Consume one queue with a BlockingConnection; reconnects with backoff.

    The connection thread only dispatches and settles; handlers hand long work to
    other threads, which settle through ``add_callback_threadsafe`` so heartbeats keep
    flowing during long analyses.
    """

    def __init__(self, url: str, names: Names, *, drain_s: float = 30.0) -> None:
        self._url = url
        self._names = names
        self._drain_s = drain_s
        self._stop = threading.Event()
        self._inflight = 0
        self._generation = 0  # one per connection; stale deliveries don't count
        self._lock = threading.Lock()
        self.connected = threading.Event()

    def _settled(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._inflight -= 1

    def stop(self) -> None:
        """Ask the consume loop to stop (safe from signal handlers and threads)."""
        self._stop.set()

    def consume(self, queue: QueueKey, handler: Handler, *, prefetch: int) -> None:
        """Consume until :meth:`stop`; then drain in-flight work for up to ``drain_s``."""
        backoff = Backoff()
        while not self._stop.is_set():
            try:
                self._consume_once(queue, handler, prefetch, backoff)
            except _CONNECTION_ERRORS as exc:
                self.connected.clear()
                with self._lock:
                    self._inflight = 0  # unsettled deliveries die with the connection
                    self._generation += 1
                delay = backoff.next()
                log.warning("consumer of %s: broker lost (%s); retry in %.1fs", queue, exc, delay)
                self._stop.wait(delay)

    def _consume_once(
        self, queue: QueueKey, handler: Handler, prefetch: int, backoff: Backoff
    ) -> None:
        conn = BlockingConnection(_params(self._url, 30))
        try:
            ch = conn.channel()
            ch.basic_qos(prefetch_count=prefetch)
            declare_topology(ch, self._names)

            def on_message(
                ch_: BlockingChannel, method: Any, props: pika.BasicProperties, body: bytes
            ) -> None:
                with self._lock:
                    self._inflight += 1
                deliver(
                    handler,
                    _AmqpDelivery(self, conn, ch_, method, props, body),
                    queue,
                    self._stop.wait,
                )

            tag = ch.basic_consume(self._names.queue(queue), on_message)
            backoff.reset()
            self.connected.set()
            while not self._stop.is_set():
                conn.process_data_events(time_limit=0.2)
            ch.basic_cancel(tag)
            deadline = time.monotonic() + self._drain_s
            while self._inflight > 0 and time.monotonic() < deadline:
                conn.process_data_events(time_limit=0.1)
            conn.process_data_events(time_limit=0)  # flush the last acks
        finally:
            self.connected.clear()
            if conn.is_open:
                try:
                    conn.close()  # unacked deliveries go back to the queue
                except _CONNECTION_ERRORS:
                    pass


class AmqpBroker:
    """RabbitMQ implementation of :class:`Broker`."""

    def __init__(self, url: str, names: Names) -> None:
        self._url = url
        self.names = names

    def declare_topology(self) -> None:
        """Declare the topology, retrying with backoff while the broker is away."""
        backoff = Backoff()
        for _ in range(10):
            try:
                conn = BlockingConnection(_params(self._url, 30))
                try:
                    declare_topology(conn.channel(), self.names)
                finally:
                    conn.close()
                return
            except _CONNECTION_ERRORS as exc:
                log.warning("broker not ready (%s)", exc)
                time.sleep(backoff.next())
        raise BrokerUnavailableError(f"RabbitMQ unreachable; cannot declare {self.names.records}")

    def publisher(self) -> AmqpPublisher:
        """A new confirmed publisher."""
        return AmqpPublisher(self._url, self.names)

    def consumer(self, *, drain_s: float = 30.0) -> AmqpConsumer:
        """A new consumer."""
        return AmqpConsumer(self._url, self.names, drain_s=drain_s)

    def delete_topology(self) -> None:
        """Delete every queue and exchange of this prefix (tests and teardown)."""
        conn = BlockingConnection(_params(self._url, 30))
        try:
            ch = conn.channel()
            for q in self.names.all_queues():
                ch.queue_delete(q)
            for x in self.names.all_exchanges():
                ch.exchange_delete(x)
        finally:
            conn.close()

    def queue_depth(self, queue: QueueKey) -> int:
        """Ready messages in a queue (passive declare)."""
        conn = BlockingConnection(_params(self._url, 30))
        try:
            ok = conn.channel().queue_declare(self.names.queue(queue), passive=True)
            return int(ok.method.message_count)
        finally:
            conn.close()

    def consumer_count(self, queue: QueueKey) -> int:
        """Consumers attached to a queue (passive declare)."""
        conn = BlockingConnection(_params(self._url, 30))
        try:
            ok = conn.channel().queue_declare(self.names.queue(queue), passive=True)
            return int(ok.method.consumer_count)
        finally:
            conn.close()

    def get(self, queue: QueueKey) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Take one message (body, headers) off a queue with auto-ack, or None."""
        conn = BlockingConnection(_params(self._url, 30))
        try:
            method, props, body = conn.channel().basic_get(self.names.queue(queue), auto_ack=True)
            if method is None:
                return None
            return json.loads(body), dict(props.headers or {})
        finally:
            conn.close()


def make_broker(settings: Settings) -> Broker:
    """RabbitMQ when ``ECG_AMQP_URL`` is set, else the in-process broker."""
    names = Names(settings.amqp_prefix)
    if settings.amqp_url is not None:
        return AmqpBroker(settings.amqp_url.get_secret_value(), names)
    from ingest.inproc_queue import InprocBroker

    return InprocBroker(names)
