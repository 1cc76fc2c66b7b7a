"""Forgetting a buyer: personal data goes, anonymous statistics stay.

It spans every aggregate that holds buyer data, so it lives in its own module
rather than in any one of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import (
    BUSINESS_CHAT_BASE,
    RETURN_FLOW_STEPS,
    BusinessChat,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseMessage,
    CaseStatus,
    FaqQuestionLog,
    OutboxMessage,
    ReturnRequest,
    ReturnStep,
)
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo._sql import update_rows
from sellerdesk.storage.repo.buyers import get_buyer_by_telegram_id
from sellerdesk.storage.types import utcnow


def forget_buyer(session: Session, telegram_id: int, now: datetime | None = None) -> bool:
    """Erase what ties the desk's records to the person with ``telegram_id``.

    Removed: the Telegram id, username and first name; their chats with sellers'
    Telegram Business accounts; the buyer's case subjects,
    order numbers, rating comments and first staff answers; return requests' order
    numbers, products, comments and photo ids; event details; the message mappings (they
    hold the buyer's chat id), every outbox row to the buyer or about their cases
    (they hold message texts) and the questions they asked the FAQ. Their open cases
    are closed, since the desk can no longer reach them. Kept, anonymous: the buyer
    row (language, dates), cases' timings, statuses, products and ratings, event kinds
    and the per-seller aliases (an HMAC of the internal id, meaningless without the
    Telegram id). A later message from the same person starts a new buyer.

    Returns:
        False if no (unforgotten) buyer has this Telegram id.
    """
    now = now or utcnow()
    buyer = get_buyer_by_telegram_id(session, telegram_id)
    if buyer is None:
        return False
    case_ids = list(session.scalars(select(Case.id).where(Case.buyer_id == buyer.id)))
    open_ids = list(
        session.scalars(
            select(Case.id).where(Case.buyer_id == buyer.id, Case.status == CaseStatus.OPEN)
        )
    )
    for case_id in open_ids:
        # Closing also stops the clock and cancels the case's reminders.
        cases_repo.close_case(session, case_id, actor="system", now=now)

    # The buyer's chats: the bot's own, and their chats with sellers' business accounts.
    business = list(
        session.scalars(select(BusinessChat.id).where(BusinessChat.user_id == telegram_id))
    )
    chats = [telegram_id, *(BUSINESS_CHAT_BASE + row_id for row_id in business)]
    session.execute(
        delete(CaseMessage).where(
            or_(CaseMessage.case_id.in_(case_ids), CaseMessage.buyer_chat_id.in_(chats))
        )
    )
    session.execute(
        delete(OutboxMessage).where(
            or_(OutboxMessage.case_id.in_(case_ids), OutboxMessage.chat_id.in_(chats))
        )
    )
    session.execute(delete(BusinessChat).where(BusinessChat.user_id == telegram_id))
    session.execute(delete(FaqQuestionLog).where(FaqQuestionLog.buyer_id == buyer.id))
    update_rows(
        session,
        Case.id,
        {"subject": None, "order_numbers": [], "rating_comment": None, "first_answer": None},
        Case.id.in_(case_ids),
    )
    update_rows(session, CaseEvent.id, {"data": {}}, CaseEvent.case_id.in_(case_ids))
    # Return requests: what the buyer wrote and their photos' message ids; a flow in
    # progress ends (nobody is left to finish it).
    update_rows(
        session,
        ReturnRequest.id,
        {"order_number": None, "product": None, "comment": None, "photo_ids": []},
        ReturnRequest.buyer_id == buyer.id,
    )
    update_rows(
        session,
        ReturnRequest.id,
        {"step": ReturnStep.CANCELLED},
        ReturnRequest.buyer_id == buyer.id,
        ReturnRequest.step.in_([ReturnStep(s) for s in RETURN_FLOW_STEPS]),
    )
    for case_id in case_ids:
        cases_repo.add_event(session, case_id, CaseEventKind.FORGOTTEN, actor="buyer", now=now)

    buyer.telegram_id = None
    buyer.username = None
    buyer.first_name = None
    buyer.current_seller_id = None
    buyer.current_offer_id = None
    buyer.comment_case_id = None
    buyer.forgotten_at = now
    session.flush()
    return True
