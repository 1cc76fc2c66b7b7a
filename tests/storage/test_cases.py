"""Cases: numbering, finding, claiming, closing, the reply clock, ratings, events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.storage.models import (
    Case,
    CaseEventKind,
    CaseStatus,
    Direction,
    ReminderKind,
    ReminderStatus,
)
from sellerdesk.storage.repo import cases, messages, reminders
from tests.storage import factories
from tests.storage.factories import T0, run_threads

SCHEDULE = [
    (ReminderKind.REMINDER, timedelta(minutes=30)),
    (ReminderKind.ESCALATION, timedelta(hours=2)),
]


def test_open_case_numbers_per_seller_and_logs_the_opening(session: Session) -> None:
    first = factories.case(session, telegram_id=1, seller_id="shop")
    second = factories.case(session, telegram_id=2, seller_id="shop")
    elsewhere = factories.case(session, telegram_id=1, seller_id="other")
    assert [first.number, second.number, elsewhere.number] == [1, 2, 1]
    assert first.status is CaseStatus.OPEN
    assert first.opened_at == T0
    assert first.order_numbers == []
    assert first.buyer.telegram_id == 1
    events = cases.list_events(session, first.id)
    assert [(e.kind, e.actor) for e in events] == [(CaseEventKind.OPENED, "buyer")]


def test_open_case_returns_the_open_one(session: Session) -> None:
    buyer = factories.buyer(session)
    opened, created = cases.open_case(
        session,
        buyer_id=buyer.id,
        seller_id="shop",
        subject="Размер?" * 100,
        lang="ru",
        offer_id="OZ-1",
        order_numbers=["12345-0001"],
        now=T0,
    )
    assert created
    assert opened.subject is not None and len(opened.subject) == 255
    assert (opened.lang, opened.offer_id, opened.order_numbers) == ("ru", "OZ-1", ["12345-0001"])
    again, created_again = cases.open_case(session, buyer_id=buyer.id, seller_id="shop")
    assert (again.id, created_again) == (opened.id, False)


def test_a_closed_case_makes_room_for_a_new_one(session: Session) -> None:
    first = factories.case(session)
    assert cases.close_case(session, first.id, actor="staff:5", now=T0)
    second = factories.case(session)
    assert second.id != first.id
    assert second.number == 2


def test_the_database_allows_one_open_case_per_buyer_and_seller(session: Session) -> None:
    case = factories.case(session)
    session.add(
        Case(seller_id="shop", number=99, buyer_id=case.buyer_id, opened_at=T0),
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_concurrent_openings_give_one_case(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        buyer_id = factories.buyer(session).id
    opened: list[tuple[int, bool]] = []

    def open_one(_: int) -> None:
        with sessions() as session, session.begin():
            case, created = cases.open_case(session, buyer_id=buyer_id, seller_id="shop", now=T0)
            opened.append((case.id, created))

    run_threads(4, open_one)
    assert len({case_id for case_id, _ in opened}) == 1
    assert sum(created for _, created in opened) == 1
    with sessions() as session:
        # The losers' case numbers were given back: the next case is number 2.
        assert factories.case(session, telegram_id=2).number == 2


def test_concurrent_openings_for_one_seller_get_distinct_numbers(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        buyer_ids = [factories.buyer(session, telegram_id=100 + i).id for i in range(6)]

    def open_one(index: int) -> None:
        with sessions() as session, session.begin():
            cases.open_case(session, buyer_id=buyer_ids[index], seller_id="shop", now=T0)

    run_threads(6, open_one)
    with sessions() as session:
        numbers = sorted(session.scalars(select(Case.number)))
    assert numbers == [1, 2, 3, 4, 5, 6]


def test_lookups(session: Session) -> None:
    case = factories.case(session, telegram_id=1)
    other = factories.case(session, telegram_id=2)
    assert cases.get_case(session, case.id) is case
    assert cases.get_case_by_number(session, "shop", 2) is other
    assert cases.get_case_by_number(session, "shop", 3) is None
    assert cases.find_open_case(session, case.buyer_id, "shop") is case
    assert cases.find_open_case(session, case.buyer_id, "other") is None


def test_find_case_by_thread(session: Session) -> None:
    case = factories.case(session)
    cases.set_topic(session, case.id, -100123, 77)
    assert cases.find_case_by_thread(session, -100123, 77) is case
    assert cases.find_case_by_thread(session, -100123, 78) is None
    cases.set_topic(session, case.id, -100123, 78)  # the topic was recreated
    assert cases.find_case_by_thread(session, -100123, 78) is case


def test_plain_group_cases_have_no_thread(session: Session) -> None:
    first = factories.case(session, telegram_id=1)
    second = factories.case(session, telegram_id=2)
    cases.set_topic(session, first.id, -100123, None)
    cases.set_topic(session, second.id, -100123, None)
    session.flush()  # NULL threads do not collide in the unique constraint
    assert first.thread_id is None


def test_find_case_by_messages_on_either_side(session: Session) -> None:
    case = factories.case(session)
    messages.record_message(
        session,
        case.id,
        Direction.TO_STAFF,
        buyer_chat_id=1001,
        buyer_message_id=10,
        staff_chat_id=-100123,
        staff_message_id=500,
    )
    messages.record_message(
        session, case.id, Direction.SYSTEM, staff_chat_id=-100123, staff_message_id=499
    )
    assert cases.find_case_by_staff_message(session, -100123, 500) is case
    assert cases.find_case_by_staff_message(session, -100123, 499) is case
    assert cases.find_case_by_staff_message(session, -100123, 501) is None
    assert cases.find_case_by_buyer_message(session, 1001, 10) is case
    assert cases.find_case_by_buyer_message(session, 1001, 11) is None


def test_list_buyer_cases_newest_first(session: Session) -> None:
    buyer = factories.buyer(session)
    opened = []
    for day, seller in enumerate(["a", "b", "a"]):
        now = T0 + timedelta(days=day)
        case, _ = cases.open_case(session, buyer_id=buyer.id, seller_id=seller, now=now)
        cases.close_case(session, case.id, actor="system", now=now)
        opened.append(case.id)
    assert [c.id for c in cases.list_buyer_cases(session, buyer.id)] == opened[::-1]
    assert [c.id for c in cases.list_buyer_cases(session, buyer.id, seller_id="a")] == [
        opened[2],
        opened[0],
    ]
    assert len(cases.list_buyer_cases(session, buyer.id, limit=1)) == 1


def test_list_open_cases_oldest_first(session: Session) -> None:
    late = factories.case(session, telegram_id=1, now=T0 + timedelta(hours=1))
    early = factories.case(session, telegram_id=2, now=T0)
    closed = factories.case(session, telegram_id=3)
    other_seller = factories.case(session, telegram_id=4, seller_id="other")
    cases.close_case(session, closed.id, actor="system")
    assert [c.id for c in cases.list_open_cases(session, "shop")] == [early.id, late.id]
    assert len(cases.list_open_cases(session)) == 3
    assert other_seller in cases.list_open_cases(session)


def test_update_details(session: Session) -> None:
    case = factories.case(session)
    cases.update_details(session, case.id, offer_id="OZ-9", add_order_number="111")
    cases.update_details(session, case.id, add_order_number="222", subject="New subject")
    cases.update_details(session, case.id, add_order_number="111")
    session.commit()
    session.expire_all()
    fresh = cases.get_case(session, case.id)
    assert fresh is not None
    assert (fresh.offer_id, fresh.subject) == ("OZ-9", "New subject")
    assert fresh.order_numbers == ["111", "222"]


def test_claim_has_one_winner_until_released(session: Session) -> None:
    case = factories.case(session)
    assert cases.claim_case(session, case.id, 11, now=T0)
    assert cases.claim_case(session, case.id, 11, now=T0)  # already theirs
    assert not cases.claim_case(session, case.id, 22, now=T0)
    assert case.claimed_by == 11
    assert cases.claim_case(session, case.id, 22, force=True, now=T0)
    assert case.claimed_by == 22
    assert cases.unclaim_case(session, case.id, actor="staff:22")
    assert not cases.unclaim_case(session, case.id, actor="staff:22")
    assert case.claimed_by is None
    kinds = [e.kind for e in cases.list_events(session, case.id)]
    assert kinds == ["opened", "claimed", "claimed", "claimed", "unclaimed"]


def test_closed_cases_cannot_be_claimed(session: Session) -> None:
    case = factories.case(session)
    cases.close_case(session, case.id, actor="system")
    assert not cases.claim_case(session, case.id, 11)


def test_close_stops_the_clock_and_cancels_reminders(session: Session) -> None:
    case = factories.case(session)
    assert cases.record_buyer_message(session, case.id, T0)
    reminders.schedule(session, case.id, T0, SCHEDULE, now=T0)
    assert cases.close_case(session, case.id, actor="staff:5", now=T0 + timedelta(hours=1))
    assert not cases.close_case(session, case.id, actor="staff:5")
    assert case.status is CaseStatus.CLOSED
    assert case.closed_at == T0 + timedelta(hours=1)
    assert case.awaiting_reply_since is None
    statuses = {r.status for r in reminders.list_for_case(session, case.id)}
    assert statuses == {ReminderStatus.CANCELLED}
    assert cases.list_events(session, case.id)[-1].actor == "staff:5"


def test_reopen(session: Session) -> None:
    case = factories.case(session)
    assert not cases.reopen_case(session, case.id, actor="buyer")  # open already
    cases.close_case(session, case.id, actor="system", now=T0)
    assert cases.reopen_case(session, case.id, actor="buyer", now=T0 + timedelta(minutes=1))
    assert case.status is CaseStatus.OPEN
    assert case.closed_at is None
    assert cases.list_events(session, case.id)[-1].kind == CaseEventKind.REOPENED


def test_reopen_refused_while_another_case_is_open(session: Session) -> None:
    old = factories.case(session)
    cases.close_case(session, old.id, actor="system")
    factories.case(session)  # a newer open case with the same seller
    assert not cases.reopen_case(session, old.id, actor="buyer")
    session.refresh(old)
    assert old.status is CaseStatus.CLOSED
    session.flush()  # the session is still usable


def test_reply_clock_starts_once_and_staff_reply_stops_it(session: Session) -> None:
    case = factories.case(session)
    assert cases.record_buyer_message(session, case.id, T0)
    assert not cases.record_buyer_message(session, case.id, T0 + timedelta(minutes=5))
    assert case.awaiting_reply_since == T0  # the oldest unanswered message counts
    assert case.last_buyer_message_at == T0 + timedelta(minutes=5)
    reminders.schedule(session, case.id, T0, SCHEDULE, now=T0)

    assert cases.record_staff_reply(session, case.id, T0 + timedelta(minutes=10))
    assert case.awaiting_reply_since is None
    assert case.first_staff_reply_at == T0 + timedelta(minutes=10)
    assert reminders.pending_for_case(session, case.id) == []

    assert cases.record_buyer_message(session, case.id, T0 + timedelta(minutes=20))
    assert case.awaiting_reply_since == T0 + timedelta(minutes=20)
    assert not cases.record_staff_reply(session, case.id, T0 + timedelta(minutes=30))
    assert case.first_staff_reply_at == T0 + timedelta(minutes=10)
    assert case.last_staff_message_at == T0 + timedelta(minutes=30)


def test_clock_helpers(session: Session) -> None:
    case = factories.case(session)
    assert cases.start_reply_clock(session, case.id, T0)
    assert not cases.start_reply_clock(session, case.id, T0 + timedelta(minutes=1))
    assert cases.clear_reply_clock(session, case.id)
    assert not cases.clear_reply_clock(session, case.id)
    cases.close_case(session, case.id, actor="system")
    assert not cases.start_reply_clock(session, case.id, T0)  # closed cases have no clock


def test_concurrent_buyer_messages_start_the_clock_once(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        case_id = factories.case(session).id
    started: list[bool] = []

    def message(index: int) -> None:
        with sessions() as session, session.begin():
            started.append(
                cases.record_buyer_message(session, case_id, T0 + timedelta(seconds=index))
            )

    run_threads(4, message)
    assert sorted(started) == [False, False, False, True]


def test_rate_case(session: Session) -> None:
    case = factories.case(session)
    cases.rate_case(session, case.id, 5, "Спасибо!", now=T0)
    assert (case.rating, case.rating_comment, case.rated_at) == (5, "Спасибо!", T0)
    cases.rate_case(session, case.id, 4)
    assert (case.rating, case.rating_comment) == (4, "Спасибо!")
    events = [e for e in cases.list_events(session, case.id) if e.kind == CaseEventKind.RATED]
    assert [e.data for e in events] == [{"rating": 5}, {"rating": 4}]
    for bad in (0, 6):
        with pytest.raises(ValueError):
            cases.rate_case(session, case.id, bad)


def test_the_database_checks_the_rating_range(session: Session) -> None:
    case = factories.case(session)
    case.rating = 6
    with pytest.raises(IntegrityError):
        session.flush()


def test_events_keep_order_and_data(session: Session) -> None:
    case = factories.case(session)
    cases.add_event(
        session, case.id, "reminded", actor="system", data={"step": 0, "text": "好"}, now=T0
    )
    cases.add_event(session, case.id, "note", now=T0 + timedelta(seconds=1))
    session.commit()
    session.expire_all()
    events = cases.list_events(session, case.id)
    assert [e.kind for e in events] == ["opened", "reminded", "note"]
    assert events[1].data == {"step": 0, "text": "好"}
    assert events[2].data == {}
    assert events[2].actor is None
    with pytest.raises(ValueError):
        cases.add_event(session, case.id, "k" * 40)


def test_buyers_relationship_is_loaded_with_the_case(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        case_id = factories.case(session, telegram_id=31337).id
    with sessions() as session:
        case = cases.get_case(session, case_id)
    assert case is not None
    # Detached now: the buyer was loaded with the case, no lazy load needed.
    assert case.buyer.telegram_id == 31337
