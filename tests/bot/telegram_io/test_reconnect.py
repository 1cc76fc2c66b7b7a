"""A lost database connection: the work runs again only when nothing of it committed.

The engine pings no connection before a transaction (a round trip each on
PostgreSQL); a connection the server dropped fails its first statement instead, and
:meth:`bot.database.Database.call` runs the work once more on a new one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from sellerdesk.bot.database import Database
from sellerdesk.storage.db import make_engine, unavailable
from sellerdesk.storage.models import Base, Buyer
from testing.postgres import PG_URL, pg_schema
from tests.storage.conftest import BACKENDS
from tests.storage.factories import T0


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        made = Database(f"sqlite:///{tmp_path / 'desk.db'}")
        Base.metadata.create_all(made.engine)
        yield made
        made.dispose()
        return
    with pg_schema("sdconn") as url:
        made = Database(url.render_as_string(hide_password=False))
        Base.metadata.create_all(made.engine)
        yield made
        made.dispose()


def lost() -> DBAPIError:
    """The error SQLAlchemy raises when a statement finds its connection gone."""
    return DBAPIError("SELECT 1", {}, Exception("server closed the connection"), False, True)


def add_buyer(db: Database, telegram_id: int) -> None:
    with db.transaction() as session:
        session.add(Buyer(telegram_id=telegram_id, created_at=T0))


def buyers(db: Database) -> list[int]:
    with db.transaction() as session:
        return list(session.scalars(select(Buyer.telegram_id).order_by(Buyer.telegram_id)))


def test_work_whose_transaction_lost_its_connection_runs_again(db: Database) -> None:
    runs: list[int] = []

    def work() -> str:
        runs.append(1)
        with db.transaction() as session:
            session.add(Buyer(telegram_id=1, created_at=T0))
            session.flush()
            if len(runs) == 1:
                raise lost()
        return "done"

    assert db.call(work) == "done"
    assert len(runs) == 2
    assert buyers(db) == [1]


def test_work_is_not_run_again_once_a_transaction_of_it_committed(db: Database) -> None:
    runs: list[int] = []

    def work() -> None:
        runs.append(1)
        add_buyer(db, len(runs))
        with db.transaction():
            raise lost()

    with pytest.raises(DBAPIError):
        db.call(work)
    assert runs == [1]
    assert buyers(db) == [1]


def test_a_second_lost_connection_reaches_the_caller(db: Database) -> None:
    runs: list[int] = []

    def work() -> None:
        runs.append(1)
        with db.transaction():
            raise lost()

    with pytest.raises(DBAPIError):
        db.call(work)
    assert len(runs) == 2


def test_other_errors_are_not_retried(db: Database) -> None:
    runs: list[int] = []

    def work() -> None:
        runs.append(1)
        with db.transaction() as session:
            session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(DBAPIError) as raised:
        db.call(work)
    assert not raised.value.connection_invalidated
    assert runs == [1]


def test_run_retries_too(db: Database) -> None:
    runs: list[int] = []

    def work(telegram_id: int) -> int:
        runs.append(1)
        with db.transaction() as session:
            if len(runs) == 1:
                raise lost()
            session.add(Buyer(telegram_id=telegram_id, created_at=T0))
        return telegram_id

    assert asyncio.run(db.run(work, 7)) == 7
    assert buyers(db) == [7]


def backend_pid(db: Database) -> int:
    with db.transaction() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(pid: int) -> None:
    """Close a server connection from another one, as a restart or an admin would."""
    admin = make_engine(PG_URL, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # The call only signals the backend: wait until it is gone, or the next
        # statement may still reach it on a busy machine.
        alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with admin.connect() as connection:
                if not connection.execute(alive, {"pid": pid}).scalar_one():
                    return
            time.sleep(0.01)
        raise AssertionError(f"backend {pid} still runs after pg_terminate_backend")
    finally:
        admin.dispose()


def test_postgresql_connection_closed_by_the_server_between_transactions(
    db: Database,
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("only a server closes connections")
    pid = backend_pid(db)
    terminate(pid)
    runs: list[int] = []

    def work() -> int:
        runs.append(1)
        add_buyer(db, 42)
        return backend_pid(db)

    assert db.call(work) != pid
    # The pooled connection was dead; the pool did not ping it (no round trip), the
    # first statement found out, and the work ran again on a new connection.
    assert len(runs) == 2
    assert buyers(db) == [42]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Buyer)) == 1


def test_postgresql_lost_connection_outside_call_reaches_the_caller(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("only a server closes connections")
    terminate(backend_pid(db))
    with pytest.raises(DBAPIError) as raised:
        add_buyer(db, 1)
    assert raised.value.connection_invalidated
    add_buyer(db, 2)  # the pool was invalidated: a new connection
    assert buyers(db) == [2]


def test_a_server_nobody_answers_on_counts_as_unavailable() -> None:
    # What a PostgreSQL restart looks like to the desk: connections refused. The
    # desk tries such an update again (bot.service.DeskService.call).
    db = Database("postgresql+psycopg://postgres@127.0.0.1:1/test")  # nothing listens on 1
    with pytest.raises(DBAPIError) as raised, db.transaction() as session:
        session.execute(text("SELECT 1"))
    assert unavailable(raised.value)
    db.dispose()
    assert not unavailable(ValueError("a bug"))
