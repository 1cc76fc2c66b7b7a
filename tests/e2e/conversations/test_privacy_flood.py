"""/forget_me and flood control, over real HTTP against the Bot API double."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sellerdesk.bot.desk import flood
from sellerdesk.bot.desk.flood import BURST_LIMIT, BURST_S, FLOOD_LIMIT, CaseGate, FloodGate
from sellerdesk.bot.i18n.texts import text
from sellerdesk.storage.models import Buyer, Case, CaseStatus, FaqQuestionLog
from testing.botapi import BotApiDouble
from tests.e2e.conversations.test_case_flows import HANDOFF, open_case
from tests.e2e.harness import (
    BUYER,
    SUPPORT,
    Desk,
    open_db,
    run_desk,
    settings_for,
    shown_lines,
)


def test_forget_me_asks_then_forgets_and_tells_staff(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        ask = await desk.buyer_asks("/forget_me")
        assert ask.text == text("forget_confirm", "ru")
        data = [b["callback_data"] for b in ask.buttons]
        assert data == ["forget:yes", "forget:no"]
        # "No" keeps everything.
        desk.api.user_presses_button(BUYER, ask, "forget:no")
        kept = await desk.buyer_gets()
        assert kept.text == text("forget_kept", "ru")
        with open_db(settings) as session:
            assert session.scalar(select(Buyer.telegram_id)) == BUYER
        ask = await desk.buyer_asks("/forget_me")
        desk.api.user_presses_button(BUYER, ask, "forget:yes")
        done = await desk.buyer_gets()
        assert done.text == text("forget_done", "ru")
        note = await desk.in_topic(topic.thread_id, lambda m: "/forget_me" in (m.text or ""))
        assert note.text == text("staff_buyer_forgotten", "ru", number="1")
        assert "Anna" not in (note.text or "") and str(BUYER) not in (note.text or "")

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        buyer = session.scalars(select(Buyer)).one()
        assert buyer.telegram_id is None and buyer.forgotten_at is not None
        case = session.scalars(select(Case)).one()
        assert case.status is CaseStatus.CLOSED and case.subject is None


def test_a_forged_forget_button_is_stale(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        hello = await desk.buyer_asks("/start lotus-wear")
        desk.api.user_presses_button(BUYER, hello, "forget:everyone", forged=True)
        stale = await desk.buyer_gets()
        assert stale.text == text("stale_button", "ru")

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        assert session.scalar(select(Buyer.telegram_id)) == BUYER


def test_a_flood_gets_one_notice_and_loses_nothing(api: BotApiDouble, tmp_path: Path) -> None:
    burst = 2 * FLOOD_LIMIT + 5

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        sent = [desk.buyer_says(f"сообщение {i}") for i in range(burst)]
        expected = [m.text for m in sent]

        def relayed() -> list[str]:
            lines = shown_lines(desk.api, SUPPORT, topic.thread_id)
            return lines if len(lines) >= burst else []

        # Every message once, in the order sent (copied, or folded while the group's
        # allowance was spent).
        assert await desk.wait(relayed, timeout=30) == expected
        notices = [m for m in desk.buyer_messages() if m.text == text("flood_notice", "ru")]
        assert len(notices) == 1

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_flood_gate_notices_once_per_window() -> None:
    now = [1000.0]
    gate = FloodGate(limit=3, window_s=60, clock=lambda: now[0])
    results = [gate.hit(1) for _ in range(10)]
    assert [r is not None for r in results] == [False] * 3 + [True] + [False] * 6
    assert gate.hit(2) is None  # other buyers are counted apart
    now[0] += 61
    assert [gate.hit(1) is not None for _ in range(4)] == [False, False, False, True]


def test_flood_gate_tells_a_burst_or_a_flood_from_typing() -> None:
    now = [1000.0]
    gate = FloodGate(limit=20, window_s=60, clock=lambda: now[0])
    for _ in range(BURST_LIMIT):  # lines typed one after another: not yet a burst
        gate.hit(1)
        now[0] += 0.2
    assert not gate.flooding(1)
    gate.hit(1)
    assert gate.flooding(1)  # one more within BURST_S
    now[0] += BURST_S
    assert not gate.flooding(1)  # the burst is over; 6 a minute is no flood
    for _ in range(20):
        gate.hit(1)
        now[0] += 1.0  # slow, but more than the limit in the window
    assert gate.flooding(1)
    assert not gate.flooding(2)


def test_forget_me_renames_the_topic_and_deletes_the_questions(
    api: BotApiDouble, tmp_path: Path
) -> None:
    settings = settings_for(api, tmp_path)
    question = "Сколько идет доставка? пишите на anna@example.com или +7 912 345-67-89"

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        await desk.buyer_asks(question)
        topic = await open_case(desk)
        first = HANDOFF.split()[0]
        assert first in topic.name  # the subject: the buyer's own words
        with open_db(settings) as session:
            logged = list(session.scalars(select(FaqQuestionLog.question)))
        assert len(logged) == 2
        assert all("anna@example.com" not in q and "345-67-89" not in q for q in logged)
        ask = await desk.buyer_asks("/forget_me")
        desk.api.user_presses_button(BUYER, ask, "forget:yes")
        await desk.buyer_gets()
        renamed = await desk.wait(
            lambda: [t for t in desk.api.topics(desk.support) if first not in t.name]
        )
        assert renamed[0].name.startswith("✅ #1 · Buyer #")

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        assert session.scalar(select(func.count()).select_from(FaqQuestionLog)) == 0


def test_new_cases_are_limited_per_person_even_across_forget_me(
    api: BotApiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Ask, /forget_me, ask" opened a new topic each time: new cases are counted per
    Telegram user, whatever happens in between, and over the limit the buyer is told
    when they can write again."""
    monkeypatch.setattr(flood, "CASE_LIMIT", 2)

    async def scenario(desk: Desk) -> None:
        for n in range(2):
            await desk.buyer_asks("/start lotus-wear")
            await desk.buyer_asks(HANDOFF)  # a case: its number and deadline
            topics = n + 1
            await desk.wait(lambda: len(desk.api.topics(desk.support)) == topics)  # noqa: B023
            ask = await desk.buyer_asks("/forget_me")
            desk.api.user_presses_button(BUYER, ask, "forget:yes")
            await desk.buyer_gets()
        await desk.buyer_asks("/start lotus-wear")
        told = await desk.buyer_asks(HANDOFF)
        assert told.text == text("case_limit", "ru", minutes="60")
        await asyncio.sleep(0.3)
        assert len(desk.api.topics(desk.support)) == 2  # no third topic
        # FAQ answers are not limited.
        answer = await desk.buyer_asks("Сколько идет доставка?")
        assert "дней" in (answer.text or "")

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_case_gate_counts_a_window_per_person() -> None:
    now = [1000.0]
    gate = CaseGate(limit=2, window_s=60, clock=lambda: now[0])
    assert gate.take(1) == 0 and gate.take(1) == 0
    assert gate.take(1) == 60  # the first opened 60 s ago frees a place
    assert gate.take(2) == 0  # another person
    now[0] += 30
    assert gate.take(1) == 30
    now[0] += 30
    assert gate.take(1) == 0  # the first has left the window


def test_a_shared_contact_is_never_relayed_to_staff(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        desk.api.user_sends_contact(BUYER, phone_number="+79123456789", first_name="Anna")
        told = await desk.buyer_gets()
        assert told.text == text("contact_withheld", "ru")
        note = await desk.in_topic(
            topic.thread_id, lambda m: m.text == text("staff_contact_withheld", "ru")
        )
        assert note is not None
        seen = desk.api.messages_in(SUPPORT, from_bot=None)
        assert not any(m.kind == "contact" for m in seen)
        assert not any("79123456789" in (m.text or "") for m in seen)

    run_desk(api, settings, scenario)
