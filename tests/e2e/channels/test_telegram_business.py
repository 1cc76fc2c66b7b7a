"""Telegram Business: buyers who write to the seller's own Telegram account get FAQ
answers from the bot in that chat, unsure questions open a case as in the bot's chat,
staff replies go back into the business chat, and a person of the account writing
there silences the bot."""

from __future__ import annotations

from pathlib import Path

from sellerdesk.faq.content.loader import load_content
from sellerdesk.storage.models import BusinessChat, FaqQuestionLog
from testing.botapi import BotApiDouble, StoredMessage
from tests.e2e.conversations.test_case_flows import HANDOFF, shows_handoff
from tests.e2e.harness import (
    ADMIN_CHAT,
    BUYER,
    DEMO,
    STAFF,
    SUPPORT,
    Desk,
    open_db,
    run_desk,
    settings_for,
)
from tests.faq.content.test_support_chats import demo_with

#: The seller's own Telegram account.
OWNER = 800000001
OWNER_NAME = "lotus_wear_shop"
CONNECTED = f"telegram_business:\n  account: '@{OWNER_NAME}'\n  quiet_minutes: 30\n"


def _faq() -> tuple[str, str]:
    """A Russian question of the demo FAQ and the start of its answer."""
    seller = load_content(DEMO).sellers["lotus-wear"]
    entry = seller.entry("delivery-time")
    assert entry is not None
    return entry.questions["ru"][0], entry.answer["ru"].split("\n")[0][:30]


def _api() -> BotApiDouble:
    api = BotApiDouble()
    api.add_user(BUYER, "Anna", language_code="ru")
    api.add_user(OWNER, "Lotus", username=OWNER_NAME, started=False)
    api.add_group(SUPPORT, "Lotus Wear support", members=[STAFF])
    api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
    return api


def _admin_texts(api: BotApiDouble) -> list[str]:
    return [m.text or "" for m in api.messages_in(ADMIN_CHAT)]


async def _business_reply(desk: Desk, conn: str, count: int) -> StoredMessage:
    """The ``count``-th bot message in the buyer's business chat."""
    found = await desk.wait(lambda: desk.api.business_messages(conn, BUYER)[count - 1 :])
    return found[0]  # type: ignore[no-any-return]


def test_a_buyer_of_the_business_account_is_answered_and_served_in_that_chat(
    tmp_path: Path,
) -> None:
    content = demo_with(tmp_path, CONNECTED)
    question, answer_start = _faq()
    with _api() as api:

        async def scenario(desk: Desk) -> None:
            conn = api.connect_business(OWNER, username=OWNER_NAME)
            await desk.wait(lambda: [t for t in _admin_texts(api) if OWNER_NAME in t])
            # The buyer also talks to the bot itself: message ids 1.. in both chats.
            await desk.buyer_asks("/start lotus-wear")
            # An FAQ question in the business chat: answered there, on the account's behalf.
            api.buyer_writes_business(conn, BUYER, question)
            answer = await _business_reply(desk, conn, 1)
            assert answer_start in (answer.text or "")
            sends = [c for c in api.calls_to("sendMessage") if c.get("business_connection_id")]
            assert sends and all(c["chat_id"] == BUYER for c in sends)
            assert len(desk.buyer_messages()) == 1  # the bot's own chat: the greeting only
            # An unsure question opens a case; staff read it in their topic.
            api.buyer_writes_business(conn, BUYER, HANDOFF)
            topic = await desk.topic()
            await desk.in_topic(topic.thread_id, shows_handoff)
            opened = await _business_reply(desk, conn, 2)
            assert "№1" in (opened.text or "")
            # Staff's reply and photo reach the business chat (no copy can go there).
            desk.staff_says("Да, сошьём. Пришлите мерки.", topic.thread_id)
            reply = await _business_reply(desk, conn, 3)
            assert reply.text == "Да, сошьём. Пришлите мерки."
            api.member_sends_photo(SUPPORT, STAFF, "Вот ткани", topic.thread_id)
            photo = await _business_reply(desk, conn, 4)
            assert photo.kind == "photo" and photo.caption == "Вот ткани"
            # The buyer's photo reaches the topic, sent anew from the business chat.
            api.buyer_writes_business(conn, BUYER, photo=b"measurements", caption="Мерки")
            got = await desk.in_topic(topic.thread_id, lambda m: m.caption == "Мерки")
            assert got.kind == "photo" and got.copied_from is None
            # The buyer's reply to staff's message stays in the case.
            api.buyer_writes_business(conn, BUYER, "Спасибо!", reply_to=reply.message_id)
            await desk.in_topic(topic.thread_id, lambda m: "Спасибо!" in (m.text or ""))
            assert api.messages_in(BUYER)[1:] == []  # nothing went to the bot's own chat

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)
        with open_db(settings_for(api, tmp_path)) as session:
            # Statistics tell the shop's account apart from the bot's chat.
            logged = {row.channel for row in session.query(FaqQuestionLog)}
            assert logged == {"tg_business"}


