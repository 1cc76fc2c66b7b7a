"""Bad input and Telegram's faults, each handled: what people send that the happy path
does not expect, and what Telegram answers when things go wrong."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import pytest

from sellerdesk.storage.models import Case, CaseEvent, CaseMessage, OutboxMessage, OutboxStatus
from testing.botapi import BotApiDouble
from tests.e2e.conversations.test_case_flows import HANDOFF, open_case, shows_handoff
from tests.e2e.harness import (
    ADMIN_CHAT,
    BUYER,
    STAFF,
    SUPPORT,
    Desk,
    open_db,
    run_desk,
    settings_for,
    shown_lines,
)


def _answered(api: BotApiDouble, query_id: str) -> bool:
    return api.callback_query(query_id).answered


def test_html_and_long_text_are_shown_as_written(api: BotApiDouble, tmp_path: Path) -> None:
    question = "<b>привет</b> & <i>пока</i> *звёзды* _подчерк_ [ссылка](http://x)"
    long_text = "очень длинное сообщение " * 420  # about 10,000 characters

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says(question)
        await desk.buyer_gets()
        topic = await desk.topic()
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        assert question in (card.text or "")  # escaped in HTML: shown literally
        assert question.split(" *")[0] in topic.name
        desk.buyer_says(long_text)
        copy = await desk.in_topic(topic.thread_id, lambda m: m.text == long_text)
        assert copy.copied_from is not None

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_long_question_opens_a_case_with_a_short_card(api: BotApiDouble, tmp_path: Path) -> None:
    long_text = "абв где " * 1250  # 10,000 characters, the FAQ has no answer

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says(long_text)
        await desk.buyer_gets()
        topic = await desk.topic()
        assert len(topic.name) <= 128
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        assert len(card.text or "") < 4096
        # Too long for the card to carry whole: the buyer's own message is copied too.
        await desk.in_topic(topic.thread_id, lambda m: m.copied_from is not None)

    run_desk(api, settings_for(api, tmp_path), scenario)


@pytest.mark.parametrize("caption", ["Пришла порванная куртка", None])
def test_photo_without_a_case_opens_one(
    api: BotApiDouble, tmp_path: Path, caption: str | None
) -> None:
    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        photo = desk.api.user_sends_photo(BUYER, caption)
        opened = await desk.buyer_gets()
        assert opened.text is not None and opened.text.startswith("Обращение №1")
        topic = await desk.topic()
        copy = await desk.in_topic(topic.thread_id, lambda m: m.kind == "photo")
        assert copy.copied_from == (BUYER, photo.message_id) and copy.caption == caption
        if caption:
            assert caption in topic.name

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_edited_message_is_shown_to_staff(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        message = desk.buyer_says("Заказ 1234567-01")
        copy = await desk.in_topic(topic.thread_id, lambda m: m.text == "Заказ 1234567-01")
        desk.api.user_edits(message, "Заказ 12345678-0001")
        note = await desk.in_topic(topic.thread_id, lambda m: "исправил" in (m.text or ""))
        assert note.text == "✏️ Покупатель исправил сообщение:\nЗаказ 12345678-0001"
        assert note.reply_to == copy.message_id
        # A staff edit reaches the buyer as a correction replying to their copy.
        staff = desk.staff_says("Доставим в пятницу", topic.thread_id)
        relayed = await desk.buyer_gets()
        desk.api.user_edits(staff, "Доставим в субботу")
        fixed = await desk.buyer_gets()
        assert fixed.text == "✏️ Исправлено:\nДоставим в субботу"
        assert fixed.reply_to == relayed.message_id

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_old_and_tampered_buttons_act_on_nothing(api: BotApiDouble, tmp_path: Path) -> None:
    other_buyer = 5002
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        desk.api.add_user(other_buyer, "Boris", language_code="ru")
        topic = await open_case(desk)
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        case_id = card.buttons[0]["callback_data"].split(":")[1]
        desk.api.member_sends_command(SUPPORT, STAFF, "close", "", topic.thread_id)
        rate = await desk.buyer_gets()

        # Another buyer forges a rating of this case: refused, nothing stored.
        other = Desk(desk.api, buyer=other_buyer)
        start = await other.buyer_asks("/start lotus-wear")
        desk.api.user_presses_button(other_buyer, start, f"rate:{case_id}:1", forged=True)
        assert (await other.buyer_gets()).text == "Эта кнопка устарела. Задайте вопрос ещё раз."
        # An old Close button on the closed case: no second rating request.
        press = desk.api.member_presses_button(SUPPORT, STAFF, card, f"close:{case_id}")
        await desk.wait(lambda: desk.api.callback_query(press.id).answered)
        assert "закрыто" in (desk.api.callback_query(press.id).answer or {}).get("text", "")
        # Forged staff data: a case that does not exist, garbage.
        for data in ("claim:999", "close:abc", "tsend:999:size-advice", "nonsense"):
            with desk.api._cond:  # a modified client sends data the card never had
                forged = desk.api._press(
                    desk.api.chat(SUPPORT), desk.api.user(STAFF), card, data, forged=True
                )
            await desk.wait(partial(_answered, desk.api, forged.id))
            answer = desk.api.callback_query(forged.id).answer or {}
            assert answer.get("text") == "Эта кнопка устарела. Задайте вопрос ещё раз.", data
        # A suggestion for an entry that no longer exists.
        desk.api.user_presses_button(BUYER, rate, "faq:lotus-wear:gone-entry", forged=True)
        assert (await desk.buyer_gets()).text == "Эта кнопка устарела. Задайте вопрос ещё раз."
        assert (
            len([m for m in desk.buyer_messages() if m.buttons and "rate:" in str(m.buttons)]) == 1
        )

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        case = session.query(Case).one()
        assert case.rating is None
        kinds = [e.kind for e in session.query(CaseEvent).order_by(CaseEvent.id)]
        assert kinds == ["opened", "closed"]


def test_blocked_buyer_staff_are_told(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        desk.api.block_bot(BUYER)
        desk.staff_says("Здравствуйте! Уточните размер", topic.thread_id)
        note = await desk.in_topic(topic.thread_id, lambda m: "⛔" in (m.text or ""))
        assert note.text == "⛔ Покупатель заблокировал бота: сообщения до него не доходят."

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        assert "buyer_blocked" in [e.kind for e in session.query(CaseEvent)]
        failed = session.query(OutboxMessage).filter_by(status=OutboxStatus.FAILED).one()
        assert failed.chat_id == BUYER and "blocked" in (failed.last_error or "")


def test_deleted_topic_is_recreated_and_the_case_continues(
    api: BotApiDouble, tmp_path: Path
) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        desk.api.delete_topic(SUPPORT, topic.thread_id)
        message = desk.buyer_says("Вы меня слышите?")
        new = await desk.topic(1)
        assert new.thread_id != topic.thread_id and new.name == topic.name
        note = await desk.in_topic(new.thread_id, lambda m: "была удалена" in (m.text or ""))
        assert "Обращение №1" in (note.text or "")
        copy = await desk.in_topic(new.thread_id, lambda m: m.text == "Вы меня слышите?")
        assert copy.copied_from == (BUYER, message.message_id)
        desk.staff_says("Слышим!", new.thread_id)
        assert (await desk.buyer_gets()).text == "Слышим!"

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        case = session.query(Case).one()
        assert case.thread_id == api.topics(SUPPORT)[1].thread_id
        assert "topic_recreated" in [e.kind for e in session.query(CaseEvent)]


def test_no_right_to_manage_topics(
    api: BotApiDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api.set_bot_rights(SUPPORT, can_manage_topics=False)

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says(HANDOFF)
        opened = await desk.buyer_gets()
        assert opened.text is not None and opened.text.startswith("Обращение №1")  # still told
        admin = await desk.wait(lambda: desk.api.messages_in(ADMIN_CHAT))
        assert "нет права управлять темами" in (admin[0].text or "")
        await desk.in_topic(None, lambda m: "нет права управлять темами" in (m.text or ""))
        copy = await desk.in_topic(None, shows_handoff)
        assert desk.api.topics(SUPPORT) == []
        # The case goes on without a topic: staff reply to its messages.
        desk.staff_says("Да, шьём", None, reply_to=copy.message_id)
        assert (await desk.buyer_gets()).text == "Да, шьём"

    with caplog.at_level(logging.ERROR, logger="sellerdesk.bot.telegram_io.outbox"):
        run_desk(api, settings_for(api, tmp_path), scenario)
    assert any("cannot create forum topics" in r.getMessage() for r in caplog.records)


def test_flood_control_waits_retry_after(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        # The next send into the group, a copy or (under load) both lines folded.
        desk.api.fail("*", 429, retry_after=1, when=lambda p: p.get("chat_id") == SUPPORT)
        first = desk.buyer_says("первое")
        second = desk.buyer_says("второе")

        def relayed() -> list[str]:
            lines = shown_lines(desk.api, SUPPORT, topic.thread_id)
            return lines if len(lines) == 2 else []

        # In order, despite the wait (the second may fold into the first's retry).
        assert await desk.wait(relayed) == [first.text, second.text]
        refused = [e for e in desk.api.history if e.status == 429]
        assert len(refused) == 1

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_an_update_delivered_twice_is_handled_once(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        message = desk.buyer_says("один раз")
        await desk.in_topic(topic.thread_id, lambda m: m.text == "один раз")
        desk.api.deliver_twice(message)
        desk.buyer_says("потом")
        await desk.in_topic(topic.thread_id, lambda m: m.text == "потом")
        copies = [m for m in desk.api.messages_in(SUPPORT) if m.text == "один раз"]
        assert len(copies) == 1

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        # The card (which carries the first question), 2 copies, the buyer's notice.
        assert session.query(CaseMessage).count() == 4
