"""Reviewer page fixtures: the app on a real socket over SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.migrations import upgrade_head
from models.db import make_engine, make_sessionmaker
from tests.alerts.helpers import pg_schema, sqlite_sessions
from tests.review.webenv import WebEnv, start_web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebEnv]:
    with start_web(sqlite_sessions(tmp_path), tmp_path) as env:
        yield env


@pytest.fixture
def pg_web(pg_url: str, tmp_path: Path) -> Iterator[WebEnv]:
    for url in pg_schema(pg_url):
        upgrade_head(url)
        engine = make_engine(url)
        with start_web(make_sessionmaker(engine), tmp_path) as env:
            yield env
        engine.dispose()
