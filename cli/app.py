"""The ``ecg`` Typer application object, kept apart so command modules can import it.

``cli.main`` imports every command module (which register on :data:`app`); command
modules import :data:`app` from here, never from ``cli.main``, so there is no cycle even
when the CLI runs as ``python -m cli.main``.
"""

from __future__ import annotations

import os

# One BLAS thread per process: the analysis works on small matrices, where BLAS threads only
# add CPU contention (measured: 10 s 12-lead analysis 27 ms -> 20 ms median under load), and
# workers already run one analysis process per core. Set before numpy is first imported;
# an explicit setting in the environment wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import typer  # noqa: E402

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
