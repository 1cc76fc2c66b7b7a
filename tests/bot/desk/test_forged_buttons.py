"""Buttons pressed again, or with data nobody sent: they change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest
from sqlalchemy import func, select

from sellerdesk.bot.desk.answers import ContentSnapshot
from sellerdesk.bot.desk.callbacks import Button, data
from sellerdesk.bot.desk.inbound import Press, PressResult
from sellerdesk.faq.content.model import Content
from sellerdesk.storage.models import Case, OutboxMessage
from sellerdesk.storage.repo import buyers
from sellerdesk.storage.repo import cases as cases_repo
from tests.bot.desk.test_statements import BUYER, SELLER, Desk, desk_on


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_on("sqlite", tmp_path, "sdforged") as made:
        yield made


def _press(desk: Desk, value: str) -> PressResult:
    desk.update_id += 1
    return desk.desk.press(Press(desk.update_id, BUYER, BUYER, 8, value, user_lang="ru"))


def _closed_case(desk: Desk) -> int:
    with desk.db.transaction() as session:
        buyer = buyers.get_or_create_buyer(session, BUYER)
        case, _ = cases_repo.open_case(session, buyer_id=buyer.id, seller_id=SELLER, subject="q")
        assert cases_repo.close_case(session, case.id, actor="staff:1")
        return case.id


def _rows(desk: Desk) -> int:
    with desk.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def test_a_case_is_rated_once_however_often_the_buttons_are_pressed(desk: Desk) -> None:
    case_id = _closed_case(desk)
    _press(desk, data(Button.RATE, case_id, 5))
    rows = _rows(desk)  # the staff note and the buyer's thanks
    again = _press(desk, data(Button.RATE, case_id, 1))
    assert again.remove_buttons
    with desk.db.transaction() as session:
        assert session.get_one(Case, case_id).rating == 5
    assert _rows(desk) == rows  # no second staff note, no second thanks


def test_buttons_of_a_seller_removed_from_the_files_open_no_case(desk: Desk) -> None:
    desk.start()
    live = desk.desk.ctx.faq.live
    content = live.current.content
    # The seller left the files while it still had cases: retired, not offered.
    live.swap(
        ContentSnapshot(
            Content(sellers={}, root=content.root),
            retired=MappingProxyType({SELLER: content.sellers[SELLER]}),
        )
    )
    _press(desk, data(Button.HUMAN, SELLER, 0))
    _press(desk, data(Button.FAQ, SELLER, "delivery-time"))
    _press(desk, data(Button.HUMAN, "never-was", 0))
    with desk.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
