"""Pipeline benchmark: throughput, upload -> stored result latency, Holter upload memory.

Uses the real RabbitMQ + PostgreSQL when reachable (private schema and queue prefix,
removed afterwards), else the embedded mode. Two local ``ecg worker`` processes run the
real analysis. Prints measured figures; asserts nothing.

    .venv/bin/python bench/pipeline_bench.py [--n 200] [--rate 20] [--seconds 15] [--holter]
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.messaging import AmqpBroker, Names  # noqa: E402
from ingest.testing import ECG, Stack, variant_files  # noqa: E402
from models.db import Alert, OutboxMessage, Record, Result  # noqa: E402

AMQP = os.environ.get("ECG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PG = os.environ.get("ECG_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SAMPLES = ROOT / "sample_records"


def _up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 1):
            return True
    except OSError:
        return False


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _result_times(stack: Stack, ids: list[str]) -> dict[str, tuple[float, str]]:
    with stack.runtime.sessions() as s:
        rows = s.execute(
            select(Result.record_id, Result.created_at, Result.severity).where(
                Result.record_id.in_(ids)
            )
        )
        return {r: (c.timestamp(), sev) for r, c, sev in rows}


_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _cpu_by_group(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by process group: bench process, workers, PG, RabbitMQ, other."""
    workers = {p.pid for p in stack.workers}
    me = os.getpid()
    out: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid, pgid = int(fields[1]), int(fields[2])
        cpu = (int(fields[11]) + int(fields[12])) * _TICK_S  # utime + stime
        pid = int(entry.name)
        if pid == me or (ppid == me and pid not in workers and pgid not in workers):
            group = "bench process (API + relay + consumers + HTTP client)"
        elif pid in workers:
            group = "ecg worker main processes (consume, DB, ack)"
        elif pgid in workers:
            group = "ecg worker analysis pools (read + analyse)"
        elif comm.startswith("postgres"):
            group = "PostgreSQL"
        elif comm.startswith(("beam", "erl", "epmd", "inet_gethost")):
            group = "RabbitMQ"
        else:
            continue  # everything else: machine total minus these groups
        out[group] = out.get(group, 0.0) + cpu
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(first[:8]) if i not in (3, 4)) * _TICK_S
    out["other processes on the machine (other users' jobs)"] = busy - sum(out.values())
    return out


#: Thread name prefix -> role, for the CPU split of the bench process.
_THREAD_ROLES = (
    ("api", "API event loop (HTTP, multipart, FastAPI)"),
    ("AnyIO worker", "API intake threads (stage, hash, validate, blob, DB)"),
    ("outbox-", "outbox relay (+ LISTEN)"),
    ("consumer-", "alerts + review consumers"),
    ("alert-sweep", "alert sweep (escalation, notification)"),
    ("bench-client", "HTTP client (load generator)"),
)


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's live threads, by role (thread name)."""
    import threading

    out: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) * _TICK_S
        role = next((r for prefix, r in _THREAD_ROLES if thread.name.startswith(prefix)), None)
        role = role or "other threads (bench main: polling, bookkeeping)"
        out[role] = out.get(role, 0.0) + cpu
    return out


def thread_report(before: dict[str, float], after: dict[str, float], n: int) -> None:
    """The bench process's CPU per record by thread role (threads that exited are missing)."""
    for role in sorted(after):
        used = after[role] - before.get(role, 0.0)
        print(f"    bench thread {role:52s} {used / n * 1e3:6.1f} ms/record")


def cpu_report(before: dict[str, float], after: dict[str, float], n: int, wall_s: float) -> None:
    """CPU milliseconds per record by process group, and the machine's share of CPU used."""
    total = 0.0
    for group in sorted(after):
        used = after[group] - before.get(group, 0.0)
        total += used
        print(f"  cpu {group:56s} {used / n * 1e3:6.1f} ms/record")
    print(
        f"  cpu total {total / n * 1e3:.1f} ms/record; {total / wall_s:.2f} of "
        f"{os.cpu_count()} CPUs busy during the run"
    )


