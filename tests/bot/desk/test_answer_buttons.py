"""The buttons of an FAQ answer point at the question's row in the log: pressing them
records the buyer's verdict on that row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sellerdesk.bot.desk.inbound import Press
from sellerdesk.storage.models import FaqQuestionLog, QuestionOutcome
from tests.bot.desk.test_statements import BUYER, QUESTION, SELLER, Desk, desk_on
from tests.storage.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    with desk_on(request.param, tmp_path, "sdbtn") as made:
        yield made


def _answer_buttons(desk: Desk) -> tuple[str, str]:
    desk.start()
    desk.says(QUESTION, message_id=7)
    [row] = desk.handed
    desk.record_sent()
    buttons = row.payload["buttons"]
    return buttons[0][0][1], buttons[1][0][1]


def _logged(desk: Desk) -> FaqQuestionLog:
    with desk.db.transaction() as session:
        [row] = session.query(FaqQuestionLog).all()
        session.expunge(row)
        return row


def _press(desk: Desk, data: str) -> None:
    desk.update_id += 1
    desk.desk.press(Press(desk.update_id, BUYER, BUYER, 8, data, user_lang="ru", reply_to=7))


def test_helped_records_the_outcome_of_the_logged_question(desk: Desk) -> None:
    helped, human = _answer_buttons(desk)
    logged = _logged(desk)
    assert (logged.seller_id, logged.question, logged.action) == (SELLER, QUESTION, "answer")
    assert helped == f"helped:{logged.id}"
    assert human == f"human:{SELLER}:{logged.id}"
    assert logged.outcome is None
    _press(desk, helped)
    assert _logged(desk).outcome == QuestionOutcome.HELPED


def test_talk_to_a_person_records_not_helped(desk: Desk) -> None:
    _, human = _answer_buttons(desk)
    _press(desk, human)
    assert _logged(desk).outcome == QuestionOutcome.NOT_HELPED
