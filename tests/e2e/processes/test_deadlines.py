"""Reply deadlines over real HTTP, with durations of seconds: reminders in the topic,
the escalation to the admin chat, a staff reply stopping them, restarts and a clock
that jumps, complaints and an admin's takeover."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from sqlalchemy import select

from sellerdesk.storage.models import (
    Case,
    CaseMessage,
    OutboxMessage,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from testing.botapi import BotApiDouble
from testing.botapi.model import TopicRecord
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

HANDOFF = "Можете сшить костюм на заказ для свадьбы?"
#: Sweeps every 0.1 s: reminders due in seconds arrive within a tenth of one.
TICK_S = 0.1
ADMIN = 900000001
#: Text that starts every reminder in the (Russian-speaking) demo topic.
REMINDER = "⏰"
ESCALATED = "🚨"


def sla_content(tmp_path: Path, remind: str, escalate: str, first: str | None = None) -> Path:
    """The demo content with the seller's ``sla`` block set to seconds."""
    content = tmp_path / "content"
    shutil.copytree(DEMO, content)
    seller_yaml = content / "lotus-wear" / "seller.yaml"
    text = seller_yaml.read_text(encoding="utf-8")
    start = text.index("sla:")
    end = text.index("escalate_after:", start)
    end = text.index("\n", end) + 1
    block = (
        f"sla:\n  first_reply: {first or escalate}\n  remind_after: {remind}\n"
        f"  escalate_after: {escalate}\n"
    )
    seller_yaml.write_text(text[:start] + block + text[end:], encoding="utf-8")
    return content


def notices_in(desk: Desk, topic: TopicRecord) -> list[str]:
    """The bot's notices in the topic, in order: each message's paragraphs (notices of
    a case waiting together go as one message, joined by blank lines)."""
    return [
        paragraph
        for m in desk.api.messages_in(SUPPORT, topic.thread_id)
        for paragraph in (m.text or "").split("\n\n")
    ]


def reminders_in(desk: Desk, topic: TopicRecord) -> list[str]:
    return [p for p in notices_in(desk, topic) if p.startswith(REMINDER)]


def escalations_in(desk: Desk, topic: TopicRecord) -> list[str]:
    return [p for p in notices_in(desk, topic) if p.startswith(ESCALATED)]


async def open_case(desk: Desk) -> TopicRecord:
    await desk.buyer_asks("/start lotus-wear")
    desk.buyer_says(HANDOFF)
    await desk.buyer_gets()  # the case number and its deadline
    topic = await desk.topic()
    await desk.in_topic(topic.thread_id, lambda m: HANDOFF in (m.text or ""))  # the card
    return topic


def test_unanswered_case_gets_reminders_then_escalation(api: BotApiDouble, tmp_path: Path) -> None:
    content = sla_content(tmp_path, "[1s, 2s]", "3s", first="4s")
    settings = settings_for(api, tmp_path, sla_tick_seconds=TICK_S)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        first = await desk.in_topic(topic.thread_id, lambda m: (m.text or "").startswith("⏰"))
        assert "сотрудники" in (first.text or "")  # nobody claimed it: the staff are called
        assert "осталось 3 с" in (first.text or "") or "осталось 2 с" in (first.text or "")
        await desk.wait(lambda: len(reminders_in(desk, topic)) == 2)
        await desk.in_topic(topic.thread_id, lambda m: ESCALATED in (m.text or ""))
        admin = await desk.wait(lambda: api.messages_in(ADMIN_CHAT))
        assert "Пропущен срок ответа" in (admin[0].text or "") and "№1" in (admin[0].text or "")
        links = [e.get("url", "") for e in admin[0].entities if e["type"] == "text_link"]
        assert f"https://t.me/c/1000000001/{topic.thread_id}" in links
        offer = await desk.buyer_gets()
        assert offer.buttons[0]["callback_data"].startswith("complain:")
        # In order: both reminders, then the escalation; and nothing more after it.
        kinds = [p[:1] for p in notices_in(desk, topic) if p.startswith((REMINDER, ESCALATED))]
        assert kinds == [REMINDER[:1], REMINDER[:1], ESCALATED[:1]]
        await asyncio.sleep(1.5)
        assert len(reminders_in(desk, topic)) == 2 and len(escalations_in(desk, topic)) == 1
        assert len(api.messages_in(ADMIN_CHAT)) == 1

    run_desk(api, settings, scenario, content_dir=content)


