"""Fixtures: every storage test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL is the server at ``SELLERDESK_TEST_PG_URL`` (default: the local
``test`` database). Several test runs may share that database at once, so each
run works in a schema of its own (``search_path`` set through the connection
options), created at start and dropped at the end. When no server answers
within two seconds, the PostgreSQL half is skipped and says why.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from storage.db import make_engine, session_factory
from storage.models import Base

PG_URL = os.environ.get(
    "SELLERDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: Seconds to wait for the test server before skipping the PostgreSQL tests.
PG_PROBE_TIMEOUT_S = 2

BACKENDS = ["sqlite", "postgresql"]


@cache
def pg_unavailable() -> str | None:
    """Why the PostgreSQL tests cannot run, or None when the server answers."""
    engine = make_engine(
        PG_URL, poolclass=NullPool, connect_args={"connect_timeout": PG_PROBE_TIMEOUT_S}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return f"PostgreSQL not reachable at {make_url(PG_URL)!r}: {first_line}"
    finally:
        engine.dispose()
    return None


def with_search_path(url: str, schema: str) -> URL:
    """``url`` with every connection's search_path set to ``schema``."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})


@contextmanager
def pg_schema(prefix: str) -> Iterator[URL]:
    """A fresh, uniquely named schema for the duration of the block; yields its URL."""
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield with_search_path(PG_URL, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """One engine per test run on its own schema, tables created once."""
    with pg_schema("sdtest") as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    # DELETE, children first: on tables this small it takes milliseconds, where
    # TRUNCATE (new files for every table and index) took a quarter of a second.
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database file with the tables, copied for each test (faster than DDL)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    # Closing the last connection folds the WAL into the main file: one file to copy.
    engine.dispose()
    assert not path.with_name("template.db-wal").exists()
    return path


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine on an empty database with the models' tables, per backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "desk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        sqlite_engine = make_engine(f"sqlite:///{path}")
        try:
            yield sqlite_engine
        finally:
            sqlite_engine.dispose()
    else:
        pg: Engine = request.getfixturevalue("pg_engine")
        _empty_all_tables(pg)
        yield pg


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session; tests commit when other connections must see their writes."""
    with sessions() as s:
        yield s
