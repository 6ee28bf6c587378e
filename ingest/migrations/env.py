"""Alembic environment: online migrations only, URL from the programmatic config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from models.db import Base, make_engine

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
target_metadata = Base.metadata

_LOCK_ID = 7_311_942_024  # arbitrary constant: one migrator at a time per database


def run_migrations_online() -> None:
    engine = make_engine(url, pool=False)
    with engine.connect() as connection:
        is_pg = connection.dialect.name == "postgresql"
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if is_pg:
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_ID})"))
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use upgrade_head(url)")
run_migrations_online()