def test_claimed_case_reminder_mentions_the_owner(api: BotApiDouble, tmp_path: Path) -> None:
    content = sla_content(tmp_path, "[1s]", "30s")
    settings = settings_for(api, tmp_path, sla_tick_seconds=TICK_S)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        desk.api.member_sends_command(SUPPORT, STAFF, "claim", "", topic.thread_id)
        reminder = await desk.in_topic(topic.thread_id, lambda m: (m.text or "").startswith("⏰"))
        mentions = [e for e in reminder.entities if e["type"] in ("text_mention", "text_link")]
        assert mentions, reminder.entities
        assert "ответственный" in (reminder.text or "")

    run_desk(api, settings, scenario, content_dir=content)


def test_staff_reply_stops_the_clock_and_a_new_message_restarts_it(
    api: BotApiDouble, tmp_path: Path
) -> None:
    content = sla_content(tmp_path, "[1s]", "2s")
    settings = settings_for(api, tmp_path, sla_tick_seconds=TICK_S)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        desk.staff_says("Здравствуйте, уточняю.", topic.thread_id)
        await desk.buyer_gets()
        await asyncio.sleep(2.5)
        assert reminders_in(desk, topic) == [] and api.messages_in(ADMIN_CHAT) == []
        # The buyer writes again: the next reply's clock runs with the same offsets.
        desk.buyer_says("А по срокам?")
        await desk.wait(lambda: len(reminders_in(desk, topic)) == 1)
        await desk.wait(lambda: api.messages_in(ADMIN_CHAT))

    run_desk(api, settings, scenario, content_dir=content)


def test_restart_between_reminders_sends_the_second_once(api: BotApiDouble, tmp_path: Path) -> None:
    content = sla_content(tmp_path, "[1s, 3s]", "60s")
    settings = settings_for(api, tmp_path, sla_tick_seconds=TICK_S)
    desk = Desk(api)
    topics: list[TopicRecord] = []

    async def before(desk: Desk) -> None:
        topics.append(await open_case(desk))
        await desk.wait(lambda: len(reminders_in(desk, topics[0])) == 1)

    async def after(desk: Desk) -> None:
        await desk.wait(lambda: len(reminders_in(desk, topics[0])) == 2, timeout=10)
        await asyncio.sleep(1)
        assert len(reminders_in(desk, topics[0])) == 2

    run_desk(api, settings, before, content_dir=content, desk=desk)
    run_desk(api, settings, after, content_dir=content, desk=desk)
    with open_db(settings) as session:
        rows = session.scalars(select(Reminder).order_by(Reminder.step)).all()
        assert [(r.kind, r.status) for r in rows] == [
            (ReminderKind.REMINDER, ReminderStatus.DONE),
            (ReminderKind.REMINDER, ReminderStatus.DONE),
            (ReminderKind.ESCALATION, ReminderStatus.PENDING),
        ]


def test_clock_jump_sends_each_overdue_reminder_once_in_order(
    api: BotApiDouble, tmp_path: Path
) -> None:
    """The bot is down while every step falls due (as if the clock jumped): the next
    start sends each once, earliest first."""
    content = sla_content(tmp_path, "[2s, 3s]", "4s")
    settings = settings_for(api, tmp_path, sla_tick_seconds=TICK_S)
    desk = Desk(api)
    topics: list[TopicRecord] = []
    opened: list[float] = []

    async def before(desk: Desk) -> None:
        topics.append(await open_case(desk))
        opened.append(time.monotonic())

    async def after(desk: Desk) -> None:
        await desk.wait(lambda: len(escalations_in(desk, topics[0])) == 1, timeout=10)
        await asyncio.sleep(1)
        assert len(reminders_in(desk, topics[0])) == 2
        assert len(escalations_in(desk, topics[0])) == 1
        assert len(api.messages_in(ADMIN_CHAT)) == 1
        first = reminders_in(desk, topics[0])[0]
        assert "пропущен" in first or "осталось" in first

    run_desk(api, settings, before, content_dir=content, desk=desk)
    assert not reminders_in(desk, topics[0])  # stopped before the first was due
    time.sleep(max(0.0, opened[0] + 4.5 - time.monotonic()))
    run_desk(api, settings, after, content_dir=content, desk=desk)
    with open_db(settings) as session:
        keys = session.scalars(
            select(OutboxMessage.dedupe_key)
            .where(OutboxMessage.dedupe_key.like("sla:%"))
            .order_by(OutboxMessage.id)
        ).all()
        step_of = {f"sla:{r.id}": r.step for r in session.scalars(select(Reminder))}
        # Each step's messages queued once, in schedule order (the outbox then keeps
        # each chat's order); an escalation's keys are "sla:<id>:<where>".
        ordered = [step_of[":".join(key.split(":")[:2])] for key in keys if key]
        assert len(ordered) == len(set(keys)) == 2 + 3
        assert ordered == sorted(ordered)


