"""A full pipeline stack for the pipeline tests and ``bench/pipeline_bench.py``.

In this process: API (uvicorn thread), outbox relay and the alerts/review consumers
(RabbitMQ + PostgreSQL, or embedded). Workers are real ``ecg worker`` subprocesses
(killable). Not used by the service itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from ingest.api.security import create_clinic
from ingest.service import Role, Runtime, Service, build_runtime, free_port
from models.db import TERMINAL_STATUSES, Record
from models.settings import Settings

__all__ = ["ECG", "ROOT", "Stack", "variant_files"]

ROOT = Path(__file__).resolve().parents[1]
ECG = Path(sys.executable).parent / "ecg"


def variant_files(samples_dir: Path, stem: str, tag: str) -> list[tuple[str, bytes]]:
    """A WFDB record whose header carries a unique comment (distinct content, same signal)."""
    hea = (samples_dir / f"{stem}.hea").read_bytes().rstrip(b"\n") + f"\n# variant {tag}\n".encode()
    data_name = next(p.name for p in samples_dir.glob(f"{stem}.*") if p.suffix in (".dat", ".mat"))
    return [(f"{stem}.hea", hea), (data_name, (samples_dir / data_name).read_bytes())]


class Stack:
    """API + relay + consumers here, workers as subprocesses."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        database_url: str | None,
        amqp_url: str | None,
        prefix: str = "",
        max_attempts: int = 3,
        roles: Sequence[Role] = ("api", "relay", "consumers"),
        extra_env: dict[str, str] | None = None,
        **settings_kw: Any,
    ) -> None:
        self.tmp_path = tmp_path
        self.settings = Settings(
            _env_file=None,
            data_dir=tmp_path / "var",
            database_url=database_url,
            amqp_url=amqp_url,
            amqp_prefix=prefix,
            rate_limit_per_min=10_000_000,
            max_attempts=max_attempts,
            shutdown_grace_s=5.0,
            **settings_kw,
        )
        self.runtime: Runtime = build_runtime(self.settings)
        self.service = Service(
            self.runtime,
            roles=tuple(roles),
            api_port=free_port(),
        ).start()
        with self.runtime.sessions() as session, session.begin():
            self.key = create_clinic(session, "stack clinic")[1]
        self.client = httpx.Client(
            base_url=self.service.api_url, headers={"X-API-Key": self.key}, timeout=120
        )
        self.workers: list[subprocess.Popen[bytes]] = []
        self.extra_env = extra_env or {}

    def env(self) -> dict[str, str]:
        """Environment for a subprocess (``ecg worker``/``ecg api``) of this stack."""
        s = self.settings
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ECG_DATA_DIR": str(s.data_dir),
            "ECG_MAX_ATTEMPTS": str(s.max_attempts),
            "ECG_AMQP_PREFIX": s.amqp_prefix,
            "ECG_SHUTDOWN_GRACE_S": str(s.shutdown_grace_s),
            **self.extra_env,
        }
        if s.database_url:
            env["ECG_DATABASE_URL"] = s.database_url
        if s.amqp_url:
            env["ECG_AMQP_URL"] = s.amqp_url.get_secret_value()
        return env

    def start_worker(
        self, analyser: str | None = None, concurrency: int = 2
    ) -> subprocess.Popen[bytes]:
        """Start an ``ecg worker`` subprocess (own session, log in ``tmp_path``)."""
        args = [str(ECG), "worker", "-c", str(concurrency)]
        if analyser:
            args += ["--analyser", analyser]
        with (self.tmp_path / f"worker-{len(self.workers)}.log").open("wb") as log:
            proc = subprocess.Popen(
                args,
                env=self.env(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(proc)
        return proc

    def upload(self, files: list[tuple[str, bytes]], **data: str) -> str:
        """POST one record; returns its id (AssertionError unless 200/202)."""
        resp = self.client.post("/v1/records", files=[("file", f) for f in files], data=data)
        if resp.status_code not in (200, 202):
            raise AssertionError(f"upload rejected: {resp.status_code} {resp.text}")
        return str(resp.json()["record_id"])

    def statuses(self, ids: Sequence[str]) -> dict[str, str]:
        """Current status of each record."""
        with self.runtime.sessions() as session:
            rows = session.execute(select(Record.id, Record.status).where(Record.id.in_(ids)))
            return {rid: status for rid, status in rows}

    def wait_terminal(self, ids: Sequence[str], timeout_s: float) -> dict[str, str]:
        """Wait until every record is in a final state (or the timeout); statuses."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self.runtime.sessions() as session:
                n_done = session.scalar(
                    select(func.count(Record.id)).where(
                        Record.id.in_(ids), Record.status.in_(TERMINAL_STATUSES)
                    )
                )
            if n_done == len(ids) or time.monotonic() > deadline:
                return self.statuses(ids)
            time.sleep(0.2)

    def kill_workers(self) -> None:
        """SIGKILL every worker subprocess (its whole process group)."""
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def close(self) -> None:
        """Kill workers, stop the in-process roles."""
        self.kill_workers()
        self.client.close()
        self.service.stop(timeout_s=10)

    def worker_logs(self) -> str:
        """The tail of every worker log (for failure messages)."""
        return "\n".join(
            p.read_text(errors="replace")[-3000:]
            for p in sorted(self.tmp_path.glob("worker-*.log"))
        )
