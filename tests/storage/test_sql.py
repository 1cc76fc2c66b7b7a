"""Rows inserted by a Core statement and handed back as objects of the session."""

from __future__ import annotations

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import FaqQuestionLog, QuestionOutcome
from sellerdesk.storage.repo import questions
from sellerdesk.storage.repo._sql import insert_returning_object
from tests.storage.factories import T0


def _values(question: str) -> dict[str, object]:
    return {
        "seller_id": "shop",
        "buyer_id": None,
        "channel": "telegram",
        "question": question,
        "action": "answer",
        "best_entry": "sizes",
        "score": 90.0,
        "lang": "ru",
        "at": T0,
        "outcome": None,
    }


def test_inserted_row_is_a_clean_persistent_object(session: Session) -> None:
    row = insert_returning_object(session, FaqQuestionLog, questions._INSERT, _values("Размер?"))
    state = inspect(row)
    assert state.persistent
    assert row in session
    # Its values are what the database holds: nothing to write, no second INSERT.
    assert not session.is_modified(row)
    assert not session.new and not session.dirty
    assert (row.question, row.action, row.score, row.at, row.outcome) == (
        "Размер?",
        "answer",
        90.0,
        T0,
        None,
    )
    assert session.get(FaqQuestionLog, row.id) is row
    session.flush()
    count = select(func.count()).select_from(FaqQuestionLog)
    assert session.scalar(count) == 1


def test_a_change_to_an_inserted_row_is_written(session: Session) -> None:
    row = insert_returning_object(session, FaqQuestionLog, questions._INSERT, _values("Цвет?"))
    row.outcome = QuestionOutcome.HELPED
    assert session.is_modified(row)
    session.commit()
    session.expire_all()
    stored = session.scalar(select(FaqQuestionLog.outcome).where(FaqQuestionLog.id == row.id))
    assert stored == QuestionOutcome.HELPED
