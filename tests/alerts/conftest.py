"""Alert fixtures: SQLite (or PostgreSQL) database, a clinic with a real webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Channels, EmailChannel, LogChannel, WebhookChannel
from alerts.service import AlertPolicy, AlertService
from ingest.migrations import upgrade_head
from models.db import make_engine, make_sessionmaker
from models.db_review import ClinicNotifySettings
from tests.alerts.helpers import FakeClock, WebhookReceiver, add_clinic, pg_schema, sqlite_sessions
from tests.review.webenv import WebEnv, start_web


@dataclass
class AlertEnv:
    sessions: sessionmaker[Session]
    clinic_id: str
    clinic_key: str
    other_id: str
    other_key: str
    hook: WebhookReceiver
    clock: FakeClock
    oncall: LogChannel
    service: AlertService
    policy: AlertPolicy


def build_env(sessions: sessionmaker[Session], hook: WebhookReceiver) -> AlertEnv:
    clinic_id, key = add_clinic(sessions, "Clinic A")
    other_id, other_key = add_clinic(sessions, "Clinic B")
    with sessions() as session, session.begin():
        session.add(
            ClinicNotifySettings(
                clinic_id=clinic_id, channels=["webhook"], webhook_url=hook.url, webhook_secret="s3"
            )
        )
    clock = FakeClock()
    oncall = LogChannel()
    policy = AlertPolicy(ack_timeout_min=10, repeat_min=10, retry_s=30, max_attempts=3)
    channels = Channels(
        webhook=WebhookChannel(timeout_s=5, tries=2, backoff_s=0.0, sleep=lambda _s: None),
        email=EmailChannel(host=None),
        log=oncall,
    )
    service = AlertService(sessions, policy, channels, clock=clock)
    return AlertEnv(
        sessions, clinic_id, key, other_id, other_key, hook, clock, oncall, service, policy
    )


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def env(tmp_path: Path, hook: WebhookReceiver) -> AlertEnv:
    return build_env(sqlite_sessions(tmp_path), hook)


@pytest.fixture
def pg_env(pg_url: str, hook: WebhookReceiver) -> Iterator[AlertEnv]:
    for url in pg_schema(pg_url):
        upgrade_head(url)
        engine = make_engine(url)
        yield build_env(make_sessionmaker(engine), hook)
        engine.dispose()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebEnv]:
    """The upload API with the alert routes and reviewer page on a real socket."""
    with start_web(sqlite_sessions(tmp_path), tmp_path) as env:
        yield env