def stages(stack: Stack, ids: list[str], sent: dict[str, float] | None = None) -> None:
    """Median and p99 of each stage, from the timestamps the pipeline stores."""
    with stack.runtime.sessions() as s:
        accepted = dict(
            s.execute(select(Record.id, Record.created_at).where(Record.id.in_(ids))).all()
        )
        published = {
            b["record_id"]: t
            for b, t in s.execute(
                select(OutboxMessage.body, OutboxMessage.sent_at).where(
                    OutboxMessage.exchange == "records"
                )
            )
            if b.get("record_id") in accepted and t is not None
        }
        stored = dict(
            s.execute(
                select(Result.record_id, Result.created_at).where(Result.record_id.in_(ids))
            ).all()
        )
        alerted = dict(
            s.execute(
                select(Alert.record_id, Alert.created_at).where(Alert.record_id.in_(ids))
            ).all()
        )
    rows: list[tuple[str, list[float]]] = []
    if sent:
        rows.append(
            ("client send -> upload committed", [accepted[r].timestamp() - sent[r] for r in sent])
        )
    rows += [
        (
            "committed -> published (relay)",
            [(published[r] - accepted[r]).total_seconds() for r in published],
        ),
        (
            "published -> result stored (queue + worker)",
            [(stored[r] - published[r]).total_seconds() for r in stored if r in published],
        ),
        (
            "result stored -> alert row (relay + consumer)",
            [(alerted[r] - stored[r]).total_seconds() for r in alerted if r in stored],
        ),
    ]
    for name, values in rows:
        if values:
            p50, p99 = _pct(values, 50) * 1e3, _pct(values, 99) * 1e3
            print(f"  {name:46s} p50 {p50:7.0f} ms  p99 {p99:7.0f} ms")


def throughput(stack: Stack, n: int) -> None:
    payloads = [variant_files(SAMPLES, "ludb1", f"tp-{uuid.uuid4().hex}") for _ in range(n)]
    cpu0, th0 = _cpu_by_group(stack), _thread_cpu()
    t0 = time.time()
    with ThreadPoolExecutor(8, thread_name_prefix="bench-client") as pool:
        ids = list(pool.map(stack.upload, payloads))
        th_client = _thread_cpu()  # the client threads exit with the pool
    t_up = time.time() - t0
    stack.wait_terminal(ids, 600)
    cpu1, th1 = _cpu_by_group(stack), {**th_client, **_thread_cpu()}
    done = _result_times(stack, ids)
    t_end = max(t for t, _ in done.values()) - t0
    print(
        f"throughput: {n} x 10 s 12-lead (ludb1), 2 workers: uploads {n / t_up:.1f}/s, "
        f"end to end {len(done) / t_end:.1f} records/s ({t_end:.1f} s)"
    )
    stages(stack, ids)
    cpu_report(cpu0, cpu1, n, time.time() - t0)
    thread_report(th0, th1, n)


def latency(stack: Stack, rate: float, seconds: float) -> None:
    n = int(rate * seconds)
    payloads = [variant_files(SAMPLES, "ludb7", f"lat-{uuid.uuid4().hex}") for _ in range(n)]
    sent: dict[str, float] = {}
    with ThreadPoolExecutor(8, thread_name_prefix="bench-client") as pool:
        futures = []
        t0 = time.time()
        for i, files in enumerate(payloads):
            time.sleep(max(0.0, t0 + i / rate - time.time()))
            futures.append((time.time(), pool.submit(stack.upload, files)))
        for t_sent, fut in futures:
            sent[fut.result()] = t_sent
    stack.wait_terminal(list(sent), 600)
    stored = _result_times(stack, list(sent))
    lat = [stored[r][0] - sent[r] for r in sent if r in stored]
    crit = [stored[r][0] - sent[r] for r in sent if r in stored and stored[r][1] == "critical"]
    print(
        f"latency at {rate:g} uploads/s for {seconds:g} s ({n} x ludb7): upload -> stored "
        f"result p50 {_pct(lat, 50):.2f} s, p95 {_pct(lat, 95):.2f} s, p99 {_pct(lat, 99):.2f} s"
        f" (max {max(lat):.2f} s)"
    )
    stages(stack, list(sent), sent)
    if crit:
        print(f"  critical results only ({len(crit)}): p99 {_pct(crit, 99):.2f} s")
    else:
        print("  (no result was critical with the current analyser; figures are for all results)")


