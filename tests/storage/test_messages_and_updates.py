"""Message mappings both ways, and handling each Telegram update once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.storage.models import CaseMessage, Direction, ProcessedUpdate
from sellerdesk.storage.repo import messages, updates
from tests.storage import factories
from tests.storage.factories import T0, run_threads

BUYER_CHAT = 1001
STAFF_CHAT = -1001234567890  # supergroup ids are below -10**12: BigInteger


def test_a_relayed_message_is_found_from_either_side(session: Session) -> None:
    case = factories.case(session)
    mapping = messages.record_message(
        session,
        case.id,
        Direction.TO_STAFF,
        buyer_chat_id=BUYER_CHAT,
        buyer_message_id=10,
        staff_chat_id=STAFF_CHAT,
        staff_message_id=500,
        now=T0,
    )
    assert mapping.case_id == case.id
    assert mapping.direction is Direction.TO_STAFF
    assert messages.find_by_buyer_message(session, BUYER_CHAT, 10) is mapping
    assert messages.find_by_staff_message(session, STAFF_CHAT, 500) is mapping
    assert messages.find_by_staff_message(session, STAFF_CHAT, 10) is None
    assert messages.find_by_buyer_message(session, STAFF_CHAT, 500) is None


def test_recording_twice_returns_the_same_mapping(session: Session) -> None:
    case = factories.case(session)
    sides: dict[str, Any] = {
        "buyer_chat_id": BUYER_CHAT,
        "buyer_message_id": 11,
        "staff_chat_id": STAFF_CHAT,
        "staff_message_id": 501,
    }
    first = messages.record_message(session, case.id, Direction.TO_BUYER, **sides)
    second = messages.record_message(session, case.id, Direction.TO_BUYER, **sides)
    assert first.id == second.id
    assert session.scalar(select(func.count()).select_from(CaseMessage)) == 1


def test_each_side_is_unique(session: Session) -> None:
    case = factories.case(session)
    session.add_all(
        [
            CaseMessage(
                case_id=case.id,
                direction=Direction.TO_STAFF,
                staff_chat_id=STAFF_CHAT,
                staff_message_id=7,
                created_at=T0,
            ),
            CaseMessage(
                case_id=case.id,
                direction=Direction.SYSTEM,
                staff_chat_id=STAFF_CHAT,
                staff_message_id=7,
                created_at=T0,
            ),
        ]
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_system_messages_have_one_side(session: Session) -> None:
    case = factories.case(session)
    card = messages.record_message(
        session, case.id, Direction.SYSTEM, staff_chat_id=STAFF_CHAT, staff_message_id=1
    )
    notice = messages.record_message(
        session, case.id, Direction.SYSTEM, buyer_chat_id=BUYER_CHAT, buyer_message_id=2
    )
    assert card.buyer_message_id is None
    assert notice.staff_message_id is None
    assert messages.list_case_messages(session, case.id) == [card, notice]


@pytest.mark.parametrize(
    "sides",
    [
        {},
        {"buyer_chat_id": BUYER_CHAT},
        {"staff_message_id": 3},
        {"buyer_chat_id": BUYER_CHAT, "buyer_message_id": 1, "staff_chat_id": STAFF_CHAT},
    ],
)
def test_incomplete_sides_are_refused(session: Session, sides: dict[str, Any]) -> None:
    case = factories.case(session)
    with pytest.raises(ValueError):
        messages.record_message(session, case.id, Direction.SYSTEM, **sides)


def test_mark_processed_is_true_once(session: Session) -> None:
    assert updates.mark_processed(session, 123_456_789_012, T0)
    assert not updates.mark_processed(session, 123_456_789_012, T0)
    assert updates.mark_processed(session, 123_456_789_013, T0)


def test_a_rolled_back_update_can_be_handled_again(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert updates.mark_processed(session, 5, T0)
        session.rollback()  # the handler failed
    with sessions() as session, session.begin():
        assert updates.mark_processed(session, 5, T0)
    with sessions() as session, session.begin():
        assert not updates.mark_processed(session, 5, T0)


def test_concurrent_deliveries_are_handled_once(sessions: sessionmaker[Session]) -> None:
    results: list[bool] = []

    def deliver(_: int) -> None:
        with sessions() as session, session.begin():
            results.append(updates.mark_processed(session, 42, T0))

    run_threads(4, deliver)
    assert sorted(results) == [False, False, False, True]


def test_purge_processed_keeps_recent_ids(session: Session) -> None:
    for update_id, age in [(1, 10), (2, 3), (3, 0)]:
        updates.mark_processed(session, update_id, T0 - timedelta(days=age))
    assert updates.purge_processed(session, T0 - timedelta(days=2)) == 2
    assert session.scalars(select(ProcessedUpdate.update_id)).all() == [3]
