"""Engine set-up, transactions, and the UTC datetime type on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from sellerdesk.storage.db import (
    PG_POOL_SIZE,
    SQLITE_BUSY_TIMEOUT_MS,
    make_engine,
    session_factory,
    unit_of_work,
)
from sellerdesk.storage.models import Base, Buyer, Case, CaseStatus
from sellerdesk.storage.repo import _sql, updates
from sellerdesk.storage.types import utcnow
from tests.storage.factories import T0

MOSCOW = timezone(timedelta(hours=3))


def test_sqlite_engine_creates_folder_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "desk.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert timeout == SQLITE_BUSY_TIMEOUT_MS
        assert path.exists()
    finally:
        engine.dispose()


def test_sqlite_in_memory_is_shared_between_threads() -> None:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        session.add(Buyer(telegram_id=1, created_at=T0))

    seen: list[int] = []

    def read() -> None:
        with sessions() as session:
            seen.append(len(session.scalars(select(Buyer)).all()))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == [1]
    engine.dispose()


def test_postgresql_engine_has_a_bounded_pool(pg_engine: Engine) -> None:
    assert isinstance(pg_engine.pool, QueuePool)
    assert pg_engine.pool.size() == PG_POOL_SIZE


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Case(seller_id="shop", number=1, buyer_id=999, opened_at=T0))
    with pytest.raises(IntegrityError):
        session.flush()


def test_unit_of_work_commits(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as session:
        session.add(Buyer(telegram_id=7, created_at=T0))
    with sessions() as session:
        assert session.scalars(select(Buyer.telegram_id)).all() == [7]


def test_unit_of_work_rolls_back_on_error(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), unit_of_work(sessions) as session:
        session.add(Buyer(telegram_id=7, created_at=T0))
        session.flush()
        raise RuntimeError("handler failed")
    with sessions() as session:
        assert session.scalars(select(Buyer)).all() == []


def test_savepoint_rolls_back_only_its_part(sessions: sessionmaker[Session]) -> None:
    # SQLite's driver breaks SAVEPOINT in its legacy mode; make_engine takes over BEGIN.
    with unit_of_work(sessions) as session:
        session.add(Buyer(telegram_id=1, created_at=T0))
        session.flush()
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(Buyer(telegram_id=1, created_at=T0))
            session.flush()
        session.add(Buyer(telegram_id=2, created_at=T0))
    with sessions() as session:
        telegram_ids = session.scalars(select(Buyer.telegram_id).order_by(Buyer.telegram_id))
        assert telegram_ids.all() == [1, 2]


def test_datetimes_come_back_aware_in_utc(sessions: sessionmaker[Session]) -> None:
    moscow_noon = datetime(2025, 3, 1, 12, 0, tzinfo=MOSCOW)
    with unit_of_work(sessions) as session:
        session.add(Buyer(telegram_id=1, created_at=moscow_noon))
    with sessions() as session:
        created = session.scalars(select(Buyer.created_at)).one()
    assert created == moscow_noon
    assert created.tzinfo is UTC
    assert created.hour == 9


def test_datetime_comparisons_ignore_the_callers_zone(session: Session) -> None:
    # 10:00 UTC is after 12:00 Moscow (09:00 UTC): text order would say otherwise on SQLite
    # if offsets were stored.
    session.add(Buyer(telegram_id=1, created_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC)))
    session.flush()
    stmt = select(Buyer.telegram_id).where(
        Buyer.created_at > datetime(2025, 3, 1, 12, 0, tzinfo=MOSCOW)
    )
    assert session.scalars(stmt).all() == [1]


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(Buyer(telegram_id=1, created_at=datetime(2025, 3, 1, 12, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_utcnow_is_aware() -> None:
    assert utcnow().tzinfo is UTC


def test_enum_values_are_stored_as_lowercase_values(session: Session, backend: str) -> None:
    buyer = Buyer(telegram_id=1, created_at=T0)
    session.add(buyer)
    session.flush()
    session.add(Case(seller_id="shop", number=1, buyer_id=buyer.id, opened_at=T0))
    session.flush()
    raw = session.execute(text("SELECT status FROM cases")).scalar_one()
    assert raw == "open"
    assert session.scalars(select(Case.status)).one() is CaseStatus.OPEN


def test_insert_ignore_works_on_other_backends_through_a_savepoint(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backends without ON CONFLICT DO NOTHING get the portable fallback."""
    monkeypatch.setattr(_sql, "dialect_name", lambda _session: "other")
    assert updates.mark_processed(session, 1, T0)
    assert not updates.mark_processed(session, 1, T0)
    assert updates.mark_processed(session, 2, T0)  # the transaction is still usable
