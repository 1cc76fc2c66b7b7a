"""A buyer's FAQ conversation with the real bot, over real HTTP against the Bot API double."""

from __future__ import annotations

from pathlib import Path

from sellerdesk.bot.i18n.texts import text
from sellerdesk.faq.content.loader import load_content
from testing.botapi import BotApiDouble
from tests.e2e.harness import BUYER, DEMO, Desk, run_desk, settings_for


def test_buyer_asks_and_gets_answers(api: BotApiDouble, tmp_path: Path) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    delivery = seller.entry("delivery-time")
    assert delivery is not None

    async def scenario(desk: Desk) -> None:
        welcome = await desk.buyer_asks("/start lotus-wear")
        assert welcome.text == seller.greeting["ru"]
        answer = await desk.buyer_asks("Сколько идет доставка?")
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


def test_question_from_a_product_page_gets_that_products_card(
    api: BotApiDouble, tmp_path: Path
) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    scarf = seller.product("LW-SCF-801")
    delivery = seller.entry("delivery-time")
    assert scarf is not None and delivery is not None

    async def scenario(desk: Desk) -> None:
        welcome = await desk.buyer_asks("/start lotus-wear__LW-SCF-801")
        assert welcome.text is not None and scarf.name in welcome.text
        # The question does not name the product: the deep link does. The scarf is
        # offered first (the bonus orders; only the product's own evidence answers).
        first = await desk.buyer_asks("какой состав?")
        assert first.buttons[0]["callback_data"] == "faq:lotus-wear:product:LW-SCF-801"
        desk.api.user_presses_button(BUYER, first, first.buttons[0]["callback_data"])
        assert (await desk.buyer_gets()).text == scarf.text()
        # "длина" also matches the shoe-size entry: the scarf is still offered first.
        offer = await desk.buyer_asks("а длина какая?")
        data = [b["callback_data"] for b in offer.buttons]
        assert data[0] == "faq:lotus-wear:product:LW-SCF-801", offer.text
        desk.api.user_presses_button(BUYER, offer, data[0])
        pressed = await desk.buyer_gets()
        assert pressed.text == scarf.text()
        # A delivery question asked from the product page still gets the FAQ answer.
        answer = await desk.buyer_asks("Сколько идет доставка?")
        assert answer.text == delivery.answer["ru"]

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_without_a_product_link_the_same_question_gets_no_card(
    api: BotApiDouble, tmp_path: Path
) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    scarf = seller.product("LW-SCF-801")
    assert scarf is not None

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        reply = await desk.buyer_asks("какой состав?")
        assert reply.text != scarf.text()
        data = [b.get("callback_data", "") for b in reply.buttons]
        assert "faq:lotus-wear:product:LW-SCF-801" not in data

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_the_answered_part_of_a_two_question_message_and_a_person_for_the_rest(
    api: BotApiDouble, tmp_path: Path
) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    delivery = seller.entry("delivery-time")
    assert delivery is not None
    message = "Сколько идет доставка? И можно ли вышить имя на платье?"

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        answer = await desk.buyer_asks(message)
        assert answer.text is not None
        assert answer.text.startswith(delivery.answer["ru"])
        assert "«можно ли вышить имя на платье?»" in answer.text
        assert "Связаться с человеком" in answer.text
        human = answer.buttons[1]["callback_data"]
        assert human.startswith("human:lotus-wear:")
        assert desk.api.topics(desk.support) == []
        desk.api.user_presses_button(BUYER, answer, human)
        opened = await desk.buyer_gets()
        assert opened.text is not None and opened.text.startswith("Обращение №1")
        topic = await desk.topic()
        # Staff read the whole message, both questions.
        await desk.in_topic(topic.thread_id, lambda m: m.copied_from is not None)

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_small_talk_gets_a_short_reply_and_never_a_case(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        for said, key, lang in (
            ("Здравствуйте!", "smalltalk_hello", "ru"),
            ("👍", "smalltalk_hello", "ru"),
            ("Большое спасибо!", "smalltalk_thanks", "ru"),
            ("ок", "smalltalk_hello", "ru"),
            ("你好", "smalltalk_hello", "zh"),
            ("thanks a lot", "smalltalk_thanks", "en"),
        ):
            reply = await desk.buyer_asks(said)
            assert reply.text == text(key, lang), said
        # A question after a greeting is still a question.
        answer = await desk.buyer_asks("Добрый день! Сколько идет доставка?")
        assert answer.text is not None and "доставк" in answer.text.lower()
        assert desk.api.topics(desk.support) == []

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_help_explains_every_command_in_the_buyers_language(
    api: BotApiDouble, tmp_path: Path
) -> None:
    async def scenario(desk: Desk) -> None:
        helped = await desk.buyer_asks("/help")  # before choosing a shop
        assert (helped.text or "").startswith(text("help_intro", "ru"))
        for command in ("/cases", "/close", "/return", "/complain", "/language", "/forget_me"):
            assert f"\n{command} — " in (helped.text or ""), command
        await desk.buyer_asks("/language")
        picked = desk.buyer_messages()[-1]
        desk.api.user_presses_button(BUYER, picked, "lang:zh")
        await desk.buyer_gets()
        zh = await desk.buyer_asks("/help")
        assert (zh.text or "").startswith(text("help_intro", "zh"))

    run_desk(api, settings_for(api, tmp_path), scenario)
