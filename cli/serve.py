"""``ecg serve`` (all roles, embedded without ECG_AMQP_URL) and ``ecg api|relay|worker|consumers``.

Registers the pipeline commands on the ``ecg`` app, plus ``ecg clinic`` and ``ecg demo``.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

import cli.admin
import cli.demo  # registers `ecg demo`
from cli.app import app
from ingest.service import ALL_ROLES, Role, Service, build_runtime
from ingest.worker import load_analyser
from models.errors import ConfigError
from models.settings import Settings

__all__ = ["run_roles", "setup_logging"]

app.add_typer(cli.admin.clinic_app, name="clinic")


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr: INFO for the service, WARNING for libraries."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in ("ingest", "alerts", "review", "cli"):
        logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger("pika").setLevel(logging.WARNING)


def run_roles(
    roles: tuple[Role, ...],
    *,
    analyser: str | None = None,
    concurrency: int | None = None,
    port: int | None = None,
) -> None:
    """Build one Settings, start the roles and run until SIGTERM/SIGINT."""
    settings = Settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    if settings.amqp_url is None and set(roles) != set(ALL_ROLES):
        raise ConfigError(
            f"role(s) {', '.join(roles)} alone need ECG_AMQP_URL: the in-process queue "
            "cannot be shared between processes (run `ecg serve` for the embedded mode)"
        )
    runtime = build_runtime(settings)
    service = Service(
        runtime, roles=roles, analyse=load_analyser(analyser), api_port=port or settings.api_port
    )
    service.start()
    mode = "embedded (in-process queue)" if runtime.embedded else "RabbitMQ"
    where = f" API {service.api_url} (docs {service.api_url}/docs)" if "api" in roles else ""
    typer.echo(f"ecg: running {', '.join(roles)} over {mode};{where}", err=True)
    service.run_until_signal()


AnalyserOpt = Annotated[
    str | None,
    typer.Option("--analyser", hidden=True, help="module:function replacing the analysis (tests)"),
]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", "-c", help="Parallel analyses (default settings).")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO level.")]


@app.command()
def serve(
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="api, relay, worker, consumers (repeatable); default all"),
    ] = None,
    port: Annotated[int | None, typer.Option(help="API port (default ECG_API_PORT)")] = None,
    concurrency: ConcurrencyOpt = None,
    analyser: AnalyserOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the service: embedded in one process without ECG_AMQP_URL, else chosen roles."""
    setup_logging(verbose)
    chosen = tuple(role or ALL_ROLES)
    bad = [r for r in chosen if r not in ALL_ROLES]
    if bad:
        raise typer.BadParameter(f"unknown role(s) {bad}; choose from {list(ALL_ROLES)}")
    run_roles(chosen, analyser=analyser, concurrency=concurrency, port=port)  # type: ignore[arg-type]


@app.command()
def api(
    port: Annotated[int | None, typer.Option(help="API port")] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the upload API alone (needs ECG_AMQP_URL)."""
    setup_logging(verbose)
    run_roles(("api",), port=port)


@app.command()
def relay(verbose: VerboseOpt = False) -> None:
    """Run the outbox relay alone (needs ECG_AMQP_URL)."""
    setup_logging(verbose)
    run_roles(("relay",))


@app.command()
def worker(
    concurrency: ConcurrencyOpt = None, analyser: AnalyserOpt = None, verbose: VerboseOpt = False
) -> None:
    """Run an ingest worker (needs ECG_AMQP_URL); SIGTERM finishes in-flight work."""
    setup_logging(verbose)
    run_roles(("worker",), analyser=analyser, concurrency=concurrency)


@app.command()
def consumers(verbose: VerboseOpt = False) -> None:
    """Run the alerts and review consumers (needs ECG_AMQP_URL)."""
    setup_logging(verbose)
    run_roles(("consumers",))
