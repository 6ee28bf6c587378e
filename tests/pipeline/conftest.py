"""Pipeline fixtures: embedded settings, a private PostgreSQL schema, a private AMQP prefix."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ingest.messaging import AmqpBroker, Names
from models.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """Embedded (SQLite, in-process queue) settings in a temp dir."""
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "var",
        amqp_url=None,
        database_url=None,
        blob_url=None,
        rate_limit_per_min=100_000,
        worker_concurrency=2,
        max_attempts=3,
        shutdown_grace_s=5.0,
    )


@pytest.fixture(scope="session")
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema for this test session (dropped afterwards)."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    url = make_url(pg_url)
    raw = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield str(
        url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    )
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def amqp_names(amqp_url: str) -> Iterator[Names]:
    """A unique queue/exchange prefix; the topology is deleted afterwards."""
    names = Names(f"test-{uuid.uuid4().hex[:10]}.")
    yield names
    AmqpBroker(amqp_url, names).delete_topology()


def close_all_amqp_connections() -> None:
    """Force-close every connection on the local broker (as an operator would)."""
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        pytest.skip("rabbitmqctl not installed")
    subprocess.run([exe, "close_all_connections", "test"], check=True, capture_output=True)
