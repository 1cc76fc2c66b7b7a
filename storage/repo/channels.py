"""Buyer channels besides the bot's own chat.

Ozon buyer chats: which buyer messages the desk has taken up, and in what state.
``take`` inserts a message's row or reports that one exists (a conditional INSERT, so
two pollers, or a poll and a push, cannot both take a message).

Ozon product questions: each question taken up, its draft's message in the staff
group, and its answer's state (published once: a conditional UPDATE takes it).

Ozon chats with staff: each Ozon chat handed to staff has a key (``OZON_CHAT_BASE +
id``) and a buyer without a Telegram id; cases write to that key.

Telegram Business: the accounts connected to the bot and their chats with buyers; a
business chat's key (``BUSINESS_CHAT_BASE + id``) stands for the chat in the outbox,
the message mapping and cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from sellerdesk.storage.models import (
    BUSINESS_CHAT_BASE,
    OZON_ANSWER_HEAD_LEN,
    OZON_CHAT_BASE,
    BusinessChat,
    BusinessConnection,
    Buyer,
    Case,
    CaseStatus,
    OzonBuyerChat,
    OzonChatMessage,
    OzonQuestion,
)
from sellerdesk.storage.repo._sql import insert_ignore, insert_ignore_object, rowcount
from sellerdesk.storage.types import utcnow

ANSWERING = "answering"
ANSWERED = "answered"
#: Left for people in Ozon's cabinet (not text the desk can hand on, or unsure before a
#: case could be opened).
STAFF = "staff"
#: Handed to staff in the chat's case.
CASE = "case"


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
    return BUSINESS_CHAT_BASE <= chat_id < OZON_CHAT_BASE


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


# ---------------------------------------------------------------- Ozon product questions

#: A product question's states: shown to staff as a draft; approved (the answer is to be
#: published); being published; published; rejected by staff; refused by Ozon.
Q_DRAFT = "draft"
Q_APPROVED = "approved"
Q_ANSWERING = "answering"
Q_ANSWERED = "answered"
Q_REJECTED = "rejected"
Q_FAILED = "failed"


def questions_known(session: Session, seller_id: str, question_ids: Iterable[str]) -> set[str]:
    """Which of ``question_ids`` the desk has taken up already."""
    ids = list(question_ids)
    if not ids:
        return set()
    stmt = select(OzonQuestion.question_id).where(
        OzonQuestion.seller_id == seller_id, OzonQuestion.question_id.in_(ids)
    )
    return set(session.scalars(stmt))


def take_question(
    session: Session,
    seller_id: str,
    question_id: str,
    *,
    sku: int,
    offer_id: str | None,
    answer: str | None,
    entry: str | None,
    state: str,
    staff_chat_id: int | None,
    now: datetime | None = None,
) -> OzonQuestion | None:
    """Take up a new question; None when another process took it first."""
    now = now or utcnow()
    return insert_ignore_object(
        session,
        OzonQuestion,
        {
            "seller_id": seller_id,
            "question_id": question_id,
            "sku": sku,
            "offer_id": offer_id,
            "state": state,
            "answer": answer,
            "entry": entry,
            "staff_chat_id": staff_chat_id,
            "staff_message_id": None,
            "decided_by": None,
            "created_at": now,
            "updated_at": now,
        },
    )


def get_question(session: Session, row_id: int) -> OzonQuestion | None:
    return session.get(OzonQuestion, row_id)


def question_by_message(session: Session, chat_id: int, message_id: int) -> OzonQuestion | None:
    """The question whose draft is ``message_id`` in the staff chat ``chat_id``."""
    stmt = select(OzonQuestion).where(
        OzonQuestion.staff_chat_id == chat_id, OzonQuestion.staff_message_id == message_id
    )
    return session.scalars(stmt).first()


def set_question_message(session: Session, row_id: int, chat_id: int, message_id: int) -> None:
    """The draft of the question was sent as ``message_id``: staff's replies to it count."""
    session.execute(
        update(OzonQuestion)
        .where(OzonQuestion.id == row_id)
        .values(staff_chat_id=chat_id, staff_message_id=message_id)
    )


def decide_question(
    session: Session, row: OzonQuestion, state: str, answer: str | None, user_id: int
) -> None:
    """Staff's decision: approved with ``answer``, or rejected."""
    row.state = state
    if answer is not None:
        row.answer = answer
    row.decided_by = user_id
    row.updated_at = utcnow()
    session.flush()


def questions_to_publish(
    session: Session, seller_id: str, stale_before: datetime
) -> list[OzonQuestion]:
    """Approved answers, and answers left ``answering`` since before ``stale_before``."""
    stmt = select(OzonQuestion).where(
        OzonQuestion.seller_id == seller_id,
        or_(
            OzonQuestion.state == Q_APPROVED,
            and_(OzonQuestion.state == Q_ANSWERING, OzonQuestion.updated_at < stale_before),
        ),
    )
    return list(session.scalars(stmt.order_by(OzonQuestion.id)))


