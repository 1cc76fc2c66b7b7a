"""Ozon product questions through the running bot: a draft reaches the staff group,
staff send it with a press or answer by replying to it, and the answer is published
on Ozon once."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.botapi import BotApiDouble
from testing.ozonapi import OzonApiDouble
from tests.e2e.channels.ozon_setup import ozon_seller
from tests.e2e.harness import STAFF, SUPPORT, Desk, run_desk

KNOWN = "Сколько идет доставка?"
UNSURE = "Можете сшить костюм на заказ для свадьбы?"


def test_staff_publish_drafts_with_a_press_or_a_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with BotApiDouble() as api, OzonApiDouble() as ozon:
        content, settings = ozon_seller(
            api,
            ozon,
            tmp_path,
            monkeypatch,
            "  chats: false\n  questions: true\n",
            ozon_questions_poll_seconds=0.2,
        )
        known = ozon.buyer_asks(1450023301, KNOWN)
        unsure = ozon.buyer_asks(1450029999, UNSURE)

        async def scenario(desk: Desk) -> None:
            def drafts() -> list:  # type: ignore[type-arg]
                return [m for m in api.messages_in(SUPPORT) if "Ozon" in (m.text or "")]

            found = await desk.wait(lambda: len(drafts()) == 2 and drafts())
            draft = next(m for m in found if KNOWN in (m.text or ""))
            open_question = next(m for m in found if UNSURE in (m.text or ""))
            assert [b["callback_data"].split(":")[1] for b in draft.buttons] == ["send", "reject"]
            # Send: published once; the buttons go.
            api.member_presses_button(SUPPORT, STAFF, draft, draft.buttons[0]["callback_data"])
            await desk.wait(lambda: ozon.answers_to(known))
            await desk.wait(lambda: not api.message(SUPPORT, draft.message_id).buttons)
            # A reply to the other question's message is its answer.
            desk.staff_says(
                "Шьём на заказ, напишите нам в чат магазина.",
                None,
                reply_to=open_question.message_id,
            )
            await desk.wait(lambda: ozon.answers_to(unsure))
            assert ozon.answers_to(unsure) == ["Шьём на заказ, напишите нам в чат магазина."]
            await desk.wait(
                lambda: len([m for m in api.messages_in(SUPPORT) if m.reply_to == draft.message_id])
            )
            assert len(ozon.answers_to(known)) == 1 and len(ozon.answered) == 2

        run_desk(api, settings, scenario, content_dir=content)
