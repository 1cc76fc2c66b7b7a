"""Telegram updates: the ids already handled (each update is handled once even when
delivered twice), and the polling inbox (each fetched update kept until handled)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sellerdesk.storage.models import InboxUpdate, ProcessedUpdate
from sellerdesk.storage.repo._sql import insert_ignore, rowcount
from sellerdesk.storage.types import utcnow


def mark_processed(session: Session, update_id: int, now: datetime | None = None) -> bool:
    """Claim ``update_id`` for handling; True only the first time.

    Call it in the same transaction as the handling: if the handling fails and rolls
    back, the mark goes too and a redelivery is handled again. With two processes
    receiving the same update at once, the unique key makes one of them wait for the
    other's commit and then get False.
    """
    return insert_ignore(
        session, ProcessedUpdate, {"update_id": update_id, "processed_at": now or utcnow()}
    )


def purge_processed(session: Session, older_than: datetime) -> int:
    """Forget update ids processed before ``older_than``; returns how many.

    Telegram redelivers only recent updates (it keeps them for 24 hours), so a few
    days of ids is enough and the table stays small.
    """
    stmt = delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < older_than)
    return rowcount(session.execute(stmt))


# ------------------------------------------------------------------ the polling inbox
# Updates fetched by long polling, stored until they are handled (see
# :class:`storage.models.InboxUpdate`).

#: Characters of a failure kept with a parked update.
ERROR_CHARS = 200


def store_fetched(
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


def waiting_updates(session: Session) -> list[InboxUpdate]:
    """Every stored update, parked ones included, oldest first."""
    return list(session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id)))


def remove_handled(session: Session, update_ids: Sequence[int]) -> int:
    """Forget handled updates; returns how many were stored."""
    if not update_ids:
        return 0
    stmt = delete(InboxUpdate).where(InboxUpdate.update_id.in_(list(update_ids)))
    return rowcount(session.execute(stmt))


def park_update(session: Session, update_id: int, error: str, now: datetime | None = None) -> bool:
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


def purge_parked(session: Session, older_than: datetime) -> int:
    """Delete parked updates received before ``older_than`` (they hold what a buyer
    wrote); returns how many."""
    stmt = delete(InboxUpdate).where(
        InboxUpdate.parked_at.is_not(None), InboxUpdate.received_at < older_than
    )
    return rowcount(session.execute(stmt))
