"""Returns over real HTTP: the /return flow from request to approval, a disputed
rejection, bad input (order number format, missing photos), /cancel and the flow's
timeout, a double Approve, and the decision deadline's reminder."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from sellerdesk.bot.desk.returns import REASONS
from sellerdesk.faq.content.hours import WEEKDAYS
from sellerdesk.storage.models import Case, CaseKind, ReturnDecision, ReturnRequest, ReturnStep
from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage, TopicRecord
from tests.e2e.harness import (
    ADMIN_CHAT,
    BUYER,
    STAFF,
    SUPPORT,
    Desk,
    open_db,
    run_desk,
    settings_for,
)
from tests.e2e.processes.test_deadlines import sla_content

OTHER_STAFF = 700000102
ORDER = "12345678-0001"


def returns_content(tmp_path: Path, decide: str = "24h", remind: str = "[2h]") -> Path:
    """The demo content with seconds-long return deadlines."""
    content = sla_content(tmp_path, remind, "30s", first="30s")
    seller_yaml = content / "lotus-wear" / "seller.yaml"
    with seller_yaml.open("a", encoding="utf-8") as out:
        out.write(f"returns:\n  decide_within: {decide}\n")
    return content


def bot_says(desk: Desk, needle: str) -> list[StoredMessage]:
    return [m for m in desk.buyer_messages() if m.from_bot and needle in (m.text or "")]


async def buyer_gets_text(desk: Desk, needle: str, count: int = 1) -> StoredMessage:
    """Wait for the ``count``-th bot message to the buyer containing ``needle``."""
    found = await desk.wait(lambda: bot_says(desk, needle)[count - 1 :])
    return found[0]  # type: ignore[no-any-return]


def button(message: StoredMessage, prefix: str) -> str:
    return next(  # type: ignore[no-any-return]
        b["callback_data"] for b in message.buttons if b["callback_data"].startswith(prefix)
    )


async def ask_reason(desk: Desk) -> StoredMessage:
    """The buyer starts the demo shop and /return, gives the order and the product;
    the question of why, with its reason buttons."""
    await desk.buyer_asks("/start lotus-wear")
    desk.buyer_says("/return")
    await buyer_gets_text(desk, "номер заказа")
    desk.buyer_says(ORDER)
    await buyer_gets_text(desk, "название товара")
    desk.buyer_says("Платье миди")
    return await buyer_gets_text(desk, "Почему")


async def file_return(
    desk: Desk, *, reason: str = "defect", comment: str = "Шов разошёлся"
) -> TopicRecord:
    """A buyer files a return (with one photo and a comment); the return's topic."""
    ask = await ask_reason(desk)
    assert len(ask.buttons) == len(REASONS)
    chosen = next(b["callback_data"] for b in ask.buttons if b["callback_data"].endswith(reason))
    desk.api.user_presses_button(BUYER, ask, chosen)
    if reason == "defect":
        await buyer_gets_text(desk, "Пришлите фото")
        desk.api.user_sends_photo(BUYER)
        got = await buyer_gets_text(desk, "Фото получено (1)")
        desk.api.user_presses_button(BUYER, got, button(got, "rdone:"))
    else:
        optional = await buyer_gets_text(desk, "Можете прислать фото")
        desk.api.user_presses_button(BUYER, optional, button(optional, "rdone:"))
    await buyer_gets_text(desk, "комментарий")
    desk.buyer_says(comment)
    await buyer_gets_text(desk, "Заявка на возврат №1 отправлена")
    return await desk.topic()


async def return_card(desk: Desk, topic: TopicRecord) -> StoredMessage:
    return await desk.in_topic(topic.thread_id, lambda m: "Заявка на возврат №1" in (m.text or ""))


