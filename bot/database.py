"""The bot's database handle: migrations at start, and transactions run off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.bot.desk.outgoing import (
    AFTER_COMMIT_KEY,
    HANDED_KEY,
    HANDOFF_KEY,
    QUEUED_KEY,
    Handoff,
)
from sellerdesk.storage import migrate
from sellerdesk.storage.db import make_engine, may_retry, session_factory, unit_of_work
from sellerdesk.storage.models import Base

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def is_in_memory(url: str) -> bool:
    """True for an in-memory SQLite URL (``sqlite://``, ``sqlite:///:memory:``)."""
    parsed = make_url(url)
    database = parsed.database or ""
    return parsed.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    )


class Database:
    """One engine and its sessions, used from worker threads.

    Every transaction runs in a thread (:meth:`run`), so a slow disk or a lock wait
    never stalls the event loop that polls Telegram and sends the outbox. An
    in-memory SQLite database is one shared connection (see ``storage.db``), so its
    transactions are serialised here. A SQLite file runs one write transaction at a
    time anyway (``BEGIN IMMEDIATE``); its transactions are serialised here too, so
    this process's threads queue on a lock instead of on SQLite's busy handler, which
    sleeps in steps of up to 100 ms (other processes still wait on the busy timeout).
    A server handles concurrency itself.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self._memory = is_in_memory(url)
        #: Whether transactions of this process go one at a time (SQLite, see above).
        self._serialised = make_url(url).get_backend_name() == "sqlite"
        self._lock = threading.Lock()
        #: This process's outbox sender, when it takes rows straight from handlers
        #: (see :class:`bot.desk.outgoing.Handoff`); None: every row waits for a claim.
        self.handoff: Handoff | None = None
        #: The :meth:`call` running on this thread, if any (see :class:`_Attempt`).
        self._local = threading.local()

    def prepare(self) -> None:
        """Bring the schema up to date: Alembic migrations, or the models for a
        throwaway in-memory database (a migration would open a database of its own)."""
        if self._memory:
            Base.metadata.create_all(self.engine)
            return
        migrate.upgrade(self.url)
        log.info("database schema at revision %s", migrate.head_revision())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work (commit at the end, roll back on error). Rows stored for
        the sender's hand-over, and the news of rows stored for its claim, reach it
        once the commit is done, never before.

        Inside :meth:`call` (and so :meth:`run`), a transaction that fails because
        its connection was lost before it began to commit is retried once with the
        whole work; elsewhere the error reaches the caller."""
        handoff = self.handoff
        attempt: _Attempt | None = getattr(self._local, "attempt", None)
        with (
            self._lock if self._serialised else contextlib.nullcontext(),
            unit_of_work(self.sessions) as session,
        ):
            if handoff is not None:
                session.info[HANDOFF_KEY] = handoff
            info = session.info
            try:
                yield session
                session.flush()  # the last writes, still before COMMIT
            except BaseException as error:
                # Failed before COMMIT: the transaction rolls back, nothing of it committed.
                if attempt is not None and not attempt.committing and may_retry(error):
                    attempt.lost = error
                raise
            if attempt is not None:
                # From here on the commit may have reached the server, failed or not.
                attempt.committing = True
        handed = info.pop(HANDED_KEY, None)
        queued = info.pop(QUEUED_KEY, None)
        for after in info.pop(AFTER_COMMIT_KEY, None) or ():
            after()
        if handoff is not None:
            if handed:
                handoff.deliver(handed)
            if queued:
                handoff.queued(queued)

    def call(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database ``work`` here; run it once more when a transaction
        of it failed because its connection was lost (a PostgreSQL server restarted,
        or closed the connection while it sat in the pool) and no transaction of it
        had begun to commit, so nothing of it can be in the database. The engine pings
        no connection before use: this retry is what covers a dropped one."""
        if getattr(self._local, "attempt", None) is not None:
            return work(*args, **kwargs)  # nested: the outer call decides
        attempt = _Attempt()
        self._local.attempt = attempt
        try:
            return work(*args, **kwargs)
        except BaseException as error:
            if attempt.lost is not error:
                raise
            log.warning("database connection lost, running the transaction again: %s", error)
        finally:
            self._local.attempt = None
        return work(*args, **kwargs)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database ``work`` in a worker thread and return its result
        (with :meth:`call`'s retry on a lost connection)."""

        def job() -> T:
            return self.call(work, *args, **kwargs)

        return await asyncio.to_thread(job)

    def dispose(self) -> None:
        self.engine.dispose()


class _Attempt:
    """What :meth:`Database.call` needs to know of one run of its work."""

    __slots__ = ("committing", "lost")

    def __init__(self) -> None:
        #: A transaction of the work has reached its commit: a rerun could repeat it.
        self.committing = False
        #: The error of a transaction that lost its connection before committing.
        self.lost: BaseException | None = None
