"""Ozon buyer chats with staff: an unsure question opens a case in the staff group,
staff's replies and files go back into the Ozon chat, the chat's later messages reach
the case, and a closed reply window is told to staff instead of retried."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.botapi import BotApiDouble
from testing.ozonapi import OzonApiDouble
from tests.e2e.channels.ozon_setup import ozon_seller
from tests.e2e.harness import STAFF, SUPPORT, Desk, run_desk

KNOWN = "Сколько идет доставка?"
UNSURE = "Можете сшить костюм на заказ для свадьбы?"
ORDER = "87654321-0001-1"


def test_an_unsure_ozon_question_becomes_a_case_staff_answer_in_telegram(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with BotApiDouble() as api, OzonApiDouble() as ozon:
        content, settings = ozon_seller(api, ozon, tmp_path, monkeypatch)

        async def scenario(desk: Desk) -> None:
            ozon.buyer_writes("chat-a", UNSURE, order_number=ORDER)
            topic = await desk.topic()
            card = await desk.in_topic(topic.thread_id, lambda m: UNSURE in (m.text or ""))
            assert ORDER in (card.text or "") and "Ozon" in (card.text or "")
            # The buyer hears in the Ozon chat that people have the question.
            opened = await desk.wait(lambda: ozon.sent_in("chat-a"))
            assert "№1" in opened[0]
            await desk.wait(lambda: not ozon.chats["chat-a"].unread())  # handed on: read
            # Staff answer in the topic: the text, then a photo, reach the Ozon chat.
            desk.staff_says("Да, шьём на заказ. Пришлите мерки.", topic.thread_id)
            await desk.wait(lambda: "Да, шьём на заказ. Пришлите мерки." in ozon.sent_in("chat-a"))
            api.member_sends_photo(SUPPORT, STAFF, "Ткани", topic.thread_id, data=b"fabric")
            await desk.wait(lambda: ozon.files)
            assert ozon.files[0][0] == "chat-a" and ozon.files[0][2] == b"fabric"
            await desk.wait(lambda: "Ткани" in ozon.sent_in("chat-a"))
            # The buyer writes again, even an FAQ question: staff see it in the case.
            ozon.buyer_writes("chat-a", "Рост 170, обхват груди 90")
            await desk.in_topic(topic.thread_id, lambda m: "Рост 170" in (m.text or ""))
            ozon.buyer_writes("chat-a", KNOWN)
            await desk.in_topic(topic.thread_id, lambda m: KNOWN in (m.text or ""))
            # The reply window closes: staff hear it, the message is not retried.
            ozon.close_window("chat-a")
            desk.staff_says("Готово, отправляем.", topic.thread_id)
            await desk.in_topic(topic.thread_id, lambda m: "окно ответа" in (m.text or ""))
            assert "Готово, отправляем." not in ozon.sent_in("chat-a")
            # Another buyer's known question is still answered by the FAQ alone.
            ozon.buyer_writes("chat-b", KNOWN)
            await desk.wait(lambda: ozon.sent_in("chat-b"))
            assert len(api.topics(SUPPORT)) == 1

        run_desk(api, settings, scenario, content_dir=content)
        sent = ozon.sent_in("chat-a")
        assert sent.count("Да, шьём на заказ. Пришлите мерки.") == 1


def test_a_buyers_picture_reaches_the_topic_and_one_ozon_will_not_give_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with BotApiDouble() as api, OzonApiDouble() as ozon:
        content, settings = ozon_seller(api, ozon, tmp_path, monkeypatch)

        async def scenario(desk: Desk) -> None:
            # A picture alone: a case, and the picture itself in the topic.
            ozon.buyer_sends_picture("chat-a", b"\x89PNG defect", "defect.png")
            topic = await desk.topic()
            photo = await desk.in_topic(topic.thread_id, lambda m: m.kind == "photo")
            assert api.file(photo.file_id or "").data == b"\x89PNG defect"
            # One the API will not give: staff read that there was one, and its link.
            ozon.buyer_sends_picture("chat-a", None, "second.jpg")
            note = await desk.in_topic(topic.thread_id, lambda m: "second.jpg" in (m.text or ""))
            assert "📷" in (note.text or "")
            # A link to another host is never fetched with the seller's key.
            ozon.buyer_writes("chat-a", "![x](http://203.0.113.9/steal.jpg)", image=True)
            await desk.in_topic(topic.thread_id, lambda m: "203.0.113.9" in (m.text or ""))
            assert not [p for p, _ in ozon.requests if "steal" in p]

        run_desk(api, settings, scenario, content_dir=content)
