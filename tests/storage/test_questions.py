"""The FAQ question log and its statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from sellerdesk.faq.matching.decision import Action
from sellerdesk.storage.models import ENTRY_ID_LEN, LANG_LEN, FaqQuestionLog, QuestionOutcome
from sellerdesk.storage.repo import questions
from sellerdesk.storage.repo.questions import ActionDayCount, Deflection
from tests.storage.factories import T0

DAY = timedelta(days=1)


def log(
    session: Session,
    action: str,
    at: datetime,
    question: str = "q",
    *,
    seller_id: str = "shop",
    score: float | None = None,
) -> int:
    row = questions.log_question(
        session,
        seller_id=seller_id,
        question=question,
        action=action,
        score=score,
        lang="ru",
        now=at,
    )
    return row.id


def test_handoff_action_matches_the_matcher() -> None:
    assert Action.HANDOFF.value == questions.HANDOFF_ACTION
    assert Action.ANSWER.value == questions.ANSWER_ACTION


def test_log_question_stores_the_decision(session: Session) -> None:
    row = questions.log_question(
        session,
        seller_id="shop",
        question="Какой размер?",
        action="answer",
        best_entry="sizes",
        score=91.5,
        lang="ru",
        now=T0,
    )
    session.commit()
    session.expire_all()
    assert (row.question, row.action, row.best_entry, row.score, row.lang, row.at) == (
        "Какой размер?",
        "answer",
        "sizes",
        91.5,
        "ru",
        T0,
    )
    assert row.outcome is None


def test_log_question_id_stores_the_decision_without_an_object(session: Session) -> None:
    log_id = questions.log_question_id(
        session,
        seller_id="shop",
        question="Сколько идет доставка?",
        action="answer",
        best_entry="x" * 500,
        score=88.0,
        lang="ru-RU-long-tag",
        now=T0,
    )
    assert isinstance(log_id, int)
    # Nothing of the row is kept in the session: the caller only wanted its id.
    assert not [o for o in session.identity_map.values() if isinstance(o, FaqQuestionLog)]
    session.commit()
    row = questions.get_question(session, log_id)
    assert row is not None
    assert (row.seller_id, row.question, row.action, row.score, row.at, row.outcome) == (
        "shop",
        "Сколько идет доставка?",
        "answer",
        88.0,
        T0,
        None,
    )
    # Clipped to their columns, as log_question does.
    assert row.best_entry == "x" * ENTRY_ID_LEN
    assert row.lang == "ru-RU-long-tag"[:LANG_LEN]
    later = questions.log_question_id(session, seller_id="shop", question="q", action="answer")
    assert later > log_id


def test_record_outcome(session: Session) -> None:
    log_id = log(session, "answer", T0)
    assert questions.record_outcome(session, log_id, QuestionOutcome.HELPED)
    assert not questions.record_outcome(session, log_id + 1000, QuestionOutcome.HELPED)


def test_counts_by_action_per_utc_day(session: Session, backend: str) -> None:
    late = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    log(session, "answer", late)
    log(session, "answer", late - timedelta(hours=5))
    log(session, "handoff", late)
    # 01:30 in Moscow on 2 March is still 1 March in UTC.
    log(session, "suggest", datetime(2025, 3, 2, 1, 30, tzinfo=UTC) - timedelta(hours=3))
    log(session, "answer", late + timedelta(hours=1))  # 2 March, UTC
    log(session, "answer", late + timedelta(hours=1), seller_id="other")
    log(session, "answer", late + 5 * DAY)  # outside the window
    if backend == "postgresql":
        # The day must not follow the connection's time zone.
        session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
    counts = questions.counts_by_action_per_day(
        session, datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC), "shop"
    )
    assert counts == [
        ActionDayCount(date(2025, 3, 1), "answer", 2),
        ActionDayCount(date(2025, 3, 1), "handoff", 1),
        ActionDayCount(date(2025, 3, 1), "suggest", 1),
        ActionDayCount(date(2025, 3, 2), "answer", 1),
    ]
    all_sellers = questions.counts_by_action_per_day(
        session, datetime(2025, 3, 2, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC)
    )
    assert all_sellers == [ActionDayCount(date(2025, 3, 2), "answer", 2)]


def test_deflection(session: Session) -> None:
    helped = log(session, "answer", T0)
    unhelpful = log(session, "answer", T0)
    log(session, "answer", T0)  # no feedback: counted as deflected
    log(session, "suggest", T0)
    log(session, "handoff", T0)
    log(session, "handoff", T0, seller_id="other")
    questions.record_outcome(session, helped, QuestionOutcome.HELPED)
    questions.record_outcome(session, unhelpful, QuestionOutcome.NOT_HELPED)
    stats = questions.deflection(session, T0, T0 + DAY, "shop")
    assert stats == Deflection(total=5, handed_off=1, not_helped=1)
    assert stats.deflected == 3
    assert stats.rate == pytest.approx(0.6)
    assert questions.deflection(session, T0, T0 + DAY).total == 6
    empty = questions.deflection(session, T0 + DAY, T0 + 2 * DAY)
    assert (empty.total, empty.rate) == (0, 0.0)


def test_unanswered_questions_are_the_faq_gaps_in_the_order_asked(session: Session) -> None:
    log(session, "handoff", T0, "Где мой заказ?", score=40.0)
    log(session, "suggest", T0 + timedelta(hours=1), "Можно вернуть?", score=45.0)
    not_helped = log(session, "answer", T0 + timedelta(hours=2), "Есть скидка?", score=80.0)
    questions.record_outcome(session, not_helped, QuestionOutcome.NOT_HELPED)
    log(session, "answer", T0, "Какой размер?")  # settled: not a gap
    log(session, "handoff", T0 - DAY, "Old question")  # before `since`
    log(session, "handoff", T0 + DAY, "Next day")  # at `until`: outside
    log(session, "handoff", T0, "Другой магазин", seller_id="other")
    assert questions.unanswered_questions(session, "shop", T0, T0 + DAY) == [
        "Где мой заказ?",
        "Можно вернуть?",
        "Есть скидка?",
    ]
    assert questions.unanswered_questions(session, "shop", T0, T0 + DAY, limit=1) == [
        "Где мой заказ?"
    ]
