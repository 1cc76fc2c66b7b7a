"""Ozon buyer chats: which buyer messages the desk has taken up, and in what state.

``take`` inserts a message's row or reports that one exists (a conditional INSERT, so
two pollers, or a poll and a push, cannot both take a message).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sellerdesk.storage.models import OZON_ANSWER_HEAD_LEN, OzonChatMessage
from sellerdesk.storage.repo._sql import insert_ignore
from sellerdesk.storage.types import utcnow

ANSWERING = "answering"
ANSWERED = "answered"
STAFF = "staff"


def taken(
    session: Session, seller_id: str, message_ids: Iterable[str]
) -> dict[str, tuple[str, str | None, datetime]]:
    """``(state, answer_head, handled_at)`` of each of ``message_ids`` the desk has
    taken up already."""
    ids = list(message_ids)
    if not ids:
        return {}
    stmt = select(OzonChatMessage).where(
        OzonChatMessage.seller_id == seller_id, OzonChatMessage.message_id.in_(ids)
    )
    return {
        row.message_id: (row.state, row.answer_head, row.handled_at)
        for row in session.scalars(stmt)
    }


def take(
    session: Session,
    seller_id: str,
    chat_id: str,
    message_id: str,
    state: str,
    answer: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Take up a message in ``state``; False when it was taken already."""
    return insert_ignore(
        session,
        OzonChatMessage,
        {
            "seller_id": seller_id,
            "message_id": message_id,
            "chat_id": chat_id,
            "state": state,
            "answer_head": answer[:OZON_ANSWER_HEAD_LEN] if answer else None,
            "handled_at": now or utcnow(),
        },
    )


def set_state(session: Session, seller_id: str, message_id: str, state: str) -> None:
    session.execute(
        update(OzonChatMessage)
        .where(OzonChatMessage.seller_id == seller_id, OzonChatMessage.message_id == message_id)
        .values(state=state)
    )


def unfinished(session: Session, seller_id: str) -> list[OzonChatMessage]:
    """Messages whose answer may or may not have gone out (a crash mid-send)."""
    stmt = select(OzonChatMessage).where(
        OzonChatMessage.seller_id == seller_id, OzonChatMessage.state == ANSWERING
    )
    return list(session.scalars(stmt.order_by(OzonChatMessage.handled_at)))


def purge(session: Session, older_than: datetime) -> int:
    """Forget messages taken up before ``older_than`` (Ozon's reply windows are 48-72 h:
    an older message is never shown as new again)."""
    result = session.execute(delete(OzonChatMessage).where(OzonChatMessage.handled_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
