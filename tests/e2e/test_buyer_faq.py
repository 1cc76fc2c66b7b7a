"""A buyer's conversation with the real bot, over real HTTP against the Bot API double."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from bot.app import build_application
from bot.settings import Settings
from faq.content import load_content
from tests.botapi import BotApiDouble
from tests.botapi.model import StoredMessage

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sellers"
BUYER = 5001


@pytest.fixture
def api() -> Iterator[BotApiDouble]:
    with BotApiDouble() as double:
        double.add_user(BUYER, "Anna", language_code="ru")
        yield double
        assert not double.internal_errors


Scenario = Callable[[BotApiDouble, "Conversation"], Awaitable[None]]


class Conversation:
    """Say something as the buyer, then wait for the bot's n-th message in the chat."""

    def __init__(self, api: BotApiDouble) -> None:
        self.api = api
        self.seen = 0

    async def reply_to(self, send: Callable[[], object]) -> StoredMessage:
        send()
        self.seen += 1
        return await asyncio.to_thread(self.api.wait_for_message, BUYER, count=self.seen)


def run_bot(api: BotApiDouble, scenario: Callable[[Conversation], Awaitable[None]]) -> None:
    settings = Settings(
        token=api.token,
        api_url=api.url,
        database_url="sqlite://",
        content_dir=DEMO,
        admin_chat_id=None,
        admin_user_ids=frozenset(),
    )

    async def main() -> None:
        app = build_application(settings, load_content(DEMO))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                await scenario(Conversation(api))
            finally:
                await app.updater.stop()
                await app.stop()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_buyer_asks_and_gets_answers(api: BotApiDouble) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    delivery = seller.entry("delivery-time")
    assert delivery is not None

    async def scenario(chat: Conversation) -> None:
        welcome = await chat.reply_to(lambda: api.user_sends_text(BUYER, "/start lotus-wear"))
        assert welcome.text == seller.greeting["ru"]
        answer = await chat.reply_to(
            lambda: api.user_sends_text(BUYER, "Сколько идет доставка из Китая?")
        )
        assert answer.text == delivery.answer["ru"]
        zh_question = delivery.questions["zh"][0]
        zh = await chat.reply_to(lambda: api.user_sends_text(BUYER, zh_question))
        assert zh.text == delivery.answer["zh"]
        sticker = await chat.reply_to(lambda: api.user_sends_sticker(BUYER))
        assert sticker.text == "Пожалуйста, напишите вопрос текстом."
        html = await chat.reply_to(
            lambda: api.user_sends_text(BUYER, "<b>анекдот</b> про котов & собак " * 400)
        )
        assert html.text  # answered as plain text; nothing crashed
        stale = await chat.reply_to(
            lambda: api.user_presses_button(
                BUYER, answer.message_id, "faq:other-shop:x", forged=True
            )
        )
        assert stale.text == "Эта кнопка устарела. Задайте вопрос ещё раз."

    run_bot(api, scenario)


def test_suggestion_button_gives_the_answer(api: BotApiDouble) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]

    async def scenario(chat: Conversation) -> None:
        await chat.reply_to(lambda: api.user_sends_text(BUYER, "/start"))
        offer = await chat.reply_to(lambda: api.user_sends_text(BUYER, "возврат"))
        assert offer.reply_markup is not None, offer.text
        buttons = [row[0] for row in offer.reply_markup["inline_keyboard"]]
        assert 1 <= len(buttons) <= 3
        data = buttons[0]["callback_data"]
        answer = await chat.reply_to(lambda: api.user_presses_button(BUYER, offer, data))
        target = data.split(":", 2)[2]
        entry = seller.entry(target)
        assert entry is not None
        assert answer.text == entry.answer["ru"]

    run_bot(api, scenario)


def test_unknown_seller_link(api: BotApiDouble) -> None:
    async def scenario(chat: Conversation) -> None:
        reply = await chat.reply_to(lambda: api.user_sends_text(BUYER, "/start no-such-shop"))
        assert reply.text is not None and "no-such-shop" in reply.text

    run_bot(api, scenario)