def test_return_from_request_to_approval(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says("/return")
        await buyer_gets_text(desk, "номер заказа")
        desk.buyer_says("заказ 12345")  # wrong format: asked again, nothing advances
        await buyer_gets_text(desk, "не похоже на номер заказа")
        desk.buyer_says(ORDER)
        await buyer_gets_text(desk, "название товара")
        desk.buyer_says("Платье миди")
        ask = await buyer_gets_text(desk, "Почему")
        defect = next(b["callback_data"] for b in ask.buttons if b["text"] == "Брак")
        desk.api.user_presses_button(BUYER, ask, defect)
        await buyer_gets_text(desk, "Пришлите фото")
        desk.buyer_says("фото потом")  # photos are required for a defect
        required = await buyer_gets_text(desk, "нужно хотя бы одно фото")
        desk.api.user_presses_button(BUYER, required, button(required, "rdone:"))
        await desk.wait(lambda: len(bot_says(desk, "нужно хотя бы одно фото")) == 1)
        assert not bot_says(desk, "комментарий")  # Done refused without a photo
        desk.api.user_sends_photo(BUYER)
        got = await buyer_gets_text(desk, "Фото получено (1)")
        desk.api.user_presses_button(BUYER, got, button(got, "rdone:"))
        await buyer_gets_text(desk, "комментарий")
        desk.buyer_says("Шов разошёлся")
        await buyer_gets_text(desk, "Заявка на возврат №1 отправлена")
        topic = await desk.topic()
        card = await return_card(desk, topic)
        for expected in (ORDER, "Платье миди", "Брак", "Шов разошёлся"):
            assert expected in (card.text or ""), card.text
        await desk.in_topic(topic.thread_id, lambda m: m.kind == "photo")
        # Two staff press Approve at once: one method menu, the other is told.
        approve = button(card, "rapprove:")
        first = desk.api.member_presses_button(SUPPORT, STAFF, card, approve)
        second = desk.api.member_presses_button(SUPPORT, OTHER_STAFF, card, approve)
        await desk.wait(lambda: desk.api.callback_query(second.id).answered)
        await desk.wait(lambda: desk.api.callback_query(first.id).answered)
        menu = await desk.in_topic(topic.thread_id, lambda m: "Выберите способ" in (m.text or ""))
        await asyncio.sleep(0.3)
        menus = [
            m
            for m in api.messages_in(SUPPORT, topic.thread_id)
            if "Выберите способ" in (m.text or "")
        ]
        assert len(menus) == 1
        # Methods are labelled in the staff's language, not by template ids.
        labels = [b["text"] for b in menus[0].buttons]
        assert "Возврат оформляется через Ozon" in labels and "return-address" not in labels
        notices = [desk.api.callback_query(q.id).answer or {} for q in (first, second)]
        assert any(n.get("text") == "По этой заявке решение уже принято." for n in notices)
        desk.api.member_presses_button(
            SUPPORT, STAFF, menu, "rmethod:" + approve.split(":")[1] + ":return-address"
        )
        approved = await buyer_gets_text(desk, "одобрена")
        assert "Возврат оформляется через Ozon" in (approved.text or "")
        await desk.in_topic(topic.thread_id, lambda m: "одобрил(а) возврат" in (m.text or ""))

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        request = session.scalars(select(ReturnRequest)).one()
        assert request.decision is ReturnDecision.APPROVED
        assert request.method == "return-address" and request.order_number == ORDER
        case = session.scalars(select(Case)).one()
        assert case.kind is CaseKind.RETURN and case.awaiting_reply_since is None


def test_rejected_return_is_disputed_to_the_admin_chat(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await file_return(desk, reason="changed_mind")
        card = await return_card(desk, topic)
        assert "Передумал(а)" in (card.text or "")
        desk.api.member_presses_button(SUPPORT, STAFF, card, button(card, "rreject:"))
        await desk.in_topic(topic.thread_id, lambda m: "причину отказа" in (m.text or ""))
        desk.staff_says("Товар был в употреблении", topic.thread_id)
        rejected = await buyer_gets_text(desk, "отклонена")
        assert "Причина: Товар был в употреблении" in (rejected.text or "")
        # The reason reached the buyer inside the bot's message, not as a copy.
        copies = [m for m in desk.buyer_messages() if m.text == "Товар был в употреблении"]
        assert not copies
        assert not api.messages_in(ADMIN_CHAT)
        desk.api.user_presses_button(BUYER, rejected, button(rejected, "complain:"))
        admin = await desk.wait(lambda: api.messages_in(ADMIN_CHAT))
        assert "№1" in (admin[0].text or "")
        # The dispute's card says what staff said.
        assert "Причина отказа: Товар был в употреблении" in (admin[0].text or "")
        await desk.in_topic(topic.thread_id, lambda m: "отклонил(а)" in (m.text or ""))
        # /cases says what became of the return; the buyer's answer reaches its topic.
        desk.buyer_says("/cases")
        await buyer_gets_text(desk, "в возврате отказано")
        desk.buyer_says("Я им не пользовалась, есть бирки")
        await desk.in_topic(topic.thread_id, lambda m: m.text == "Я им не пользовалась, есть бирки")

    run_desk(api, settings, scenario)


def test_cancel_and_timeout_send_nothing_to_staff(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path, return_flow_timeout_seconds=1.0)

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says("/return")
        await buyer_gets_text(desk, "номер заказа")
        desk.buyer_says(ORDER)
        await buyer_gets_text(desk, "название товара")
        desk.buyer_says("/cancel")
        await buyer_gets_text(desk, "Заявка на возврат отменена")
        desk.buyer_says("/return")
        await buyer_gets_text(desk, "номер заказа", count=2)
        desk.buyer_says(ORDER)
        await buyer_gets_text(desk, "название товара", count=2)
        await asyncio.sleep(1.3)  # silence past the timeout
        desk.buyer_says("Платье миди")
        expired = await buyer_gets_text(desk, "ответа не было")
        assert "/return" in (expired.text or "")
        await asyncio.sleep(0.3)
        assert not bot_says(desk, "Почему")  # the late answer did not move the flow on
        assert not api.topics(SUPPORT) and not api.messages_in(SUPPORT)

    run_desk(api, settings, scenario)
    with open_db(settings) as session:
        steps = sorted(r.step for r in session.scalars(select(ReturnRequest)))
        assert steps == [ReturnStep.CANCELLED, ReturnStep.EXPIRED]
        assert session.scalars(select(Case)).first() is None


def test_return_decision_deadline_reminds_until_decided(api: BotApiDouble, tmp_path: Path) -> None:
    content = returns_content(tmp_path, decide="4s", remind="[1s]")
    settings = settings_for(api, tmp_path, sla_tick_seconds=0.1)

    async def scenario(desk: Desk) -> None:
        topic = await file_return(desk, reason="changed_mind")
        reminder = await desk.in_topic(
            topic.thread_id, lambda m: (m.text or "").startswith("⏰"), timeout=5.0
        )
        # The return's own deadline (4 s), not the seller's reply deadline (30 s).
        assert any(f"осталось {n} с" in (reminder.text or "") for n in (1, 2, 3))
        card = await return_card(desk, topic)
        desk.api.member_presses_button(SUPPORT, STAFF, card, button(card, "rapprove:"))
        await desk.in_topic(topic.thread_id, lambda m: "Выберите способ" in (m.text or ""))
        await asyncio.sleep(4.0)  # past the deadline: decided, so no escalation
        assert not api.messages_in(ADMIN_CHAT)
        assert not [
            m for m in api.messages_in(SUPPORT, topic.thread_id) if (m.text or "").startswith("🚨")
        ]

    run_desk(api, settings, scenario, content_dir=content)


def test_ask_for_more_reaches_the_buyer_and_back(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await file_return(desk, reason="changed_mind")
        card = await return_card(desk, topic)
        desk.api.member_presses_button(SUPPORT, STAFF, card, button(card, "rmore:"))
        await desk.in_topic(topic.thread_id, lambda m: "вопрос покупателю" in (m.text or ""))
        desk.staff_says("Бирки на месте?", topic.thread_id)
        question = await buyer_gets_text(desk, "магазин спрашивает")
        assert "Бирки на месте?" in (question.text or "")
        desk.buyer_says("Да, все бирки на месте")
        await buyer_gets_text(desk, "Ответ передан магазину")
        await desk.in_topic(topic.thread_id, lambda m: m.text == "Да, все бирки на месте")
        assert len(api.topics(SUPPORT)) == 1  # the answer joined the return, no new case

    run_desk(api, settings, scenario)


def test_undecided_return_escalates_at_its_deadline(api: BotApiDouble, tmp_path: Path) -> None:
    content = returns_content(tmp_path, decide="2s", remind="[1s]")
    settings = settings_for(api, tmp_path, sla_tick_seconds=0.1)

    async def scenario(desk: Desk) -> None:
        topic = await file_return(desk, reason="changed_mind")
        # Talking to the buyer is no decision: the clock keeps running.
        desk.staff_says("Посмотрим", topic.thread_id)
        admin = await desk.wait(lambda: api.messages_in(ADMIN_CHAT), timeout=6.0)
        assert "№1" in (admin[0].text or "")

    run_desk(api, settings, scenario, content_dir=content)


def test_a_long_comment_still_gets_the_card_and_its_buttons_to_staff(
    api: BotApiDouble, tmp_path: Path
) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        topic = await file_return(desk, comment="Очень подробно. " * 250)  # 4,000 characters
        card = await return_card(desk, topic)
        assert len(card.text or "") <= 4096
        assert button(card, "rapprove:")

    run_desk(api, settings, scenario)


def test_photos_beyond_an_album_are_not_taken(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        ask = await ask_reason(desk)
        defect = next(b["callback_data"] for b in ask.buttons if b["text"] == "Брак")
        desk.api.user_presses_button(BUYER, ask, defect)
        await buyer_gets_text(desk, "Пришлите фото")
        for n in range(1, 11):
            desk.api.user_sends_photo(BUYER)
            await buyer_gets_text(desk, f"Фото получено ({n})")
        desk.api.user_sends_photo(BUYER)
        enough = await buyer_gets_text(desk, "Фото достаточно (10)")
        desk.api.user_presses_button(BUYER, enough, button(enough, "rdone:"))
        await buyer_gets_text(desk, "комментарий")
        desk.buyer_says("Шов разошёлся")
        await buyer_gets_text(desk, "Заявка на возврат №1 отправлена")
        topic = await desk.topic()
        await return_card(desk, topic)
        photos = await desk.wait(
            lambda: [m for m in desk.api.messages_in(SUPPORT, topic.thread_id) if m.kind == "photo"]
        )
        await asyncio.sleep(0.3)
        assert len(photos) == len(
            [m for m in desk.api.messages_in(SUPPORT, topic.thread_id) if m.kind == "photo"]
        )
        assert len(photos) == 10

    run_desk(api, settings, scenario)


def test_skip_passes_optional_photos_and_explains_steps_it_cannot_skip(
    api: BotApiDouble, tmp_path: Path
) -> None:
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says("/return")
        await buyer_gets_text(desk, "номер заказа")
        desk.buyer_says("/skip")
        await buyer_gets_text(desk, "пропустить нельзя")
        desk.buyer_says(ORDER)
        await buyer_gets_text(desk, "название товара")
        desk.buyer_says("Платье миди")
        ask = await buyer_gets_text(desk, "Почему")
        changed = next(
            b["callback_data"] for b in ask.buttons if "changed_mind" in b["callback_data"]
        )
        desk.api.user_presses_button(BUYER, ask, changed)
        await buyer_gets_text(desk, "Можете прислать фото")
        desk.buyer_says("/skip")  # the photos are optional here
        await buyer_gets_text(desk, "комментарий")
        desk.buyer_says("/skip")
        await buyer_gets_text(desk, "Заявка на возврат №1 отправлена")

    run_desk(api, settings, scenario)


def test_cases_lists_a_return_in_the_buyers_language(api: BotApiDouble, tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        await file_return(desk)
        desk.buyer_says("/language")

        def picker() -> list[StoredMessage]:
            return [
                m
                for m in desk.buyer_messages()
                if any(b["callback_data"] == "lang:en" for b in m.buttons)
            ]

        ask = (await desk.wait(picker))[0]
        desk.api.user_presses_button(BUYER, ask, "lang:en")
        await buyer_gets_text(desk, "English")
        desk.buyer_says("/cases")
        listed = await buyer_gets_text(desk, f"Return {ORDER}")
        assert f"Return {ORDER}" in (listed.text or "")
        assert "awaiting the shop's decision" in (listed.text or "")
        assert "Возврат" not in (listed.text or "")

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_an_album_is_acknowledged_once_without_a_wrong_count(
    api: BotApiDouble, tmp_path: Path
) -> None:
    """Two photos as one album: one acknowledgement, which names no number (it goes
    before the album's second photo is counted); staff get both; a clothing shop's
    buyer can say the size did not fit."""

    async def scenario(desk: Desk) -> None:
        ask = await ask_reason(desk)
        labels = [b["text"] for b in ask.buttons]
        assert "Не подошёл размер" in labels and "Другое" in labels
        size = next(b["callback_data"] for b in ask.buttons if b["text"] == "Не подошёл размер")
        desk.api.user_presses_button(BUYER, ask, size)
        await buyer_gets_text(desk, "Можете прислать фото")
        desk.api.user_sends_album(BUYER, 2)
        got = await buyer_gets_text(desk, "Фото получены")
        await asyncio.sleep(0.3)
        assert len(bot_says(desk, "Фото получен")) == 1
        desk.api.user_presses_button(BUYER, got, button(got, "rdone:"))
        await buyer_gets_text(desk, "комментарий")
        desk.buyer_says("Маломерит")
        await buyer_gets_text(desk, "Заявка на возврат №1 отправлена")
        topic = await desk.topic()
        card = await return_card(desk, topic)
        assert "Не подошёл размер" in (card.text or "")
        photos = await desk.wait(
            lambda: [m for m in desk.api.messages_in(SUPPORT, topic.thread_id) if m.kind == "photo"]
        )
        await asyncio.sleep(0.3)
        assert len([m for m in api.messages_in(SUPPORT, topic.thread_id) if m.kind == "photo"]) == 2
        assert photos

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_a_return_filed_outside_hours_says_when_staff_are_back(
    api: BotApiDouble, tmp_path: Path
) -> None:
    """Staff at work on one day only, three days from now: the return's confirmation
    carries the away text and when staff are back, whatever the time of the run."""
    content = returns_content(tmp_path)
    zone = ZoneInfo("Europe/Moscow")
    workday = WEEKDAYS[(datetime.now(zone).date() + timedelta(days=3)).weekday()]
    with (content / "lotus-wear" / "seller.yaml").open("a", encoding="utf-8") as out:
        out.write(
            f"timezone: Europe/Moscow\nhours:\n  {workday}: 09:00-18:00\n"
            "away:\n  ru: Мы ответим в рабочее время.\n"
        )

    async def scenario(desk: Desk) -> None:
        await file_return(desk)
        filed = await buyer_gets_text(desk, "Заявка на возврат №1 отправлена")
        assert filed.text is not None
        assert "\n\nМы ответим в рабочее время. Сотрудники снова на связи" in filed.text
        assert "в 09:00 (время Europe/Moscow)." in filed.text

    run_desk(api, settings_for(api, tmp_path, content_dir=content), scenario, content_dir=content)
