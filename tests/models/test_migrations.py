"""The Alembic migrations build exactly the schema the ORM models declare."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import models.db_review  # noqa: F401  (its tables join Base.metadata)
from ingest.migrations import upgrade_head
from models.db import Base, make_engine


def _diff(url: str) -> list[object]:
    upgrade_head(url)
    engine = make_engine(url, pool=False)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))
    finally:
        engine.dispose()


def test_sqlite_migrations_match_the_models(tmp_path: Path) -> None:
    assert _diff(f"sqlite:///{tmp_path / 'm.sqlite3'}") == []


@pytest.fixture
def pg_fresh_schema(pg_url: str) -> Iterator[str]:
    from tests.alerts.helpers import pg_schema

    yield from pg_schema(pg_url)


@pytest.mark.db
def test_postgresql_migrations_match_the_models(pg_fresh_schema: str) -> None:
    assert _diff(pg_fresh_schema) == []
