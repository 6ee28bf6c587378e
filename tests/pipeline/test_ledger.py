"""Ledger test: 1,000 uploads through RabbitMQ + PostgreSQL with faults injected.

Faults: a worker killed -9 mid-run (and replaced), every broker connection closed twice.
The ledger must show lost = 0 and duplicated effects = 0.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingest.messaging import Names
from ingest.testing import Stack, variant_files
from tests.pipeline.conftest import close_all_amqp_connections
from tests.pipeline.ledger import settled_ledger

pytestmark = [pytest.mark.broker, pytest.mark.db]

N_UPLOADS = 1000


def test_ledger_1000_uploads_with_faults(
    tmp_path: Path, pg_schema_url: str, amqp_url: str, amqp_names: Names, samples_dir: Path
) -> None:
    stack = Stack(
        tmp_path,
        database_url=pg_schema_url,
        amqp_url=amqp_url,
        prefix=amqp_names.prefix,
        extra_env={"ECG_FAKE_SLOW_S": "0.01"},
    )
    try:
        victim = stack.start_worker("tests.pipeline.fakes:slow", concurrency=2)
        stack.start_worker("tests.pipeline.fakes:slow", concurrency=2)
        payloads = [variant_files(samples_dir, "A00001", f"ledger-{i}") for i in range(N_UPLOADS)]
        accepted: list[str] = []
        with ThreadPoolExecutor(4) as pool:
            for start in range(0, N_UPLOADS, 100):
                accepted += pool.map(stack.upload, payloads[start : start + 100])
                if start == 300:  # kill -9 a worker with work in flight, start a new one
                    os.killpg(victim.pid, signal.SIGKILL)
                    stack.start_worker("tests.pipeline.fakes:slow", concurrency=2)
                if start in (500, 800):
                    close_all_amqp_connections()
        stack.wait_terminal(accepted, 180)
        book = settled_ledger(stack.runtime.sessions, accepted, timeout_s=60)
        print(
            f"LEDGER uploads={N_UPLOADS} accepted={book['accepted']} lost={book['lost']} "
            f"duplicated={book['duplicated']} {book['duplicated_by_kind']} "
            f"statuses={dict(book['statuses'])}"
        )
        assert book["accepted"] == N_UPLOADS
        assert book["lost"] == 0, (book["lost_ids"], stack.worker_logs())
        assert book["duplicated"] == 0
        assert book["missing_alerts"] == 0
        assert book["missing_review"] == 0
    finally:
        stack.close()
