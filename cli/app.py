"""The ``ecg`` Typer application object, kept apart so command modules can import it.

``cli.main`` imports every command module (which register on :data:`app`); command
modules import :data:`app` from here, never from ``cli.main``, so there is no cycle even
when the CLI runs as ``python -m cli.main``.
"""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    name="ecg",
    help="ECG Sentinel: analyse ECG recordings and report critical values.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """ECG Sentinel: analyse ECG recordings and report critical values."""
