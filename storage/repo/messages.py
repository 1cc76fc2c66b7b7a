"""Message mappings: which staff-chat message is the copy of which buyer-chat message.

Replies thread both ways through them: a staff reply to a copied buyer message is
sent to the buyer as a reply to the original, and vice versa.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import CaseMessage, Direction
from sellerdesk.storage.repo._sql import insert_ignore
from sellerdesk.storage.types import utcnow


def record_message(
    session: Session,
    case_id: int,
    direction: Direction,
    *,
    buyer_chat_id: int | None = None,
    buyer_message_id: int | None = None,
    staff_chat_id: int | None = None,
    staff_message_id: int | None = None,
    now: datetime | None = None,
) -> CaseMessage:
    """Record a relayed message (both sides) or a bot message about the case (one side).

    Idempotent: recording the same message again (a redelivered update, a retried
    send) returns the mapping already stored.

    Raises:
        ValueError: if neither side, or half of a side, is given.
    """
    has_buyer = buyer_chat_id is not None and buyer_message_id is not None
    has_staff = staff_chat_id is not None and staff_message_id is not None
    if (buyer_chat_id is None) != (buyer_message_id is None) or (
        (staff_chat_id is None) != (staff_message_id is None)
    ):
        raise ValueError("a side needs both its chat id and its message id")
    if not (has_buyer or has_staff):
        raise ValueError("a message mapping needs at least one side")
    insert_ignore(
        session,
        CaseMessage,
        {
            "case_id": case_id,
            "direction": direction,
            "buyer_chat_id": buyer_chat_id,
            "buyer_message_id": buyer_message_id,
            "staff_chat_id": staff_chat_id,
            "staff_message_id": staff_message_id,
            "created_at": now or utcnow(),
        },
    )
    found = None
    if buyer_chat_id is not None and buyer_message_id is not None:
        found = find_by_buyer_message(session, buyer_chat_id, buyer_message_id)
    if found is None and staff_chat_id is not None and staff_message_id is not None:
        found = find_by_staff_message(session, staff_chat_id, staff_message_id)
    if found is None:  # cannot happen: either inserted now or the conflicting row exists
        raise RuntimeError("message mapping neither inserted nor found")
    return found


def find_by_buyer_message(session: Session, chat_id: int, message_id: int) -> CaseMessage | None:
    """The mapping of a message in a buyer's chat (to find its copy for a threaded reply)."""
    stmt = select(CaseMessage).where(
        CaseMessage.buyer_chat_id == chat_id, CaseMessage.buyer_message_id == message_id
    )
    return session.scalars(stmt).one_or_none()


def find_by_staff_message(session: Session, chat_id: int, message_id: int) -> CaseMessage | None:
    """The mapping of a message in a staff chat (to find the original for a threaded reply)."""
    stmt = select(CaseMessage).where(
        CaseMessage.staff_chat_id == chat_id, CaseMessage.staff_message_id == message_id
    )
    return session.scalars(stmt).one_or_none()


def list_case_messages(session: Session, case_id: int) -> list[CaseMessage]:
    """All recorded messages of a case, in the order they were relayed."""
    stmt = select(CaseMessage).where(CaseMessage.case_id == case_id).order_by(CaseMessage.id)
    return list(session.scalars(stmt))
