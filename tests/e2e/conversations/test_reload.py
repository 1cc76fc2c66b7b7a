"""Live reload through the Bot API double: an admin edits the FAQ files while the bot
runs; buyers get the new answers, a broken edit reaches the admin chat with its file
and line while buyers keep the last good answers, and conversations in flight
(cases, /return, suggestion buttons) carry on."""

from __future__ import annotations

import shutil
from pathlib import Path

from sellerdesk.faq.content.loader import load_content
from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage
from tests.e2e.conversations.test_authorization import OTHER_STAFF, OTHER_SUPPORT, two_sellers
from tests.e2e.conversations.test_case_flows import HANDOFF, open_case
from tests.e2e.conversations.test_returns import ORDER, buyer_gets_text
from tests.e2e.harness import ADMIN_CHAT, BUYER, DEMO, STAFF, SUPPORT, Desk, run_desk, settings_for

SELLER = "lotus-wear"
ADMIN = 42
NEW_SUPPORT = -1001000000555
QUESTION = "Сколько идет доставка?"
OLD_ANSWER = "Мы отправляем заказ со склада в Гуанчжоу"
#: Seconds to wait for a reload: the watcher's quiet time, loading and matching.
RELOAD_WAIT_S = 20.0


def copy_demo(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(DEMO, content)
    return content


def faq_file(content: Path) -> Path:
    return content / SELLER / "faq.yaml"


def with_answer(faq_yaml: str, answer: str) -> str:
    """``faq_yaml`` with the ru answer of the delivery-time entry replaced."""
    lines = faq_yaml.splitlines(keepends=True)
    entry = lines.index("  - id: delivery-time\n")
    answer_at = lines.index("    answer:\n", entry)
    assert lines[answer_at + 1].startswith("      ru: ")
    lines[answer_at + 1] = f"      ru: '{answer}'\n"
    return "".join(lines)


def set_answer(content: Path, answer: str) -> None:
    """Save faq.yaml with a new delivery-time answer, as an admin's editor would."""
    path = faq_file(content)
    path.write_text(with_answer(path.read_text(encoding="utf-8"), answer), encoding="utf-8")


def remove_entry(content: Path, entry_id: str) -> None:
    path = faq_file(content)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index(f"  - id: {entry_id}\n")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("  - id: ")), len(lines)
    )
    path.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")


def admin_says(api: BotApiDouble, needle: str) -> list[StoredMessage]:
    return [m for m in api.messages_in(ADMIN_CHAT) if needle in (m.text or "")]


async def admin_gets(desk: Desk, needle: str, count: int = 1) -> StoredMessage:
    """Wait for the ``count``-th bot message in the admin chat containing ``needle``."""
    found = await desk.wait(lambda: admin_says(desk.api, needle)[count - 1 :], RELOAD_WAIT_S)
    return found[0]  # type: ignore[no-any-return]


def test_edits_reach_buyers_and_broken_ones_reach_admins(api: BotApiDouble, tmp_path: Path) -> None:
    content = copy_demo(tmp_path)
    api.add_group(ADMIN_CHAT, "Admins", is_forum=False, members=[ADMIN, STAFF])
    settings = settings_for(
        api, tmp_path, content_dir=content, admin_user_ids=frozenset({ADMIN}), content_watch=True
    )

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks(f"/start {SELLER}")
        before = await desk.buyer_asks(QUESTION)
        assert OLD_ANSWER in (before.text or "")

        set_answer(content, "Доставка теперь занимает 7–12 дней.")
        summary = await admin_gets(desk, "Контент обновлён:")
        assert "изменено 1" in (summary.text or "")
        assert (await desk.buyer_asks(QUESTION)).text == "Доставка теперь занимает 7–12 дней."

        # A typo: the admin chat hears where it is; buyers keep the last good answer.
        good = faq_file(content).read_text(encoding="utf-8")
        first = load_content(content).sellers[SELLER].entries[0].id
        broken = good.replace("    answer:\n", "    answr:\n", 1)
        typo_line = good[: good.index("    answer:\n")].count("\n") + 1
        faq_file(content).write_text(broken, encoding="utf-8")
        report = await admin_gets(desk, "Контент не обновлён")
        assert f"{SELLER}/faq.yaml:{typo_line}: entry {first}.answr: unknown key" in (
            report.text or ""
        )
        assert report.parse_mode == "HTML"
        assert (await desk.buyer_asks(QUESTION)).text == "Доставка теперь занимает 7–12 дней."

        # Fixed: errors cleared, and the fix is what buyers read.
        faq_file(content).write_text(
            with_answer(good, "Доставка занимает 5–9 дней."), encoding="utf-8"
        )
        await admin_gets(desk, "ошибки исправлены")
        assert (await desk.buyer_asks(QUESTION)).text == "Доставка занимает 5–9 дней."
        assert len(admin_says(api, "Контент не обновлён")) == 1

        # /reload: admins only.
        refused = api.member_sends_command(ADMIN_CHAT, STAFF, "reload")
        no = await admin_gets(desk, "только для администраторов")
        assert no.reply_to == refused.message_id
        asked = api.member_sends_command(ADMIN_CHAT, ADMIN, "reload")
        done = await admin_gets(desk, "Контент обновлён:", count=2)
        assert done.reply_to == asked.message_id

    run_desk(api, settings, scenario)


