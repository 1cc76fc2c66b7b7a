"""Sellers the desk has served, their case counters, and the claims of their daily
digests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Executable, Update, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sellerdesk.storage.models import DigestSent, SellerSeen
from sellerdesk.storage.repo._sql import dialect_name, insert_ignore, table_of
from sellerdesk.storage.types import utcnow


def mark_seller_seen(session: Session, seller_id: str, now: datetime | None = None) -> bool:
    """Record that ``seller_id`` is in use; True the first time it is ever seen."""
    values = {"seller_id": seller_id, "first_seen_at": now or utcnow(), "last_case_number": 0}
    return insert_ignore(session, SellerSeen, values)


def next_case_number(session: Session, seller_id: str, now: datetime | None = None) -> int:
    """Allocate the seller's next public case number (1, 2, 3...); the seller is
    marked seen too (see :func:`mark_seller_seen`).

    One statement: an upsert that creates the seller's row with number 1 or adds one
    to it. PostgreSQL locks the row until the transaction ends, so concurrent
    openings for one seller queue here instead of both reading the same maximum.
    Give the number back with :func:`give_back_case_number` (the row stays locked
    by this transaction: nobody took the next one meanwhile).
    """
    name = dialect_name(session)
    if name not in ("postgresql", "sqlite"):
        mark_seller_seen(session, seller_id, now)
        return int(session.execute(_increment(1), {"counted_seller": seller_id}).scalar_one())
    stmt = _NEXT_NUMBER.get(name)
    if stmt is None:
        dialect = postgresql if name == "postgresql" else sqlite
        table = table_of(SellerSeen)
        stmt = (
            dialect.insert(table)
            .values(
                seller_id=bindparam("counted_seller"),
                first_seen_at=bindparam("counted_at"),
                last_case_number=1,
            )
            .on_conflict_do_update(
                index_elements=[table.c.seller_id],
                set_={"last_case_number": table.c.last_case_number + 1},
            )
            .returning(table.c.last_case_number)
        )
        _NEXT_NUMBER[name] = stmt
    params = {"counted_seller": seller_id, "counted_at": now or utcnow()}
    return int(session.execute(stmt, params).scalar_one())


def give_back_case_number(session: Session, seller_id: str, number: int) -> None:
    """Undo :func:`next_case_number` when the case was not opened after all."""
    stmt = _increment(-1).where(table_of(SellerSeen).c.last_case_number == number)
    session.execute(stmt, {"counted_seller": seller_id})


def _increment(by: int) -> Update:
    table = table_of(SellerSeen)
    return (
        update(table)
        .where(table.c.seller_id == bindparam("counted_seller"))
        .values(last_case_number=table.c.last_case_number + by)
        .returning(table.c.last_case_number)
    )


_NEXT_NUMBER: dict[str, Executable] = {}


def list_sellers(session: Session) -> list[SellerSeen]:
    """All sellers seen, oldest first."""
    stmt = select(SellerSeen).order_by(SellerSeen.first_seen_at, SellerSeen.seller_id)
    return list(session.scalars(stmt))


def first_seen(session: Session, seller_id: str) -> datetime | None:
    """When the desk first served ``seller_id``; None if never."""
    row = session.get(SellerSeen, seller_id)
    return row.first_seen_at if row is not None else None


def claim_digest(session: Session, seller_id: str, day: str, now: datetime) -> bool:
    """Claim the seller's digest of ``day``; True for exactly one caller ever.

    The insert runs in a savepoint, so losing the race (the primary key refuses a
    second row, whichever process wrote the first) leaves the caller's transaction
    usable. Committed together with the digest's outbox row: both or neither.
    """
    try:
        with session.begin_nested():
            session.add(DigestSent(seller_id=seller_id, day=day, sent_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True