def holter(stack: Stack, tmp: Path) -> None:
    """24 h, 2 leads, 360 Hz, 16-bit WFDB (~124 MB) uploaded to a separate `ecg api`."""
    import wfdb

    excerpt = wfdb.rdrecord(str(SAMPLES / "mitdb119_0-300s"), physical=False)
    fs = 360
    reps = int(np.ceil(24 * 3600 * fs / excerpt.d_signal.shape[0]))
    path = tmp / "holter24h"
    with (tmp / "holter24h.dat").open("wb") as fh:
        block = excerpt.d_signal.astype("<i2").tobytes()
        for _ in range(reps):
            fh.write(block)
    n = reps * excerpt.d_signal.shape[0]
    lines = [f"holter24h 2 {fs} {n}"] + [
        f"holter24h.dat 16 200/mV 11 1024 0 0 0 {name}" for name in excerpt.sig_name
    ]
    (tmp / "holter24h.hea").write_text("\n".join(lines) + "\n")
    port = stack.service.api_port + 1 if stack.service.api_port else 8011
    proc = subprocess.Popen([str(ECG), "api", "--port", str(port)], env=stack.env(), cwd=ROOT)
    try:
        for _ in range(100):
            if _up("127.0.0.1", port):
                break
            time.sleep(0.1)
        import httpx

        size_mb = (tmp / "holter24h.dat").stat().st_size / 1e6
        t0 = time.time()
        with (tmp / "holter24h.hea").open("rb") as h, (tmp / "holter24h.dat").open("rb") as d:
            resp = httpx.post(
                f"http://127.0.0.1:{port}/v1/records",
                headers={"X-API-Key": stack.key},
                files=[("file", ("holter24h.hea", h)), ("file", ("holter24h.dat", d))],
                data={"recording_type": "holter"},
                timeout=600,
            )
        dt = time.time() - t0
        status = Path(f"/proc/{proc.pid}/status").read_text()
        hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        print(
            f"holter: 24 h x 2 leads @ {fs} Hz ({size_mb:.0f} MB) -> HTTP {resp.status_code} in "
            f"{dt:.1f} s; API process peak RSS {hwm.split(':')[1].strip()}"
        )
        del path
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--holter", action="store_true")
    ap.add_argument("--workers", type=int, default=2, help="ecg worker processes")
    ap.add_argument("--concurrency", type=int, default=1, help="analyses per worker")
    ap.add_argument("--analyser", default=None, help="module:function instead of the real analysis")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for name in ("alerts", "review", "ingest"):  # the log channel prints every alert
        logging.getLogger(name).setLevel(logging.ERROR)
    services = _up("127.0.0.1", 5672) and _up("127.0.0.1", 5432)
    tmp = Path(tempfile.mkdtemp(prefix="ecg-bench-"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    names = Names(f"bench-{uuid.uuid4().hex[:8]}.")
    raw = make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)
    if services:
        with psycopg.connect(raw, autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        db = make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"})
        stack = Stack(
            tmp,
            database_url=db.render_as_string(hide_password=False),
            amqp_url=AMQP,
            prefix=names.prefix,
        )
        print(f"mode: RabbitMQ + PostgreSQL (schema {schema}); CPUs: {os.cpu_count()}")
    else:
        stack = Stack(
            tmp, database_url=None, amqp_url=None, roles=("api", "relay", "consumers", "worker")
        )
        print(f"mode: embedded (SQLite + in-process queue); CPUs: {os.cpu_count()}")
    try:
        if services:
            for _ in range(args.workers):
                stack.start_worker(args.analyser, concurrency=args.concurrency)
            # a worker consumes only once its analysis processes are up (and warm): measure
            # from there, so that start-up imports are not counted as per-record CPU
            broker = AmqpBroker(AMQP, names)
            deadline = time.monotonic() + 300
            while broker.consumer_count("records") < args.workers:
                if time.monotonic() > deadline:
                    raise SystemExit(f"workers did not start:\n{stack.worker_logs()}")
                time.sleep(0.5)
        warm = stack.upload(variant_files(SAMPLES, "ludb1", "warm-up"))
        stack.wait_terminal([warm], 120)
        throughput(stack, args.n)
        latency(stack, args.rate, args.seconds)
        if args.holter and services:
            holter(stack, tmp)
    finally:
        stack.close()
        if services:
            AmqpBroker(AMQP, names).delete_topology()
            with psycopg.connect(raw, autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
