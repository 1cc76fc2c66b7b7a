"""Engines, sessions and transactions: the one place that knows how each backend is set up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

#: How long a SQLite writer waits for another writer's lock before "database is locked".
#: The desk's transactions are a few milliseconds; 15 s only matters when the disk stalls.
SQLITE_BUSY_TIMEOUT_MS = 15_000

#: PostgreSQL pool per process. The bot runs handlers and the sender on a few worker
#: threads; 5 steady + 10 burst connections covers them without exhausting a small
#: server's default max_connections (100) when several processes share it.
PG_POOL_SIZE = 5
PG_MAX_OVERFLOW = 10
#: Recycle connections older than this (seconds): outlives no proxy's idle timeout.
PG_POOL_RECYCLE_S = 1800
#: Seconds to wait for the server when opening a connection, so a down database fails fast.
PG_CONNECT_TIMEOUT_S = 10


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` set up for the desk's use of that backend.

    SQLite: the file's folder is created, WAL journaling (readers do not block the
    writer), foreign keys enforced, a busy timeout, and every transaction begins with
    ``BEGIN IMMEDIATE`` (see :func:`_setup_sqlite`). PostgreSQL: a bounded pool whose
    connections are recycled after :data:`PG_POOL_RECYCLE_S`, without a ping before
    each transaction (a round trip per transaction): a connection the server dropped
    fails its first statement, the pool is invalidated, and the caller retries (see
    :func:`may_retry` and ``bot.database.Database.call``). Extra ``kwargs`` go to
    :func:`sqlalchemy.create_engine` and win over these defaults.
    """
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, kwargs)
    if backend == "postgresql":
        if "poolclass" not in kwargs:  # a caller's own pool class may take other arguments
            kwargs.setdefault("pool_size", PG_POOL_SIZE)
            kwargs.setdefault("max_overflow", PG_MAX_OVERFLOW)
            kwargs.setdefault("pool_recycle", PG_POOL_RECYCLE_S)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
        return create_engine(url, connect_args=connect_args, **kwargs)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: URL, kwargs: dict[str, Any]) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if in_memory:
        # One shared connection, or each thread would see its own empty database.
        # Transactions then share it too: fine for experiments, not for concurrent work.
        kwargs.setdefault("poolclass", StaticPool)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("check_same_thread", False)
        kwargs["connect_args"] = connect_args
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    _setup_sqlite(engine)
    return engine


def _setup_sqlite(engine: Engine) -> None:
    """Pragmas per connection, and SQLAlchemy (not the sqlite3 module) in charge of BEGIN.

    The sqlite3 module's legacy mode starts transactions only before writes, which
    breaks SAVEPOINT and lets a transaction read, then fail to write with "database
    is locked" when another connection wrote in between (a stale read snapshot
    cannot be upgraded, and the busy timeout does not help). ``BEGIN IMMEDIATE``
    takes the write lock up front, waiting up to the busy timeout: transactions run
    one at a time, which is SQLite's single-writer model made explicit and is what
    makes the claim queries of the outbox and reminders safe there.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable with WAL except for the last commits on power loss.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``.

    ``expire_on_commit=False``: the bot reads a case's fields after the transaction
    that loaded it has committed (to build the message it sends); expiring them would
    mean a detached-instance error or a second query.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back if it raises.

    Use one per Telegram update or sender step, so a state change and the outbox
    rows it causes are committed together or not at all::

        with unit_of_work(sessions) as session:
            if updates.mark_processed(session, update.update_id):
                ...
    """
    with factory() as session, session.begin():
        yield session


def may_retry(error: BaseException) -> bool:
    """Whether ``error`` means the connection was lost (the server restarted, an
    administrator or an idle timeout closed it): the pool has been invalidated and a
    new connection may well work. Whether a transaction may run again also depends
    on where it failed: only when nothing of it can have committed."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not do the work now (unreachable,
    restarting, a lost connection, a lock or deadlock timeout) rather than that the work
    is wrong: the same work may well succeed later."""
    return isinstance(error, OperationalError) or may_retry(error)


def ping(session: Session) -> None:
    """Round trip to the database (``SELECT 1``); raises if it cannot be reached.

    The health endpoint calls it: a load balancer should stop sending updates to a
    process whose database is gone, since every update needs it.
    """
    session.execute(text("SELECT 1"))
