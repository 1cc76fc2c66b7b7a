"""Updates fetched by long polling, stored until they are handled (see
:class:`storage.models.InboxUpdate`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sellerdesk.storage.models import InboxUpdate
from sellerdesk.storage.repo._sql import insert_ignore, rowcount
from sellerdesk.storage.types import utcnow

#: Characters of a failure kept with a parked update.
ERROR_CHARS = 200


def store(
    session: Session, updates: Iterable[tuple[int, Mapping[str, Any]]], now: datetime | None = None
) -> int:
    """Keep each (update id, JSON) not kept yet; returns how many were new."""
    now = now or utcnow()
    return sum(
        insert_ignore(
            session,
            InboxUpdate,
            {"update_id": update_id, "payload": dict(payload), "received_at": now},
        )
        for update_id, payload in updates
    )


def waiting(session: Session) -> list[InboxUpdate]:
    """Every stored update, parked ones included, oldest first."""
    return list(session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id)))


def remove(session: Session, update_ids: Sequence[int]) -> int:
    """Forget handled updates; returns how many were stored."""
    if not update_ids:
        return 0
    stmt = delete(InboxUpdate).where(InboxUpdate.update_id.in_(list(update_ids)))
    return rowcount(session.execute(stmt))


def park(session: Session, update_id: int, error: str, now: datetime | None = None) -> bool:
    """Mark an update whose handling kept failing; True if it was stored."""
    stmt = (
        update(InboxUpdate)
        .where(InboxUpdate.update_id == update_id)
        .values(parked_at=now or utcnow(), error=error[:ERROR_CHARS])
    )
    return rowcount(session.execute(stmt)) > 0


def waiting_count(session: Session) -> int:
    """How many updates are stored and not handled (parked ones included)."""
    return int(session.scalar(select(func.count()).select_from(InboxUpdate)) or 0)


def parked_count(session: Session) -> int:
    """How many updates are parked."""
    stmt = select(func.count()).select_from(InboxUpdate).where(InboxUpdate.parked_at.is_not(None))
    return int(session.scalar(stmt) or 0)
