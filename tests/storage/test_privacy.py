"""Forgetting a buyer removes personal data and keeps anonymous statistics."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.storage.models import (
    BuyerAlias,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseMessage,
    CaseStatus,
    Direction,
    FaqQuestionLog,
    OutboxMessage,
    ReminderKind,
    ReminderStatus,
)
from sellerdesk.storage.repo import buyers, cases, messages, outbox, privacy, questions, reminders
from tests.storage import factories
from tests.storage.factories import T0

ANN, BOB = 1001, 2002
STAFF_CHAT = -100777


def populate(session: Session) -> tuple[int, int, int]:
    """Ann: a closed rated case and an open one, with messages, outbox rows, reminders.
    Bob: one open case. Returns (ann's closed case, ann's open case, bob's case)."""
    closed = factories.case(session, ANN, subject="Broken zipper")
    cases.update_details(session, closed.id, add_order_number="0001-1")
    cases.rate_case(session, closed.id, 4, "Fast, thanks Ann here", now=T0)
    cases.close_case(session, closed.id, actor="staff:9", now=T0)
    open_case = factories.case(session, ANN, now=T0 + timedelta(days=1), subject="Size?")
    bob_case = factories.case(session, BOB, subject="Bob's question")
    for case, buyer_chat in ((open_case, ANN), (bob_case, BOB)):
        messages.record_message(
            session,
            case.id,
            Direction.TO_STAFF,
            buyer_chat_id=buyer_chat,
            buyer_message_id=1,
            staff_chat_id=STAFF_CHAT,
            staff_message_id=case.id * 100,
        )
        outbox.enqueue(
            session,
            kind="copy_message",
            chat_id=STAFF_CHAT,
            case_id=case.id,
            payload={"from_chat_id": buyer_chat, "message_id": 1},
        )
        outbox.enqueue(session, kind="send_text", chat_id=buyer_chat, payload={"text": "Hi"})
        cases.record_buyer_message(session, case.id, T0)
        reminders.schedule(session, case.id, T0, [(ReminderKind.REMINDER, timedelta(hours=1))])
        cases.add_event(
            session, case.id, "note", actor="buyer", data={"text": "my address"}, now=T0
        )
        buyers.buyer_alias(session, case.buyer_id, "shop", b"key")
    questions.log_question(session, seller_id="shop", question="Size?", action="handoff")
    session.commit()
    return closed.id, open_case.id, bob_case.id


def test_forget_buyer(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        closed_id, open_id, bob_case_id = populate(session)
        ann_id = factories.buyer(session, ANN).id
        session.commit()

    with sessions() as session, session.begin():
        assert privacy.forget_buyer(session, ANN, now=T0 + timedelta(days=2))

    with sessions() as session:
        ann = buyers.get_buyer(session, ann_id)
        assert ann is not None
        assert (ann.telegram_id, ann.username, ann.first_name) == (None, None, None)
        assert ann.forgotten_at == T0 + timedelta(days=2)
        assert buyers.get_buyer_by_telegram_id(session, ANN) is None

        closed, open_case = session.get_one(Case, closed_id), session.get_one(Case, open_id)
        for case in (closed, open_case):
            assert (case.subject, case.order_numbers, case.rating_comment) == (None, [], None)
            assert case.status is CaseStatus.CLOSED
            assert reminders.pending_for_case(session, case.id) == []
            events = cases.list_events(session, case.id)
            assert all(event.data == {} for event in events)
            assert events[-1].kind == CaseEventKind.FORGOTTEN
        # Anonymous facts stay: the rating, the timings, the seller.
        assert (closed.rating, closed.opened_at, closed.seller_id) == (4, T0, "shop")
        assert open_case.closed_at == T0 + timedelta(days=2)

        mappings = session.scalars(select(CaseMessage)).all()
        assert [m.case_id for m in mappings] == [bob_case_id]
        rows = session.scalars(select(OutboxMessage)).all()
        assert {(r.chat_id, r.case_id) for r in rows} == {(STAFF_CHAT, bob_case_id), (BOB, None)}

        # Bob is untouched.
        bob_case = session.get_one(Case, bob_case_id)
        assert (bob_case.subject, bob_case.status) == ("Bob's question", CaseStatus.OPEN)
        assert [r.status for r in reminders.list_for_case(session, bob_case_id)] == [
            ReminderStatus.PENDING
        ]
        bob_events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == bob_case_id))
        assert {"text": "my address"} in [event.data for event in bob_events]

        # Kept: aliases (meaningless without the Telegram id) and the anonymous question log.
        assert len(session.scalars(select(BuyerAlias)).all()) == 2
        assert len(session.scalars(select(FaqQuestionLog)).all()) == 1


def test_a_forgotten_buyer_who_writes_again_is_a_new_buyer(session: Session) -> None:
    old = factories.buyer(session, ANN)
    assert privacy.forget_buyer(session, ANN, now=T0)
    new = factories.buyer(session, ANN)
    assert new.id != old.id
    assert new.forgotten_at is None


def test_forgetting_an_unknown_buyer_is_false(session: Session) -> None:
    assert not privacy.forget_buyer(session, 404)
