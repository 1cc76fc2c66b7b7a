"""Sellers the desk has served, and their case counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import SellerSeen
from storage.repo._sql import insert_ignore
from storage.types import utcnow


def mark_seller_seen(session: Session, seller_id: str, now: datetime | None = None) -> bool:
    """Record that ``seller_id`` is in use; True the first time it is ever seen."""
    values = {"seller_id": seller_id, "first_seen_at": now or utcnow(), "last_case_number": 0}
    return insert_ignore(session, SellerSeen, values)


def next_case_number(session: Session, seller_id: str, now: datetime | None = None) -> int:
    """Allocate the seller's next public case number (1, 2, 3...).

    The increment is one UPDATE on the seller's row, which PostgreSQL locks until
    the transaction ends: concurrent openings for one seller queue here instead of
    both reading the same maximum. Roll back to a savepoint to give the number back.
    """
    mark_seller_seen(session, seller_id, now)
    stmt = (
        update(SellerSeen)
        .where(SellerSeen.seller_id == seller_id)
        .values(last_case_number=SellerSeen.last_case_number + 1)
        .returning(SellerSeen.last_case_number)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).scalar_one()


def list_sellers(session: Session) -> list[SellerSeen]:
    """All sellers seen, oldest first."""
    stmt = select(SellerSeen).order_by(SellerSeen.first_seen_at, SellerSeen.seller_id)
    return list(session.scalars(stmt))


def first_seen(session: Session, seller_id: str) -> datetime | None:
    """When the desk first served ``seller_id``; None if never."""
    row = session.get(SellerSeen, seller_id)
    return row.first_seen_at if row is not None else None
