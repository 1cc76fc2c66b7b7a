"""Processed Telegram updates: each update is handled once even when delivered twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from sellerdesk.storage.models import ProcessedUpdate
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
