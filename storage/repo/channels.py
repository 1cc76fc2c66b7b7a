"""Buyer channels besides the bot's own chat.

Ozon buyer chats: which buyer messages the desk has taken up, and in what state.
``take`` inserts a message's row or reports that one exists (a conditional INSERT, so
two pollers, or a poll and a push, cannot both take a message).

Telegram Business: the accounts connected to the bot and their chats with buyers; a
business chat's key (``BUSINESS_CHAT_BASE + id``) stands for the chat in the outbox,
the message mapping and cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sellerdesk.storage.models import (
    BUSINESS_CHAT_BASE,
    OZON_ANSWER_HEAD_LEN,
    BusinessChat,
    BusinessConnection,
    Case,
    CaseStatus,
    OzonChatMessage,
)
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


# ---------------------------------------------------------------- Telegram Business


def is_business_chat(chat_id: int) -> bool:
    """Whether ``chat_id`` is a business chat's key rather than a Telegram chat id."""
    return chat_id >= BUSINESS_CHAT_BASE


def save_connection(
    session: Session,
    connection_id: str,
    *,
    owner_id: int,
    seller_id: str | None,
    can_reply: bool,
    enabled: bool,
    now: datetime | None = None,
) -> BusinessConnection:
    """Record a connection as Telegram describes it now (a new one, or a change)."""
    row = session.get(BusinessConnection, connection_id)
    values = {
        "owner_id": owner_id,
        "seller_id": seller_id,
        "can_reply": can_reply,
        "enabled": enabled,
        "updated_at": now or utcnow(),
    }
    if row is None:
        insert_ignore(session, BusinessConnection, {"connection_id": connection_id, **values})
        row = session.get(BusinessConnection, connection_id)
        assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    return row


def get_connection(session: Session, connection_id: str) -> BusinessConnection | None:
    return session.get(BusinessConnection, connection_id)


def business_chat(
    session: Session, connection_id: str, user_id: int, now: datetime | None = None
) -> BusinessChat:
    """The buyer's chat with a business account, made on their first message; its
    ``last_at`` moves to now."""
    now = now or utcnow()
    stmt = select(BusinessChat).where(
        BusinessChat.connection_id == connection_id, BusinessChat.user_id == user_id
    )
    row = session.scalars(stmt).one_or_none()
    if row is None:
        insert_ignore(
            session,
            BusinessChat,
            {
                "connection_id": connection_id,
                "user_id": user_id,
                "quiet_until": None,
                "created_at": now,
                "last_at": now,
            },
        )
        row = session.scalars(stmt).one()
    row.last_at = now
    return row


def business_chat_key(row: BusinessChat) -> int:
    return BUSINESS_CHAT_BASE + row.id


def business_route(session: Session, chat_key: int) -> tuple[str, int] | None:
    """``(connection id, buyer's Telegram id)`` of a business chat's key; None when
    the chat is gone (purged)."""
    row = session.get(BusinessChat, chat_key - BUSINESS_CHAT_BASE)
    return None if row is None else (row.connection_id, row.user_id)


def business_chat_of_key(session: Session, chat_key: int) -> BusinessChat | None:
    return session.get(BusinessChat, chat_key - BUSINESS_CHAT_BASE)


def purge_business_chats(session: Session, older_than: datetime) -> int:
    """Forget chats whose buyer last wrote before ``older_than`` and that no open case
    writes to (a buyer who writes again gets a new key)."""
    in_use = select(Case.buyer_chat_id).where(
        Case.status == CaseStatus.OPEN, Case.buyer_chat_id.is_not(None)
    )
    keys = [
        BUSINESS_CHAT_BASE + row_id
        for row_id in session.scalars(
            select(BusinessChat.id).where(BusinessChat.last_at < older_than)
        )
    ]
    used = set(session.scalars(in_use.where(Case.buyer_chat_id.in_(keys)))) if keys else set()
    gone = [key - BUSINESS_CHAT_BASE for key in keys if key not in used]
    if not gone:
        return 0
    result = session.execute(delete(BusinessChat).where(BusinessChat.id.in_(gone)))
    return int(getattr(result, "rowcount", 0) or 0)
