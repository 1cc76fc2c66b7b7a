"""Normal work under Telegram's own limits: the double answers 429 as Telegram would
(20 messages a minute into a group, short bursts into a private chat, 30 a second for
the bot) and the desk, with its default pacing, never gets one."""

from __future__ import annotations

import time
from pathlib import Path

from sellerdesk.bot.settings import Pacing
from testing.botapi import BotApiDouble
from tests.e2e.conversations.test_case_flows import HANDOFF, open_case
from tests.e2e.harness import SUPPORT, Desk, run_desk, settings_for, shown_lines

OTHER = 5002


def test_cases_answers_and_replies_never_meet_a_429(api: BotApiDouble, tmp_path: Path) -> None:
    api.add_user(OTHER, "Boris", language_code="ru")
    limits = api.telegram_limits()

    async def scenario(desk: Desk) -> None:
        other = Desk(api, buyer=OTHER)
        for buyer in (desk, other):
            await buyer.buyer_asks("/start lotus-wear")
            await buyer.buyer_asks("Сколько идет доставка?")  # an FAQ answer
            buyer.buyer_says(HANDOFF)  # a case: its topic and card, in one burst
        topics = await desk.wait(lambda: api.topics(SUPPORT)[1:] and api.topics(SUPPORT))
        for buyer in (desk, other):
            buyer.buyer_says("И ещё: нужен размер 48")
            buyer.buyer_says("Рост 180")
        # Past the group's burst: paced at 17 a minute, every message arrives.
        # (copied, or folded when both lines of a case waited together)
        await desk.wait(lambda: len(shown_lines(api, SUPPORT)) == 4, 30)
        # Staff answer in several short messages, as people do in messengers: more
        # than a private chat takes in a second, so the ones that wait for its pace go
        # to the buyer as one message, staff's messages its paragraphs, in order.
        before = len(api.messages_in(desk.buyer))
        replies = [f"Ответ {n}" for n in range(6)]
        for text in replies:
            api.member_sends_text(SUPPORT, 700000101, text, topics[0].thread_id)
        api.member_sends_text(SUPPORT, 700000101, "Подберём, минуту", topics[1].thread_id)

        def answer() -> str:
            return "\n\n".join(m.text or "" for m in api.messages_in(desk.buyer)[before:])

        def arrived() -> bool:
            return all(r in answer() for r in replies) and any(
                m.text == "Подберём, минуту" for m in api.messages_in(OTHER)
            )

        await desk.wait(arrived, 15)
        positions = [answer().index(r) for r in replies]
        assert positions == sorted(positions)
        assert len(api.messages_in(desk.buyer)[before:]) < len(replies)

    # Telegram's pacing, not the scenarios' raised one.
    run_desk(api, settings_for(api, tmp_path, pacing=Pacing()), scenario)
    assert [limit.hits for limit in limits] == [0, 0, 0]


def test_a_burst_of_lines_reaches_staff_folded_in_order(api: BotApiDouble, tmp_path: Path) -> None:
    """Ten short lines typed in a few seconds, with the group's allowance spent by the
    case's opening: staff get them all, in order, each with its time, in a few sends
    instead of ten over half a minute."""
    limits = api.telegram_limits()
    lines = [f"и ещё {n}" for n in range(10)]

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)  # the topic and its card: the burst mostly spent
        before = len(api.messages_in(SUPPORT, topic.thread_id))
        started = time.monotonic()
        for line in lines:
            desk.buyer_says(line)

        def shown() -> str:
            texts = [m.text or "" for m in api.messages_in(SUPPORT, topic.thread_id)[before:]]
            return "\n".join(texts) if lines[-1] in "\n".join(texts) else ""

        text = await desk.wait(shown, 20)
        assert time.monotonic() - started < 20
        sent = api.messages_in(SUPPORT, topic.thread_id)[before:]
        assert len(sent) <= 4, [m.text for m in sent]
        # In order, each line once, each folded line with its time.
        positions = [text.index(line) for line in lines]
        assert positions == sorted(positions) and len(set(positions)) == len(lines)
        folded = [m for m in sent if m.copied_from is None]
        assert folded and all(" · и ещё" in (m.text or "") for m in folded)

    run_desk(api, settings_for(api, tmp_path, pacing=Pacing()), scenario)
    assert [limit.hits for limit in limits] == [0, 0, 0]


def test_a_flooding_buyer_holds_no_other_buyers_new_case(api: BotApiDouble, tmp_path: Path) -> None:
    """One buyer pours lines into an open case; another buyer's new case in the same
    group reaches staff within seconds, not behind the flood, and the flood arrives
    whole, folded, in order."""
    api.add_user(OTHER, "Boris", language_code="ru")
    limits = api.telegram_limits()
    flood = [f"флуд {n:03d}." for n in range(150)]

    async def scenario(desk: Desk) -> None:
        await open_case(desk)
        other = Desk(api, buyer=OTHER)
        await other.buyer_asks("/start lotus-wear")
        asked = 0.0
        for n, line in enumerate(flood):
            desk.buyer_says(line)
            if n == 15:
                other.buyer_says(HANDOFF)
                asked = time.monotonic()
        topic = await desk.wait(lambda: api.topics(SUPPORT)[1:], 15)
        await desk.in_topic(topic[0].thread_id, lambda m: HANDOFF in (m.text or ""), 15)
        assert time.monotonic() - asked < 15
        await desk.wait(lambda: len(shown_lines(api, SUPPORT)) >= len(flood), 60)
        assert shown_lines(api, SUPPORT) == flood
        assert len(api.messages_in(SUPPORT, api.topics(SUPPORT)[0].thread_id)) < 15

    run_desk(api, settings_for(api, tmp_path, pacing=Pacing()), scenario)
    assert [limit.hits for limit in limits] == [0, 0, 0]
