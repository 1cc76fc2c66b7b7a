"""Ozon buyer chats against the Ozon Seller API double: confident FAQ answers go back
into the chat once, the rest goes to staff as a case, and faults, restarts and refusals
lose nothing and double nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sellerdesk.bot.channels import ozon_chats
from sellerdesk.bot.channels.ozon_chats import OzonChats
from sellerdesk.bot.channels.ozon_client import split_text
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content, OzonLink
from sellerdesk.storage.models import Case, FaqQuestionLog, OutboxMessage
from sellerdesk.storage.repo import channels
from testing.ozonapi import OzonApiDouble

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"
ADMIN_CHAT = -1009000000009
KEY_VAR = "OZON_KEY_LOTUS"
KNOWN = "Сколько идет доставка?"
UNSURE = "Можно сшить платье по моим меркам для свадьбы?"


@pytest.fixture
def api() -> Iterator[OzonApiDouble]:
    with OzonApiDouble() as double:
        yield double


def _content(api: OzonApiDouble, *more: tuple[str, str]) -> Content:
    demo = load_content(DEMO)
    lotus = replace(demo.sellers["lotus-wear"], ozon=OzonLink(api.client_id, KEY_VAR))
    sellers = {lotus.id: lotus}
    for seller_id, client_id in more:
        sellers[seller_id] = replace(
            lotus, id=seller_id, name=seller_id, ozon=OzonLink(client_id, f"KEY_{client_id}")
        )
    return Content(sellers=sellers, root=demo.root)


def _desk(tmp_path: Path, api: OzonApiDouble, content: Content | None = None) -> OzonChats:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    ctx = DeskContext(
        FaqAnswers(content or _content(api), "fuzzy"), alias_key=b"k", admin_chat_id=ADMIN_CHAT
    )
    return OzonChats(db, ctx, api.url, rps=1000, env={KEY_VAR: api.api_key})


def _tick(chats: OzonChats) -> int:
    async def run() -> int:
        try:
            return await chats.tick()
        finally:
            await chats.close()

    return asyncio.run(run())


def _answer(chats: OzonChats, question: str) -> str:
    seller = chats.ctx.content.sellers["lotus-wear"]
    return chats._answer(seller, question).text


def test_a_known_question_is_answered_once_and_the_chat_read(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    chats = _desk(tmp_path, api)
    api.buyer_writes("chat-1", KNOWN, order_number="12345678-0001")
    assert _tick(chats) == 1
    assert api.sent_in("chat-1") == split_text(_answer(chats, KNOWN))
    assert api.chats["chat-1"].unread() == []
    assert _tick(chats) == 0
    assert len(api.sent_in("chat-1")) == len(split_text(_answer(chats, KNOWN)))
    with chats.db.transaction() as session:
        logged = session.scalars(select(FaqQuestionLog)).all()
        assert [(q.question, q.action) for q in logged] == [(KNOWN, "answer")]


def test_an_unsure_question_opens_a_case_for_staff(tmp_path: Path, api: OzonApiDouble) -> None:
    chats = _desk(tmp_path, api)
    api.buyer_writes("chat-1", UNSURE, order_number="12345678-0001-1")
    assert _tick(chats) == 0 and api.sent_in("chat-1") == []
    with chats.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.order_numbers == ["12345678-0001-1"] and case.subject == UNSURE
        assert case.buyer_chat_id is not None and channels.is_ozon_chat(case.buyer_chat_id)
        assert case.buyer.telegram_id is None
    assert api.chats["chat-1"].unread() == []  # handed on to staff's case: read
    # The buyer asks something the FAQ knows: answered, and shown in the case as well.
    api.buyer_writes("chat-1", KNOWN)
    assert _tick(chats) == 1 and _tick(chats) == 0
    assert len(api.sent_in("chat-1")) == len(split_text(_answer(chats, KNOWN)))
    with chats.db.transaction() as session:
        to_staff = [r for r in session.scalars(select(OutboxMessage)) if r.chat_id < 0]
    assert any((r.payload.get("content") or {}).get("body") == KNOWN for r in to_staff)
    # Another chat's message is a case of its own.
    api.buyer_writes("chat-2", UNSURE)
    assert _tick(chats) == 0
    with chats.db.transaction() as session:
        assert len(session.scalars(select(Case)).all()) == 2


def test_every_page_of_chats_and_faults_on_the_way_double_nothing(
    tmp_path: Path, api: OzonApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = _desk(tmp_path, api)
    for n in range(5):
        api.buyer_writes(f"chat-{n}", KNOWN)
    api.fail_next(429, retry_after=0.01)
    api.fail_next(500)
    assert _tick(chats) == 5
    parts = len(split_text(_answer(chats, KNOWN)))
    assert all(len(api.sent_in(f"chat-{n}")) == parts for n in range(5))
    assert [p for p, _ in api.requests].count("/v3/chat/list") >= 3  # pages of 2


def test_a_crash_mid_send_is_settled_from_the_history(
    tmp_path: Path, api: OzonApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = _desk(tmp_path, api)
    answer = _answer(chats, KNOWN)
    sent_first = api.buyer_writes("chat-1", KNOWN)
    not_sent = api.buyer_writes("chat-2", KNOWN)
    with chats.db.transaction() as session:
        # The process died after taking both up: chat-1's answer had gone out, chat-2's
        # had not.
        channels.take(session, "lotus-wear", "chat-1", sent_first, channels.ANSWERING, answer)
        channels.take(session, "lotus-wear", "chat-2", not_sent, channels.ANSWERING, answer)
    for part in split_text(answer):
        api._send_message({"chat_id": "chat-1", "text": part})
    restarted = replace_desk(chats, tmp_path, api)
    # Too young to settle (another process may be sending it): nothing goes, and the
    # chats are looked at again on the next pass though nothing new came.
    monkeypatch.setattr(ozon_chats, "SETTLE_AFTER", timedelta(hours=1))

    async def two_passes() -> tuple[int, int]:
        try:
            first = await restarted.tick()
            ozon_chats.SETTLE_AFTER = timedelta(0)
            return first, await restarted.tick()
        finally:
            await restarted.close()

    assert asyncio.run(two_passes()) == (0, 1)
    parts = len(split_text(answer))
    assert len(api.sent_in("chat-1")) == parts and len(api.sent_in("chat-2")) == parts
    with restarted.db.transaction() as session:
        states = channels.taken(session, "lotus-wear", [sent_first, not_sent])
        assert {s for s, _, _ in states.values()} == {channels.ANSWERED}


def replace_desk(chats: OzonChats, tmp_path: Path, api: OzonApiDouble) -> OzonChats:
    """A new process on the same database."""
    return OzonChats(chats.db, chats.ctx, api.url, rps=1000, env={KEY_VAR: api.api_key})


def test_a_closed_reply_window_leaves_the_message_for_staff(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    chats = _desk(tmp_path, api)
    api.buyer_writes("chat-1", KNOWN)
    api.close_window("chat-1")
    assert _tick(chats) == 0
    sends = [p for p, _ in api.requests].count("/v1/chat/send/message")
    assert sends == 1 and _tick(chats) == 0
    assert [p for p, _ in api.requests].count("/v1/chat/send/message") == 1  # not retried


def test_no_premium_or_a_wrong_key_is_told_once_and_other_sellers_go_on(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    content = _content(api, ("other-shop", "999"))
    chats = _desk(tmp_path, api, content)
    chats.env = {KEY_VAR: api.api_key, "KEY_999": "wrong"}
    api.buyer_writes("chat-1", KNOWN)
    assert _tick(chats) == 1  # lotus-wear answered; other-shop's key refused
    api.premium = False
    api.buyer_writes("chat-2", KNOWN)
    chats = replace_desk(chats, tmp_path, api)
    chats.env = {KEY_VAR: api.api_key}  # other-shop's variable gone
    assert _tick(chats) == 0
    assert _tick(chats) == 0  # paused: not asked again meanwhile
    with chats.db.transaction() as session:
        notes = [
            row.dedupe_key or ""
            for row in session.scalars(select(OutboxMessage))
            if row.chat_id == ADMIN_CHAT
        ]
    assert sorted(notes) == sorted(
        [
            notes_key("other-shop", "admin_ozon_key", notes),
            notes_key("lotus-wear", "admin_ozon_denied", notes),
            notes_key("other-shop", "admin_ozon_no_key", notes),
        ]
    )


def notes_key(seller: str, key: str, notes: list[str]) -> str:
    found = [n for n in notes if n.startswith(f"ozon:{seller}:{key}:")]
    assert len(found) == 1, notes
    return found[0]


def test_long_answers_go_in_parts_ozon_takes() -> None:
    text = ("Первая строка ответа.\n" * 80).strip()
    parts = split_text(text)
    assert all(1 <= len(p) <= 1000 for p in parts) and len(parts) == 2
    assert "\n".join(parts) == text
    assert split_text("x" * 2500) == ["x" * 1000, "x" * 1000, "x" * 500]


def test_a_long_unread_run_is_read_page_by_page(tmp_path: Path, api: OzonApiDouble) -> None:
    """More buyer messages than one history page between two looks: none is missed."""
    chats = _desk(tmp_path, api)
    ids = [api.buyer_writes("chat-1", KNOWN) for _ in range(130)]
    assert _tick(chats) == 130
    with chats.db.transaction() as session:
        states = channels.taken(session, "lotus-wear", ids)
    assert len(states) == 130 and {s for s, _, _ in states.values()} == {channels.ANSWERED}
    assert api.chats["chat-1"].unread() == []


def test_stats_count_ozon_questions_apart(tmp_path: Path, api: OzonApiDouble) -> None:
    from datetime import UTC, datetime

    from sellerdesk.bot.reports.stats import format_stats, seller_stats
    from sellerdesk.storage.repo import questions

    chats = _desk(tmp_path, api)
    api.buyer_writes("chat-1", KNOWN)
    api.buyer_writes("chat-2", UNSURE)
    assert _tick(chats) == 1
    with chats.db.transaction() as session:
        questions.log_question_id(session, seller_id="lotus-wear", question="q", action="answer")
        now = datetime.now(UTC)
        stats = seller_stats(session, "lotus-wear", now - timedelta(days=1), now)
    assert stats.channels == {"ozon_chat": (2, 1), "telegram": (1, 1)}
    assert stats.questions == 3
    assert "    Ozon chats: 2 questions, 1 settled" in format_stats(stats)


def test_an_answer_with_a_picture_and_a_link_sends_both_into_the_chat(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    chats = _desk(tmp_path, api)
    seller = chats.ctx.content.sellers["lotus-wear"]
    entry = seller.entry("size-chart")
    assert entry is not None and entry.media and entry.buttons
    api.buyer_writes("chat-s", "Покажите размерную сетку")
    assert _tick(chats) == 1
    sent = "\n".join(api.sent_in("chat-s"))
    # The chat shows no buttons: the link is written out after the answer.
    assert entry.answer["ru"] in sent and entry.buttons[0].url in sent
    assert api.files == [("chat-s", "size-chart.png", entry.media[0].path.read_bytes())]


def test_an_ozon_answer_followed_by_a_request_for_staff_is_not_resolved(
    tmp_path: Path, api: OzonApiDouble
) -> None:
    from datetime import UTC, datetime

    from sellerdesk.storage.repo.stats import faq_resolution

    chats = _desk(tmp_path, api)
    api.buyer_writes("chat-1", KNOWN)  # answered, then the buyer wants a person
    api.buyer_writes("chat-2", KNOWN)  # answered, nothing more
    assert _tick(chats) == 2
    api.buyer_writes("chat-1", UNSURE)
    _tick(chats)
    now = datetime.now(UTC)
    with chats.db.transaction() as session:
        logged = session.scalars(select(FaqQuestionLog).order_by(FaqQuestionLog.id)).all()
        # Each chat is a buyer of its own, the same for all its questions.
        assert logged[0].buyer_id is not None and logged[0].buyer_id != logged[1].buyer_id
        assert logged[2].buyer_id == logged[0].buyer_id
        resolution = faq_resolution(session, "lotus-wear", now - timedelta(hours=1), now)
        later = faq_resolution(
            session, "lotus-wear", now - timedelta(hours=1), now, now=now + timedelta(hours=25)
        )
    assert (resolution.not_resolved, resolution.pending, resolution.untracked) == (1, 1, 0)
    assert (later.not_resolved, later.assumed) == (1, 1)
