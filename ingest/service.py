"""Service wiring: the API, outbox relay, worker and downstream consumers as roles.

``embedded`` (no ``ECG_AMQP_URL``): every role runs in one process over the in-process
broker and SQLite. With ``ECG_AMQP_URL`` each role can run alone (``ecg serve --role``,
``ecg api|relay|worker``) as its own process against RabbitMQ and PostgreSQL; the code
paths are the same.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.consumer import AlertConsumer
from ingest.blobstore import BlobStore
from ingest.messaging import Broker, Consumer, make_broker
from ingest.migrations import upgrade_head
from ingest.outbox import OutboxRelay, recover_unfinished
from ingest.worker import AnalyseFn, Worker, analyse_job
from models.db import make_engine, make_sessionmaker
from models.settings import Settings
from review.consumer import ReviewConsumer

__all__ = ["ALL_ROLES", "Role", "Runtime", "Service", "build_runtime", "free_port"]

log = logging.getLogger(__name__)

Role = Literal["api", "relay", "worker", "consumers"]
ALL_ROLES: tuple[Role, ...] = ("api", "relay", "worker", "consumers")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Runtime:
    """The shared resources of one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    broker: Broker

    @property
    def embedded(self) -> bool:
        """True when running over the in-process broker."""
        return self.settings.amqp_url is None


def build_runtime(settings: Settings, *, broker: Broker | None = None) -> Runtime:
    """Migrate the database to head and build engine, blob store and broker."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    upgrade_head(url)
    engine = make_engine(url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        blobs=BlobStore.from_settings(settings),
        broker=broker or make_broker(settings),
    )


@dataclass
class Service:
    """Runs the chosen roles in threads of this process.

    Parameters
    ----------
    runtime : Runtime
        Shared resources.
    roles : iterable of Role
        Which parts to run.
    analyse : callable
        Analysis function for the worker (module-level, picklable).
    use_processes : bool
        Worker analyses in a process pool (True) or threads.
    """

    runtime: Runtime
    roles: Iterable[Role] = ALL_ROLES
    analyse: AnalyseFn = analyse_job
    use_processes: bool = True
    api_port: int | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _stoppers: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    worker: Worker | None = None
    relay: OutboxRelay | None = None
    consumers: list[Any] = field(default_factory=list)
    _server: Any = None
    alert_loop: Any = None  # alerts.service.AlertLoop when the consumers role runs here

    @property
    def api_url(self) -> str:
        """Base URL of the API role."""
        return f"http://{self.runtime.settings.api_host}:{self.api_port}"

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def start(self) -> Service:
        """Start every role; returns once the API (if any) accepts connections."""
        rt = self.runtime
        roles = set(self.roles)
        rt.broker.declare_topology()
        if rt.embedded:
            with rt.sessions() as session, session.begin():
                revived = recover_unfinished(session)
            if revived:
                log.warning("re-published %d unfinished messages (embedded restart)", revived)
        if "consumers" in roles:
            # alerts/review (alerts helper): the escalation sweep runs with the consumers
            from alerts.service import AlertLoop, AlertPolicy, AlertService

            self.alert_loop = AlertLoop(
                AlertService.from_settings(rt.sessions, rt.settings), rt.settings.alert_sweep_s
            )
            self._stoppers.append(("alert sweep", self.alert_loop.stop))
            self._spawn("alert-sweep", self.alert_loop.run)
            alert_consumer = AlertConsumer(
                rt.sessions,
                policy=AlertPolicy.from_settings(rt.settings),
                on_stored=self.alert_loop.kick,
            )
            for handler in (alert_consumer, ReviewConsumer(rt.sessions)):
                consumer: Consumer = rt.broker.consumer()
                self.consumers.append(handler)
                self._stoppers.append((f"consumer {handler.queue}", consumer.stop))
                self._spawn(
                    f"consumer-{handler.queue}",
                    partial(consumer.consume, handler.queue, handler.handle, prefetch=32),
                )
        if "relay" in roles:
            url = rt.settings.effective_database_url
            self.relay = OutboxRelay(
                rt.sessions,
                rt.broker,
                poll_s=rt.settings.outbox_poll_s,
                listen_url=url if url.startswith("postgresql") else None,
            )
            self._stoppers.append(("relay", self.relay.stop))
            self._spawn("outbox-relay", self.relay.run)
        if "worker" in roles:
            self.worker = Worker(
                rt.settings,
                rt.sessions,
                rt.broker,
                analyse=self.analyse,
                use_processes=self.use_processes,
            )
            self._stoppers.insert(0, ("worker", self.worker.stop))
            self._spawn("worker", self.worker.run)
        if "api" in roles:
            self._start_api()
        return self

    def _start_api(self) -> None:
        import uvicorn

        from ingest.api import create_app

        rt = self.runtime
        notify = getattr(rt.broker, "notify", None)
        app = create_app(rt.settings, rt.sessions, rt.blobs, on_commit=notify)
        # alerts/review (alerts helper): clinic alert API and the reviewer page
        from alerts.api import mount_alerts
        from alerts.service import AlertPolicy
        from review.web import mount_review

        kick = self.alert_loop.kick if self.alert_loop is not None else None
        mount_alerts(app, rt.sessions, on_change=kick)
        mount_review(
            app,
            rt.sessions,
            rt.blobs,
            policy=AlertPolicy.from_settings(rt.settings),
            session_h=rt.settings.review_session_h,
            on_alert_change=kick,
        )
        if self.api_port is None:
            self.api_port = rt.settings.api_port or free_port(rt.settings.api_host)
        config = uvicorn.Config(
            app,
            host=rt.settings.api_host,
            port=self.api_port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
        )
        self._server = uvicorn.Server(config)
        self._stoppers.insert(0, ("api", lambda: setattr(self._server, "should_exit", True)))
        self._spawn("api", self._server.run)
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._threads[-1].is_alive():
                raise RuntimeError(f"the API did not start on port {self.api_port}")
            time.sleep(0.02)

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop roles (API first, relay and consumers last) and wait for the threads."""
        deadline = time.monotonic() + (
            timeout_s if timeout_s is not None else self.runtime.settings.shutdown_grace_s + 5
        )
        for name, stop in self._stoppers:
            log.info("stopping %s", name)
            stop()
            if name == "worker":  # let in-flight results commit before the relay stops
                for thread in self._threads:
                    if thread.name == "worker":
                        thread.join(max(0.0, deadline - time.monotonic()))
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.runtime.engine.dispose()

    def run_until_signal(self) -> None:
        """Block until SIGTERM/SIGINT, then stop gracefully."""
        stop = threading.Event()

        def handler(signum: int, _frame: Any) -> None:
            log.info("signal %d received: stopping gracefully", signum)
            stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
        while not stop.is_set():
            if any(not t.is_alive() for t in self._threads):
                log.error("a service thread died; stopping")
                break
            stop.wait(0.5)
        self.stop()