def test_a_person_writing_from_the_account_silences_the_bot_in_that_chat(tmp_path: Path) -> None:
    content = demo_with(tmp_path, CONNECTED)
    question, answer_start = _faq()
    other = BUYER + 1
    with _api() as api:
        api.add_user(other, "Oleg", language_code="ru")

        async def scenario(desk: Desk) -> None:
            conn = api.connect_business(OWNER, username=OWNER_NAME)
            await desk.wait(lambda: [t for t in _admin_texts(api) if OWNER_NAME in t])
            api.buyer_writes_business(conn, BUYER, "Здравствуйте")
            await _business_reply(desk, conn, 1)  # small talk
            api.owner_writes_business(conn, BUYER, "Добрый день! Я на связи, спрашивайте.")
            api.buyer_writes_business(conn, BUYER, question)
            # Another buyer's chat is not silenced: their question is answered.
            api.buyer_writes_business(conn, other, question)
            answered = await desk.wait(lambda: api.business_messages(conn, other))
            assert answer_start in (answered[0].text or "")
            assert len(api.business_messages(conn, BUYER)) == 1
            # An open case still gets the buyer's words, and staff see what the person said.
            api.buyer_writes_business(conn, other, HANDOFF)
            topic = await desk.topic()
            api.owner_writes_business(conn, other, "Я сам отвечу, минуту")
            await desk.in_topic(topic.thread_id, lambda m: "Я сам отвечу" in (m.text or ""))
            api.buyer_writes_business(conn, other, "Жду")
            await desk.in_topic(topic.thread_id, lambda m: (m.text or "").endswith("Жду"))

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)
        assert len(api.business_messages(next(iter(api._business_connections)), BUYER)) == 1


def test_connections_no_seller_names_or_that_cannot_reply_are_left_alone(tmp_path: Path) -> None:
    content = demo_with(tmp_path, CONNECTED)
    question, _ = _faq()
    stranger = 800000002
    with _api() as api:
        api.add_user(stranger, "Someone", username="someone_else", started=False)

        async def scenario(desk: Desk) -> None:
            foreign = api.connect_business(stranger, username="someone_else")
            await desk.wait(lambda: [t for t in _admin_texts(api) if "someone_else" in t])
            mute = api.connect_business(OWNER, username=OWNER_NAME, can_reply=False)
            await desk.wait(lambda: [t for t in _admin_texts(api) if OWNER_NAME in t])
            api.buyer_writes_business(foreign, BUYER, question)
            api.buyer_writes_business(mute, BUYER, question)
            # The owner turns replies on: the desk hears it and answers from then on.
            api.connect_business(OWNER, connection_id=mute, username=OWNER_NAME)
            await desk.wait(lambda: len([t for t in _admin_texts(api) if OWNER_NAME in t]) == 2)
            api.buyer_writes_business(mute, BUYER, question)
            await desk.wait(lambda: api.business_messages(mute, BUYER))
            assert api.business_messages(foreign, BUYER) == []
            assert len(api.business_messages(mute, BUYER)) == 1

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)


def test_a_connection_made_while_the_bot_was_down_is_asked_about(tmp_path: Path) -> None:
    content = demo_with(tmp_path, CONNECTED)
    question, answer_start = _faq()
    with _api() as api:
        conn = api.connect_business(OWNER, username=OWNER_NAME, announce=False)

        async def scenario(desk: Desk) -> None:
            api.buyer_writes_business(conn, BUYER, question)
            answer = await _business_reply(desk, conn, 1)
            assert answer_start in (answer.text or "")
            assert api.calls_to("getBusinessConnection")

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)


def test_buttons_in_the_business_chat_work_for_the_buyer_only(tmp_path: Path) -> None:
    content = demo_with(tmp_path, CONNECTED)
    question, _ = _faq()
    with _api() as api:

        async def scenario(desk: Desk) -> None:
            conn = api.connect_business(OWNER, username=OWNER_NAME)
            await desk.wait(lambda: [t for t in _admin_texts(api) if OWNER_NAME in t])
            api.buyer_writes_business(conn, BUYER, question)
            answer = await _business_reply(desk, conn, 1)
            human = answer.buttons[1]["callback_data"]
            # The account's person pressing the buyer's button changes nothing...
            with api._cond:
                chat = api.business_chat(conn, BUYER)
                api._press(chat, api.user(OWNER), answer, human)
            # ...the buyer's press opens a case, told in the business chat.
            api.buyer_presses_business_button(conn, BUYER, answer, human)
            topic = await desk.topic()
            await desk.in_topic(topic.thread_id, lambda m: question in (m.text or ""))
            opened = await _business_reply(desk, conn, 2)
            assert "№1" in (opened.text or "")
            assert len(api.topics(SUPPORT)) == 1

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)
        with open_db(settings_for(api, tmp_path)) as session:
            assert session.query(BusinessChat).count() == 1


def test_the_size_chart_goes_into_the_business_chat_as_one_photo(tmp_path: Path) -> None:
    content = demo_with(tmp_path, CONNECTED)
    entry = load_content(content).sellers["lotus-wear"].entry("size-chart")
    assert entry is not None and entry.media
    with _api() as api:

        async def scenario(desk: Desk) -> None:
            conn = api.connect_business(OWNER, username=OWNER_NAME)
            await desk.wait(lambda: [t for t in _admin_texts(api) if OWNER_NAME in t])
            api.buyer_writes_business(conn, BUYER, "Покажите размерную сетку")
            chart = await _business_reply(desk, conn, 1)
            assert chart.kind == "photo" and chart.caption == entry.answer["ru"]
            assert any(b.get("url") for b in chart.buttons)
            (call,) = api.calls_to("sendPhoto")
            assert call["business_connection_id"] == conn and call["chat_id"] == BUYER
            assert api.messages_in(BUYER) == []  # nothing in the bot's own chat

        run_desk(api, settings_for(api, tmp_path), scenario, content_dir=content)