def test_without_the_watcher_reload_comes_on_request(api: BotApiDouble, tmp_path: Path) -> None:
    content = copy_demo(tmp_path)
    api.add_group(ADMIN_CHAT, "Admins", is_forum=False, members=[ADMIN])
    settings = settings_for(
        api, tmp_path, content_dir=content, admin_user_ids=frozenset({ADMIN}), content_watch=False
    )

    async def scenario(desk: Desk) -> None:
        await desk.buyer_asks(f"/start {SELLER}")
        set_answer(content, "Доставка теперь занимает 7–12 дней.")
        assert OLD_ANSWER in ((await desk.buyer_asks(QUESTION)).text or "")
        asked = api.member_sends_command(ADMIN_CHAT, ADMIN, "reload")
        done = await admin_gets(desk, "Контент обновлён:")
        assert done.reply_to == asked.message_id and "изменено 1" in (done.text or "")
        assert (await desk.buyer_asks(QUESTION)).text == "Доставка теперь занимает 7–12 дней."
        assert len(api.messages_in(ADMIN_CHAT)) == 1  # the watcher posted nothing

    run_desk(api, settings, scenario)


def test_conversations_in_flight_survive_a_reload(api: BotApiDouble, tmp_path: Path) -> None:
    content = copy_demo(tmp_path)
    asker, returner, newcomer = 5002, 5003, 5004
    for user in (asker, returner, newcomer):
        api.add_user(user, f"Buyer {user}", language_code="ru")
    api.add_group(NEW_SUPPORT, "Lotus Wear support 2", is_forum=True, members=[STAFF])
    settings = settings_for(api, tmp_path, content_dir=content, content_watch=True)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)  # BUYER has an open case in the old chat
        suggester = Desk(api, buyer=asker)
        await suggester.buyer_asks(f"/start {SELLER}")
        offer = await suggester.buyer_asks("возврат")
        button = next(b for b in offer.buttons if b["callback_data"].startswith("faq:"))
        returning = Desk(api, buyer=returner)
        await returning.buyer_asks(f"/start {SELLER}")
        returning.buyer_says("/return")
        await buyer_gets_text(returning, "номер заказа")

        # The admin removes the suggested entry and moves the seller to a new chat.
        remove_entry(content, button["callback_data"].split(":", 2)[2])
        seller_yaml = content / SELLER / "seller.yaml"
        text = seller_yaml.read_text(encoding="utf-8")
        assert f"support_chat_id: {SUPPORT}" in text
        seller_yaml.write_text(
            text.replace(f"support_chat_id: {SUPPORT}", f"support_chat_id: {NEW_SUPPORT}"),
            encoding="utf-8",
        )
        await admin_gets(desk, "Контент обновлён:")

        # The old suggestion button: the stale-button text, no crash.
        api.user_presses_button(asker, offer, button["callback_data"])
        stale = await suggester.buyer_gets()
        assert stale.text == "Эта кнопка устарела. Задайте вопрос ещё раз."
        # The /return in progress goes on to the next step.
        returning.buyer_says(ORDER)
        await buyer_gets_text(returning, "название товара")
        # The open case keeps relaying from its topic in the old chat.
        desk.staff_says("Ответ после обновления", topic.thread_id)
        await desk.wait(
            lambda: [m for m in api.messages_in(BUYER) if m.text == "Ответ после обновления"]
        )
        # A new case opens in the new support chat.
        fresh = Desk(api, buyer=newcomer, support=NEW_SUPPORT)
        await fresh.buyer_asks(f"/start {SELLER}")
        fresh.buyer_says(HANDOFF)
        new_topic = await fresh.topic()
        assert new_topic.name.startswith("#2 ")
        assert len(api.topics(SUPPORT)) == 1
        # The new staff chat got its command menu without a restart.
        staff_menu = await desk.wait(lambda: api.commands(f"chat:{NEW_SUPPORT}"))
        assert staff_menu == api.commands(f"chat:{SUPPORT}")

    run_desk(api, settings, scenario)


def test_a_removed_seller_keeps_its_open_cases(api: BotApiDouble, tmp_path: Path) -> None:
    content = two_sellers(tmp_path)  # lotus-wear and other-shop
    api.add_group(OTHER_SUPPORT, "Other support", is_forum=True, members=[OTHER_STAFF])
    settings = settings_for(api, tmp_path, content_dir=content, content_watch=True)

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        shutil.rmtree(content / SELLER)
        notice = await admin_gets(desk, "удалён из файлов")
        assert "«Lotus Wear»" in (notice.text or "") and "обращения: 1" in (notice.text or "")
        # The case keeps relaying both ways.
        desk.staff_says("Ответ после удаления магазина", topic.thread_id)
        await desk.wait(
            lambda: [m for m in api.messages_in(BUYER) if m.text == "Ответ после удаления магазина"]
        )
        desk.buyer_says("Спасибо, жду")
        await desk.in_topic(topic.thread_id, lambda m: m.text == "Спасибо, жду")
        # New buyers cannot open the removed shop.
        newcomer = Desk(api, buyer=5005)
        api.add_user(5005, "Buyer 5005", language_code="ru")
        refused = await newcomer.buyer_asks(f"/start {SELLER}")
        assert (
            refused.text
            == f"Магазин «{SELLER}» не найден. Откройте ссылку из карточки товара ещё раз."
        )

    run_desk(api, settings, scenario)
