"""The full story, as one conversation over real HTTP: a buyer asks, gets an answer,
asks something else, is handed to staff, sends a photo; staff answer with a template
and a photo, close the case; the buyer rates it and comments. And the story of a
buyer handed to staff outside their working hours."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from sellerdesk.faq.content.hours import WEEKDAYS
from sellerdesk.faq.content.loader import load_content
from sellerdesk.storage.models import Case, CaseMessage, CaseStatus, Direction
from testing.botapi import BotApiDouble
from tests.e2e.harness import BUYER, DEMO, STAFF, SUPPORT, Desk, open_db, run_desk, settings_for

QUESTION = "Можете сшить костюм на заказ для свадьбы?"


def test_full_story(api: BotApiDouble, tmp_path: Path) -> None:
    seller = load_content(DEMO).sellers["lotus-wear"]
    delivery = seller.entry("delivery-time")
    template = next(t for t in seller.templates if t.id == "size-advice")
    assert delivery is not None
    settings = settings_for(api, tmp_path)

    async def scenario(desk: Desk) -> None:
        # The buyer asks and gets an answer at once.
        assert (await desk.buyer_asks("/start lotus-wear")).text == seller.greeting["ru"]
        answer = await desk.buyer_asks("Сколько идет доставка?")
        assert answer.text == delivery.answer["ru"]

        # Something the FAQ does not cover: handed to staff, the buyer told the number.
        question = desk.buyer_says(QUESTION)
        opened = await desk.buyer_gets()  # one message, not "passing it on" and then this
        assert opened.text is not None and opened.text.startswith("Обращение №1 передано")
        assert "UTC" in opened.text

        # Staff see a topic with the alias, the card, and the buyer's own words.
        topic = await desk.topic()
        assert topic.name.startswith("#1 · Buyer #") and "сшить костюм" in topic.name
        card = await desk.in_topic(topic.thread_id, lambda m: "Обращение №1" in (m.text or ""))
        assert [b["text"] for b in card.buttons] == ["Взять", "Закрыть", "Шаблоны"]
        assert "Lotus Wear" in (card.text or "") and QUESTION in (card.text or "")
        assert card.parse_mode == "HTML"
        # The card carries the question whole: no copy of it (one send less into the
        # group), and the buyer's message maps to the card.
        await asyncio.sleep(0.3)
        assert not [m for m in desk.api.messages_in(SUPPORT) if m.copied_from is not None]
        with open_db(settings) as session:
            mapped = session.scalars(
                select(CaseMessage).where(CaseMessage.buyer_message_id == question.message_id)
            ).one()
        assert mapped.staff_message_id == card.message_id

        # The buyer adds a photo with the order number: copied, number attached.
        photo = desk.api.user_sends_photo(BUYER, "Вот фото, заказ 12345678-0001-1")
        photo_copy = await desk.in_topic(
            topic.thread_id, lambda m: m.copied_from == (BUYER, photo.message_id)
        )
        assert photo_copy.kind == "photo" and photo_copy.caption == photo.caption

        # Staff answer with a template, then with a photo replying to the buyer's photo.
        desk.api.member_sends_command(SUPPORT, STAFF, "t", "size-advice", topic.thread_id)
        templated = await desk.buyer_gets()
        assert templated.text == template.text["ru"]
        await desk.in_topic(topic.thread_id, lambda m: "size-advice" in (m.text or ""))
        staff_photo = desk.api.member_sends_photo(
            SUPPORT, STAFF, "Это брак, сделаем замену", topic.thread_id, reply_to=photo_copy
        )
        relayed = await desk.buyer_gets()
        assert relayed.kind == "photo" and relayed.caption == "Это брак, сделаем замену"
        assert relayed.copied_from == (SUPPORT, staff_photo.message_id)
        assert relayed.reply_to == photo.message_id  # threads back to the buyer's photo

        # Close: the topic is renamed and closed, the buyer asked to rate.
        desk.api.member_sends_command(SUPPORT, STAFF, "close", "", topic.thread_id)
        rate = await desk.buyer_gets()
        assert rate.text == "Обращение №1 закрыто. Оцените, пожалуйста, помощь от 1 до 5:"
        assert [b["callback_data"] for b in rate.buttons] == [
            f"rate:{b['callback_data'].split(':')[1]}:{n}" for n, b in enumerate(rate.buttons, 1)
        ]
        await desk.wait(lambda: desk.api.topics(SUPPORT)[0].closed)
        assert desk.api.topics(SUPPORT)[0].name.startswith("✅ #1 · Buyer #")

        # The rating and the comment show in the topic.
        desk.api.user_presses_button(BUYER, rate, rate.buttons[4]["callback_data"])
        thanks = await desk.buyer_gets()
        assert thanks.text is not None and thanks.text.startswith("Спасибо за оценку")
        await desk.in_topic(topic.thread_id, lambda m: "5/5" in (m.text or ""))
        await desk.wait(lambda: not desk.api.message(BUYER, rate.message_id).buttons)
        desk.buyer_says("Спасибо, всё <b>отлично</b>")
        assert (await desk.buyer_gets()).text == "Спасибо, комментарий передан магазину."
        comment = await desk.in_topic(topic.thread_id, lambda m: "отлично" in (m.text or ""))
        assert "<b>отлично</b>" in (comment.text or "")  # shown as written, not as markup

        # Staff never saw who the buyer is.
        for message in desk.api.messages_in(SUPPORT):
            shown = f"{message.text or ''} {message.caption or ''}"
            assert "Anna" not in shown and "anna_secret" not in shown and str(BUYER) not in shown
        assert all("Anna" not in t.name and str(BUYER) not in t.name for t in api.topics(SUPPORT))

    run_desk(api, settings, scenario)

    with open_db(settings) as session:
        case = session.query(Case).one()
        assert case.status is CaseStatus.CLOSED
        assert case.order_numbers == ["12345678-0001-1"]
        assert (case.rating, case.rating_comment) == (5, "Спасибо, всё <b>отлично</b>")
        assert case.first_staff_reply_at is not None and case.awaiting_reply_since is None
        directions = [m.direction for m in session.query(CaseMessage).order_by(CaseMessage.id)]
        assert directions.count(Direction.TO_STAFF) == 2
        assert directions.count(Direction.TO_BUYER) == 1


#: The weekdays as the Russian "back" sentence says them, Monday first.
RU_WEEKDAYS = (
    "в понедельник",
    "во вторник",
    "в среду",
    "в четверг",
    "в пятницу",
    "в субботу",
    "в воскресенье",
)


def test_a_buyer_handed_to_staff_outside_hours_hears_when_they_are_back(
    api: BotApiDouble, tmp_path: Path
) -> None:
    """The demo seller with staff at work on one day only, three days from now: today
    (and tomorrow, should the test cross midnight) is closed, whatever the time."""
    content = tmp_path / "content"
    shutil.copytree(DEMO, content)
    zone = ZoneInfo("Europe/Moscow")
    workday = (datetime.now(zone).date() + timedelta(days=3)).weekday()
    with (content / "lotus-wear" / "seller.yaml").open("a", encoding="utf-8") as out:
        out.write(
            f"timezone: Europe/Moscow\nhours:\n  {WEEKDAYS[workday]}: 09:00-18:00\n"
            "away:\n  ru: Мы ответим в рабочее время.\n  en: We answer in working hours.\n"
        )
    back = (
        "Мы ответим в рабочее время. "
        f"Сотрудники снова на связи {RU_WEEKDAYS[workday]} в 09:00 (время Europe/Moscow)."
    )

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks("/start lotus-wear")
        desk.buyer_says(QUESTION)
        opened = await desk.buyer_gets()  # one message: the case, then when staff are back
        assert opened.text is not None and opened.text.startswith("Обращение №1 передано")
        assert opened.text.endswith("\n\n" + back)
        topic = await desk.topic()
        await desk.in_topic(topic.thread_id, lambda m: QUESTION in (m.text or ""))

        # Staff answer anyway; the buyer's next message starts a new wait: told once.
        desk.staff_says("Посмотрим в рабочий день", topic.thread_id)
        assert (await desk.buyer_gets()).text == "Посмотрим в рабочий день"
        desk.buyer_says("Спасибо, жду")
        assert (await desk.buyer_gets()).text == back
        desk.buyer_says("И ещё: размер L")
        await desk.in_topic(topic.thread_id, lambda m: "размер L" in (m.text or ""))
        await asyncio.sleep(0.3)
        assert [m.text for m in desk.buyer_messages()].count(back) == 1

    settings = settings_for(api, tmp_path, content_dir=content)
    run_desk(api, settings, scenario, content_dir=content)
