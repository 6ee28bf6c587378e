"""Autocommit read sessions (``models.db.make_read_sessionmaker``) share the pool safely.

The API's key lookup and duplicate check use them to save the BEGIN/ROLLBACK round
trips; a connection used for a read must come back to the pool transactional, so a
later write session still commits or rolls back as one unit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from models.db import Clinic, make_engine, make_read_sessionmaker, make_sessionmaker


@pytest.fixture
def pg_sessions(pg_url: str) -> Iterator[sessionmaker[Session]]:
    schema = f"t_reads_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url, pool=False)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        conn.execute(
            text(
                f"CREATE TABLE {schema}.clinics (id varchar(32) PRIMARY KEY, name text, "
                "api_key_sha256 varchar(64) UNIQUE, created_at timestamptz)"
            )
        )
    sep = "&" if "?" in pg_url else "?"
    engine = make_engine(f"{pg_url}{sep}options=-csearch_path%3D{schema}")
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _count(reads: sessionmaker[Session]) -> int:
    with reads() as session:
        return int(session.scalar(select(func.count()).select_from(Clinic)) or 0)


def _failing_write(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        assert dbapi.autocommit is False
        session.add(Clinic(id="a" * 32, name="x", api_key_sha256="b" * 64))
        session.flush()
        raise RuntimeError("fail before commit")


def test_read_session_is_autocommit_and_write_session_stays_transactional(
    pg_sessions: sessionmaker[Session],
) -> None:
    reads = make_read_sessionmaker(pg_sessions)
    # Given a read on a pooled connection (autocommit: no BEGIN, no ROLLBACK)
    with reads() as session:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        assert dbapi.autocommit is True
        assert session.scalar(select(func.count()).select_from(Clinic)) == 0
    # When a write session takes a connection from the same pool and fails midway
    with pytest.raises(RuntimeError, match="fail before commit"):
        _failing_write(pg_sessions)
    # Then nothing of it is visible; a committed write is
    assert _count(reads) == 0
    with pg_sessions() as session, session.begin():
        session.add(Clinic(id="c" * 32, name="y", api_key_sha256="d" * 64))
    assert _count(reads) == 1
