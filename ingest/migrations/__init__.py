"""Alembic migrations of the service database; :func:`upgrade_head` applies them.

Every schema change is a new revision under ``versions/``; start-up and tests call
:func:`upgrade_head`, never ``create_all``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

__all__ = ["alembic_config", "upgrade_head"]

_HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["url"] = url
    return cfg


def upgrade_head(url: str) -> None:
    """Bring the database at ``url`` to the newest revision (idempotent, concurrent-safe).

    On PostgreSQL an advisory lock serialises processes that start at the same time.
    """
    command.upgrade(alembic_config(url), "head")
