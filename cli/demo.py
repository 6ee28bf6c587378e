"""``ecg demo PATH``: the README's main job, end to end on a bare machine.

Starts the embedded service (API on a free 127.0.0.1 port, SQLite, in-process queue,
worker, outbox relay, alerts and review consumers), creates a demo clinic and key,
uploads every record under PATH over real HTTP, waits for the results and prints them.
Exit status 0 when every accepted upload reached a final state, 1 if any was lost.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import func, select

from cli.app import app
from ingest.api.security import create_clinic
from ingest.service import Service, build_runtime, free_port
from models.db import TERMINAL_STATUSES, Alert, ReviewItem
from models.settings import Settings

__all__ = ["record_files", "upload_groups"]


def record_files(path: Path) -> list[Path]:
    """The files that make up one record: a WFDB header plus the signal files it names."""
    if path.suffix.lower() != ".hea":
        return [path]
    files = [path]
    lines = [
        ln.strip()
        for ln in path.read_text(errors="replace").splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if lines:
        fields = lines[0].split()
        n_sig = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
        for line in lines[1 : 1 + n_sig]:
            candidate = path.parent / line.split()[0]
            if candidate.is_file() and candidate not in files:
                files.append(candidate)
    return files


def upload_groups(path: Path) -> list[list[Path]]:
    """One list of files per record found under ``path``."""
    from ingest.readers import iter_record_paths

    return [record_files(p) for p in iter_record_paths(path)]


def _post(client: httpx.Client, files: list[Path]) -> httpx.Response:
    handles = [f.open("rb") for f in files]
    try:
        return client.post(
            "/v1/records",
            files=[
                ("file", (f.name, h, "application/octet-stream"))
                for f, h in zip(files, handles, strict=True)
            ],
            data={"clinic_ref": files[0].stem},
        )
    finally:
        for h in handles:
            h.close()


def _row(name: str, status: dict[str, Any]) -> list[str]:
    result = status.get("result") or {}
    hr = (result.get("measurements") or {}).get("hr_bpm")
    beats = len((result.get("beats") or {}).get("sample") or [])
    critical = sorted(
        {f["code"] for f in result.get("findings", []) if f.get("severity") == "critical"}
    )
    colour = {"done": "green", "needs_review": "yellow", "failed": "red"}.get(status["status"], "")
    return [
        name,
        f"[{colour}]{status['status']}[/{colour}]" if colour else status["status"],
        status.get("severity") or "-",
        f"{hr:.0f}" if isinstance(hr, int | float) else "-",
        str(beats) if result else "-",
        ", ".join(critical) or "-",
    ]


@app.command()
def demo(
    path: Annotated[Path, typer.Argument(help="A record file or a folder of records")],
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the SQLite DB and blobs here (default: temp dir)")
    ] = None,
    timeout_s: Annotated[float, typer.Option(help="Give up waiting after this long")] = 600.0,
) -> None:
    """Upload every record in PATH to an embedded service and print the results."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console()
    groups = upload_groups(path)
    tmp = tempfile.TemporaryDirectory(prefix="ecg-demo-") if data_dir is None else None
    base = Path(tmp.name) if tmp else Path(data_dir or "var")
    settings = Settings().model_copy(
        update={
            "data_dir": base,
            "amqp_url": None,
            "database_url": None,
            "blob_url": None,
            "api_host": "127.0.0.1",
            "shutdown_grace_s": 5.0,
        }
    )
    runtime = build_runtime(settings)
    service = Service(runtime, api_port=free_port()).start()
    try:
        with runtime.sessions() as session, session.begin():
            _, key = create_clinic(session, "demo clinic")
        console.print(
            f"embedded service at {service.api_url} (docs: {service.api_url}/docs), "
            f"data in {base}; uploading {len(groups)} record(s) from {path}"
        )
        accepted: dict[str, str] = {}
        rejected: list[tuple[str, str]] = []
        with httpx.Client(
            base_url=service.api_url, headers={"X-API-Key": key}, timeout=300
        ) as client:
            for files in groups:
                resp = _post(client, files)
                name = files[0].name
                if resp.status_code in (200, 202):
                    accepted[resp.json()["record_id"]] = name
                else:
                    rejected.append((name, resp.json()["error"]["message"]))
            statuses: dict[str, dict[str, Any]] = {}
            deadline = time.monotonic() + timeout_s
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("analysing", total=len(accepted))
                while time.monotonic() < deadline:
                    for rid in accepted:
                        if rid not in statuses or statuses[rid]["status"] not in TERMINAL_STATUSES:
                            statuses[rid] = client.get(f"/v1/records/{rid}").json()
                    finished = sum(s["status"] in TERMINAL_STATUSES for s in statuses.values())
                    progress.update(task, completed=finished)
                    if finished == len(accepted):
                        break
                    time.sleep(0.25)
        table = Table(
            "record",
            "status",
            "severity",
            "HR bpm",
            "beats",
            "critical findings",
            title="ECG Sentinel demo",
        )
        for rid, name in accepted.items():
            table.add_row(*_row(name, statuses[rid]))
        console.print(table)
        for name, why in rejected:
            console.print(f"[red]rejected[/red] {name}: {why}")
        time.sleep(0.5)  # let the consumers take the last result messages
        with runtime.sessions() as session:
            n_alerts = session.scalar(select(func.count(Alert.id))) or 0
            n_review = session.scalar(select(func.count(ReviewItem.id))) or 0
        console.print(
            f"alerts: {n_alerts} row(s) in table 'alerts' (queue ecg.alerts, critical results); "
            f"review worklist: {n_review} item(s) in table 'review_items' (queue ecg.review)"
        )
        lost = [accepted[r] for r in accepted if statuses[r]["status"] not in TERMINAL_STATUSES]
        if lost:
            console.print(f"[red]{len(lost)} accepted upload(s) did not finish: {lost}[/red]")
            raise typer.Exit(1)
        console.print(f"{len(accepted)} accepted, {len(rejected)} rejected, 0 lost")
    finally:
        service.stop(timeout_s=10)
        if tmp is not None:
            tmp.cleanup()