def test_complaint_and_takeover(api: BotApiDouble, tmp_path: Path) -> None:
    content = sla_content(tmp_path, "[]", "1h")
    api.add_user(ADMIN, "Olga")
    api.add_group(ADMIN_CHAT + 1, "Platform", is_forum=False, members=[ADMIN])
    settings = settings_for(
        api,
        tmp_path,
        sla_tick_seconds=TICK_S,
        admin_chat_id=ADMIN_CHAT + 1,
        admin_user_ids=frozenset({ADMIN}),
    )
    admin_chat = ADMIN_CHAT + 1

    def question_mapped() -> bool:
        # The copy reaches the topic a moment before the sender maps it to the case;
        # the complaint's history lists mapped copies only (the card is mapped too, and
        # may be first).
        with open_db(settings) as session:
            copies = select(CaseMessage).where(
                CaseMessage.buyer_message_id.is_not(None),
                CaseMessage.staff_message_id.is_not(None),
            )
            return session.scalars(copies).first() is not None

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        await desk.wait(question_mapped)
        sent = await desk.buyer_asks("/complain")
        assert sent.text is not None and "передана администрации" in sent.text
        card = await desk.wait(
            lambda: [m for m in api.messages_in(admin_chat) if "Жалоба" in (m.text or "")]
        )
        # Its history: the events (in the admins' language, not codes), and a copy of
        # the buyer's question.
        history = await desk.wait(
            lambda: [
                m for m in api.messages_in(admin_chat) if "открыто · покупатель" in (m.text or "")
            ]
        )
        assert "opened" not in (history[0].text or "")
        await desk.wait(
            lambda: [m for m in api.messages_in(admin_chat) if m.copied_from is not None]
        )
        await desk.in_topic(topic.thread_id, lambda m: "пожаловался" in (m.text or ""))
        again = await desk.buyer_asks("/complain")
        assert again.text is not None and "уже у администрации" in again.text

        # The admin takes it over by replying to the card, then writes to the buyer.
        api.member_sends_command(admin_chat, ADMIN, "takeover", "", reply_to=card[0])
        joined = await desk.buyer_gets()
        assert joined.text is not None and "подключилась администрация" in joined.text
        await desk.in_topic(topic.thread_id, lambda m: "взяла обращение" in (m.text or ""))
        # Talk among the admins (no reply): not for the buyer, even while Olga holds it.
        api.member_sends_text(admin_chat, ADMIN, "Коллеги, гляньте этот случай")
        api.member_sends_text(admin_chat, ADMIN, "Мы разберёмся за день.", reply_to=card[0])
        signed = await desk.buyer_gets()
        assert signed.text == "🛡 Администрация платформы: Мы разберёмся за день."
        await desk.in_topic(topic.thread_id, lambda m: "Мы разберёмся" in (m.text or ""))

        # The buyer's answer reaches the admin chat; /resolve closes the case.
        answer = desk.buyer_says("Спасибо!")
        await desk.wait(
            lambda: [
                m
                for m in api.messages_in(admin_chat)
                if m.copied_from == (BUYER, answer.message_id)
            ]
        )
        api.member_sends_command(admin_chat, ADMIN, "resolve", "lotus-wear 1")
        rate = await desk.buyer_gets()
        assert rate.text is not None and rate.text.startswith("Обращение №1 закрыто")
        closed = await desk.buyer_asks("/complain")
        assert closed.text is not None and "уже закрыто" in closed.text

    run_desk(api, settings, scenario, content_dir=content)
    with open_db(settings) as session:
        case = session.scalars(select(Case)).one()
        assert case.escalated_at is not None and case.admin_id is None


def test_non_admin_cannot_take_over(api: BotApiDouble, tmp_path: Path) -> None:
    content = sla_content(tmp_path, "[]", "1h")
    api.add_group(ADMIN_CHAT + 2, "Platform", is_forum=False, members=[STAFF])
    settings = settings_for(api, tmp_path, admin_chat_id=ADMIN_CHAT + 2)

    async def scenario(desk: Desk) -> None:
        await open_case(desk)
        api.member_sends_command(ADMIN_CHAT + 2, STAFF, "takeover", "lotus-wear 1")
        refused = await desk.wait(
            lambda: [m for m in api.messages_in(ADMIN_CHAT + 2) if m.from_bot]
        )
        assert "только для администраторов" in (refused[0].text or "")

    run_desk(api, settings, scenario, content_dir=content)
