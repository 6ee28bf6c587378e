"""Entry point of the ``ecg`` command line (typer).

Each sub-command lives in its own module and is registered here on :data:`cli.app.app`.
"""

from __future__ import annotations

# --- sub-commands (each module registers itself on `app`; keep one line per module) ---
from cli.analyze import analyze
from cli.app import app

app.command(name="analyze")(analyze)  # register: analyze
from cli.eval_cmd import eval_command  # noqa: E402

app.command(name="eval")(eval_command)  # register: eval
from cli.bench import bench_command  # noqa: E402

app.command(name="bench")(bench_command)  # register: bench
import cli.alerts_cmd  # noqa: E402  # register: alerts
import cli.reviewer_cmd  # noqa: E402  # register: reviewer
import cli.serve  # noqa: E402, F401  # register: serve/worker/relay (+api, clinic, demo)
from cli.reprocess import reprocess  # noqa: E402

app.command(name="reprocess")(reprocess)  # register: reprocess


def main() -> None:
    """Run the CLI."""
    app()


if __name__ == "__main__":
    main()
