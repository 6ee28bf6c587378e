"""Shared fixtures: paths to sample and shared data, and probes for the real services.

Broker and database tests run by default and skip with a clear reason when the service
is unreachable; with ``ECG_REQUIRE_SERVICES=1`` (set by CI) they fail instead.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_records"
SHARED_DATA = Path(os.environ.get("ECG_SHARED_DATA", ROOT.parent / "shared" / "ecg-data"))

AMQP_URL = os.environ.get("ECG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PG_URL = os.environ.get(
    "ECG_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _need(service: str, url: str, port: int) -> None:
    if _reachable(url, port):
        return
    msg = f"{service} not reachable at {urlparse(url).hostname}:{urlparse(url).port or port}"
    if os.environ.get("ECG_REQUIRE_SERVICES"):
        pytest.fail(f"{msg} and ECG_REQUIRE_SERVICES is set (CI): start it, see README")
    pytest.skip(f"{msg}; set ECG_TEST_AMQP_URL / ECG_TEST_DATABASE_URL or start the service")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """URL of a reachable RabbitMQ, or skip (fail in CI)."""
    _need("RabbitMQ", AMQP_URL, 5672)
    return AMQP_URL


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of a reachable PostgreSQL, or skip (fail in CI)."""
    _need("PostgreSQL", PG_URL, 5432)
    return PG_URL


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The repo's sample_records folder."""
    return SAMPLES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared PhysioNet databases (../shared/ecg-data), or skip when absent."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("ECG_REQUIRE_SERVICES"):
            pytest.fail(f"shared data folder {SHARED_DATA} missing in CI")
        pytest.skip(f"shared data folder {SHARED_DATA} not found (set ECG_SHARED_DATA)")
    return SHARED_DATA
