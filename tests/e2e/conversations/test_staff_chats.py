"""A staff group the bot cannot work in: found at start, told to the admin chat, and
never hidden from the buyer (their case is saved and waits until the group works)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sellerdesk.bot.telegram_io.outbox import delivery
from testing.botapi import BotApiDouble
from tests.e2e.conversations.test_case_flows import HANDOFF, shows_handoff
from tests.e2e.harness import ADMIN_CHAT, BUYER, STAFF, SUPPORT, Desk, run_desk, settings_for


def _admin_texts(api: BotApiDouble) -> list[str]:
    return [m.text or "" for m in api.messages_in(ADMIN_CHAT)]


def test_a_group_without_the_bot_is_reported_and_cases_wait_for_it(
    api: BotApiDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(delivery, "HELD_RETRY_S", 0.5)
    api.set_bot_rights(SUPPORT, status="left")

    async def scenario(desk: Desk) -> None:
        # Found at start: the admin chat says what is wrong and how to fix it.
        problem = await desk.wait(lambda: [t for t in _admin_texts(api) if str(SUPPORT) in t])
        assert "Добавьте бота в группу" in problem[0] and "Lotus Wear" in problem[0]
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says(HANDOFF)
        told = await desk.buyer_gets()
        # The truth: saved, not "passed to the staff".
        assert told.text is not None and "сохранено" in told.text
        assert "недоступны" in told.text
        assert api.messages_in(SUPPORT) == []
        # The bot is added back: the case that waited arrives, in its topic, and the
        # admin chat hears that the group works again.
        api.set_bot_rights(SUPPORT, status="administrator", can_manage_topics=True)
        topic = await desk.topic()
        copy = await desk.in_topic(topic.thread_id, shows_handoff, timeout=10)
        assert copy is not None
        await desk.wait(lambda: [t for t in _admin_texts(api) if "снова принимает" in t])
        assert len([t for t in _admin_texts(api) if "Добавьте бота" in t]) == 1

    with caplog.at_level(logging.ERROR):
        run_desk(api, settings_for(api, tmp_path), scenario)
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"staff chat {SUPPORT}" in line and "add the bot" in line for line in logged)


def test_a_group_with_topics_off_is_reported_and_cases_go_without_topics(
    tmp_path: Path,
) -> None:
    with BotApiDouble() as api:
        api.add_user(BUYER, "Anna", language_code="ru")
        api.add_group(SUPPORT, "Lotus Wear support", is_forum=False, members=[STAFF])
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)

        async def scenario(desk: Desk) -> None:
            await desk.wait(lambda: [t for t in _admin_texts(api) if "выключены темы" in t])
            await desk.buyer_asks("/start lotus-wear")
            desk.buyer_says(HANDOFF)
            told = await desk.buyer_gets()
            assert told.text is not None and told.text.startswith("Обращение №1 передано")
            copy = await desk.in_topic(None, shows_handoff)
            assert copy.thread_id is None  # in the group itself; staff answer by reply
            # Said once, in the check's words, not again as "no right" per case.
            assert not [t for t in _admin_texts(api) if "нет права" in t]

        run_desk(api, settings_for(api, tmp_path), scenario)
