"""Which staff group a new case opens in: the buyer's language, then the load; a group
the bot cannot use is passed over (seller.yaml ``support_chats``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.staff_chats import ChatProblem, Problem
from sellerdesk.faq.content.model import Content, Seller, SupportChat
from sellerdesk.storage.repo import buyers, cases

MAIN = -1001000000001
ZH = -1001000000002
MORE = -1001000000003


def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    return db


def _context(seller: Seller) -> DeskContext:
    return DeskContext(FaqAnswers(Content({seller.id: seller}), "fuzzy"), alias_key=b"k")


def _open(db: Database, ctx: DeskContext, seller: Seller, buyer: int, lang: str) -> int:
    with db.transaction() as session:
        row = buyers.get_or_create_buyer(session, buyer, language=lang)
        chat = ctx.staff_group(session, seller, lang)
        cases.open_case(
            session,
            buyer_id=row.id,
            seller_id=seller.id,
            subject="q",
            lang=lang,
            staff_chat_id=chat,
            now=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=buyer),
        )
        return chat


def test_a_new_case_opens_by_language_then_by_load(tmp_path: Path) -> None:
    db = _database(tmp_path)
    seller = Seller(
        id="shop",
        name="Shop",
        support_chat_id=MAIN,
        languages=("ru", "zh", "en"),
        support_chats=(SupportChat(ZH, ("zh",)), SupportChat(MORE)),
    )
    ctx = _context(seller)
    assert _open(db, ctx, seller, 1, "zh") == ZH
    assert _open(db, ctx, seller, 2, "zh") == ZH  # the language decides, not the load
    # Other languages share the main group and the group without languages, by load.
    opened = [_open(db, ctx, seller, 10 + i, "ru") for i in range(4)]
    assert opened == [MAIN, MORE, MAIN, MORE]
    # A group the bot cannot use now is passed over; the main group is the last resort.
    ctx.staff_chats.report(ChatProblem(ZH, Problem.NO_TOPIC_RIGHTS))
    assert _open(db, ctx, seller, 20, "zh") == MAIN
    ctx.staff_chats.report(ChatProblem(MORE, Problem.MISSING))
    assert [_open(db, ctx, seller, 30 + i, "en") for i in range(2)] == [MAIN, MAIN]
    # Without support_chats, every case opens in support_chat_id, with no query.
    plain = Seller(id="plain", name="P", support_chat_id=MAIN, languages=("zh",))
    with db.transaction() as session:
        assert _context(plain).staff_group(session, plain, "zh") == MAIN