def begin_publishing(session: Session, row_id: int, now: datetime | None = None) -> bool:
    """Mark the answer as on its way; False when another process got there first (a
    conditional UPDATE: the row must still be approved, or be a stale ``answering``)."""
    now = now or utcnow()
    result = session.execute(
        update(OzonQuestion)
        .where(
            OzonQuestion.id == row_id,
            or_(
                OzonQuestion.state == Q_APPROVED,
                and_(
                    OzonQuestion.state == Q_ANSWERING,
                    OzonQuestion.updated_at < now - timedelta(seconds=30),
                ),
            ),
        )
        .values(state=Q_ANSWERING, updated_at=now)
    )
    return rowcount(result) == 1


def set_question_state(session: Session, row_id: int, state: str) -> OzonQuestion | None:
    row = session.get(OzonQuestion, row_id)
    if row is not None:
        row.state = state
        row.updated_at = utcnow()
        session.flush()
    return row


def purge_ozon_questions(session: Session, older_than: datetime) -> int:
    """Forget questions settled before ``older_than`` (published, rejected, refused)."""
    result = session.execute(
        delete(OzonQuestion).where(
            OzonQuestion.updated_at < older_than,
            OzonQuestion.state.in_([Q_ANSWERED, Q_REJECTED, Q_FAILED, Q_DRAFT]),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------- Ozon chats with staff


def is_ozon_chat(chat_id: int) -> bool:
    """Whether ``chat_id`` is an Ozon buyer chat's key."""
    return chat_id >= OZON_CHAT_BASE


def is_channel_chat(chat_id: int) -> bool:
    """Whether ``chat_id`` is a key of a chat outside the bot's own chats (a Telegram
    Business chat or an Ozon chat): no message can be copied into or out of it."""
    return chat_id >= BUSINESS_CHAT_BASE


def ozon_buyer(
    session: Session, seller_id: str, chat_id: str, lang: str | None, now: datetime | None = None
) -> tuple[OzonBuyerChat, Buyer]:
    """The Ozon chat's row and its buyer (a buyer without a Telegram id), made on the
    chat's first question (answered by the FAQ or handed to staff)."""
    now = now or utcnow()
    stmt = select(OzonBuyerChat).where(
        OzonBuyerChat.seller_id == seller_id, OzonBuyerChat.chat_id == chat_id
    )
    row = session.scalars(stmt).one_or_none()
    if row is None:
        buyer = Buyer(telegram_id=None, language=lang, created_at=now)
        session.add(buyer)
        session.flush()
        inserted = insert_ignore(
            session,
            OzonBuyerChat,
            {
                "seller_id": seller_id,
                "chat_id": chat_id,
                "buyer_id": buyer.id,
                "created_at": now,
                "last_at": now,
            },
        )
        if not inserted:  # another process made it: its buyer is the one
            session.delete(buyer)
        row = session.scalars(stmt).one()
    row.last_at = now
    found = session.get(Buyer, row.buyer_id)
    assert found is not None
    return row, found


def ozon_chat_key(row: OzonBuyerChat) -> int:
    return OZON_CHAT_BASE + row.id


def ozon_route(session: Session, chat_key: int) -> tuple[str, str] | None:
    """``(seller id, Ozon chat id)`` of an Ozon chat's key; None when it is gone."""
    row = session.get(OzonBuyerChat, chat_key - OZON_CHAT_BASE)
    return None if row is None else (row.seller_id, row.chat_id)


def purge_ozon_chats(session: Session, older_than: datetime) -> int:
    """Forget Ozon chats last handed to staff before ``older_than`` that no open case
    writes to (a later message makes a new row and a new buyer)."""
    keys = [
        OZON_CHAT_BASE + row_id
        for row_id in session.scalars(
            select(OzonBuyerChat.id).where(OzonBuyerChat.last_at < older_than)
        )
    ]
    if not keys:
        return 0
    used = set(
        session.scalars(
            select(Case.buyer_chat_id).where(
                Case.status == CaseStatus.OPEN, Case.buyer_chat_id.in_(keys)
            )
        )
    )
    gone = [key - OZON_CHAT_BASE for key in keys if key not in used]
    if not gone:
        return 0
    result = session.execute(delete(OzonBuyerChat).where(OzonBuyerChat.id.in_(gone)))
    return int(getattr(result, "rowcount", 0) or 0)


def ozon_chat_buyer(session: Session, seller_id: str, chat_id: str) -> int | None:
    """The buyer id standing for an Ozon chat handed to staff before, if any."""
    stmt = select(OzonBuyerChat.buyer_id).where(
        OzonBuyerChat.seller_id == seller_id, OzonBuyerChat.chat_id == chat_id
    )
    return session.scalars(stmt).first()
