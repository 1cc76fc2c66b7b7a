"""Fixtures: every storage test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL is the server at ``SELLERDESK_TEST_PG_URL`` (default: the local
``test`` database). Several test runs may share that database at once, so each
run works in a schema of its own (``search_path`` set through the connection
options), created at start and dropped at the end. When no server answers
within two seconds, the PostgreSQL half is skipped and says why.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.storage.db import make_engine, session_factory
from sellerdesk.storage.models import Base
from testing.postgres import pg_schema

BACKENDS = ["sqlite", "postgresql"]


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
