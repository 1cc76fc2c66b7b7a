"""Over real HTTP: a question the FAQ cannot answer becomes a case, staff answer it in
the topic, and ``sellerdesk faq gaps`` offers that answer as the draft FAQ entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sellerdesk.cli import main
from testing.botapi import BotApiDouble
from tests.e2e.harness import ADMIN_CHAT, BUYER, DEMO, STAFF, SUPPORT, Desk, run_desk, settings_for

QUESTION = "Можете сшить костюм на заказ для свадьбы?"
ANSWER = "Да, шьём по меркам: пришлите рост, обхват груди, талии и бёдер."


@pytest.fixture
def api() -> Iterator[BotApiDouble]:
    with BotApiDouble() as double:
        double.add_user(BUYER, "Anna", language_code="ru")
        double.add_group(SUPPORT, "Lotus Wear support", is_forum=True, members=[STAFF])
        double.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        yield double
        assert not double.internal_errors


def test_the_staff_answer_in_a_topic_becomes_the_draft(
    api: BotApiDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says(QUESTION)
        await desk.buyer_gets()  # the case number and its deadline
        topic = await desk.topic()
        await desk.in_topic(topic.thread_id, lambda m: QUESTION in (m.text or ""))  # the card
        desk.staff_says(ANSWER, topic.thread_id)
        await desk.buyer_gets()
        desk.staff_says("Что-нибудь еще?", topic.thread_id)
        await desk.buyer_gets()

    run_desk(api, settings, scenario)
    capsys.readouterr()
    args = ["faq", "gaps", "lotus-wear", "--url", settings.database_url]
    assert main([*args, "--content", str(DEMO), "--json"]) == 0
    (draft,) = json.loads(capsys.readouterr().out)
    assert draft["examples"] == [QUESTION] and draft["count"] == 1
    assert (draft["staff_answer"], draft["case_number"]) == (ANSWER, 1)
    assert json.dumps(ANSWER, ensure_ascii=False) in draft["yaml"]
