"""A buyer's FAQ conversation with the real bot, over real HTTP against the Bot API double."""

from __future__ import annotations

from pathlib import Path

from faq.content import load_content
from tests.botapi import BotApiDouble
from tests.e2e.harness import BUYER, DEMO, Desk, run_desk, settings_for


def test_buyer_asks_and_gets_answers(api: BotApiDouble, tmp_path: Path) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    delivery = seller.entry("delivery-time")
    assert delivery is not None

    async def scenario(desk: Desk) -> None:
        welcome = await desk.buyer_asks("/start lotus-wear")
        assert welcome.text == seller.greeting["ru"]
        answer = await desk.buyer_asks("Сколько идет доставка из Китая?")
        assert answer.text == delivery.answer["ru"]
        labels = [b["text"] for b in answer.buttons]
        assert labels == ["👍 Помогло", "🙋 Связаться с человеком"]
        zh = await desk.buyer_asks(delivery.questions["zh"][0])
        assert zh.text == delivery.answer["zh"]
        desk.api.user_sends_sticker(BUYER)
        sticker = await desk.buyer_gets()
        assert sticker.text == "Пожалуйста, напишите вопрос текстом."
        desk.api.user_sends_location(BUYER)
        location = await desk.buyer_gets()
        assert location.text == "Пожалуйста, напишите вопрос текстом."
        stale = desk.api.user_presses_button(BUYER, answer, "faq:other-shop:x", forged=True)
        assert stale.data == "faq:other-shop:x"
        reply = await desk.buyer_gets()
        assert reply.text == "Эта кнопка устарела. Задайте вопрос ещё раз."
        # Nothing of this reached staff: FAQ answers open no case.
        assert desk.api.topics(desk.support) == []

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_suggestion_button_gives_the_answer(api: BotApiDouble, tmp_path: Path) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start")
        offer = await desk.buyer_asks("возврат")
        assert offer.reply_markup is not None, offer.text
        buttons = [b for b in offer.buttons if b["callback_data"].startswith("faq:")]
        assert 1 <= len(buttons) <= 3
        assert offer.buttons[-1]["text"] == "🙋 Связаться с человеком"
        data = buttons[0]["callback_data"]
        desk.api.user_presses_button(BUYER, offer, data)
        answer = await desk.buyer_gets()
        entry = seller.entry(data.split(":", 2)[2])
        assert entry is not None
        assert answer.text == entry.answer["ru"]

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_unknown_seller_link(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        reply = await desk.buyer_asks("/start no-such-shop")
        assert reply.text is not None and "no-such-shop" in reply.text

    run_desk(api, settings_for(api, tmp_path), scenario)
