"""Command menus per chat and language, staff_language and ADMIN_LANGUAGE, over real
HTTP against the Bot API double."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from telegram.ext import CommandHandler

from sellerdesk.app import build_application
from sellerdesk.bot.desk import admin as admin_conversation
from sellerdesk.bot.desk import staff as staff_conversation
from sellerdesk.bot.i18n.texts import text
from sellerdesk.bot.telegram_io.commands import ADMIN_MENU, BUYER_MENU, STAFF_MENU
from sellerdesk.faq.content.loader import load_content
from testing.botapi import BotApiDouble
from tests.e2e.conversations.test_case_flows import open_case
from tests.e2e.harness import ADMIN_CHAT, DEMO, SUPPORT, Desk, run_desk, settings_for

JSON = dict[str, str]


def expected(names: tuple[str, ...], lang: str) -> list[JSON]:
    return [{"command": n, "description": text(f"cmd_{n}", lang)} for n in names]


def test_menus_per_scope_and_language(api: BotApiDouble, tmp_path: Path) -> None:
    settings = settings_for(api, tmp_path, admin_language="en")

    async def scenario(desk: Desk) -> None:
        # post_init has run: the menus are there before the first update.
        assert api.commands("all_private_chats") == expected(BUYER_MENU, "en")
        for lang in ("ru", "en", "zh"):
            assert api.commands("all_private_chats", lang) == expected(BUYER_MENU, lang)
        # The demo seller has no staff_language: its first language, Russian.
        assert api.commands(f"chat:{SUPPORT}") == expected(STAFF_MENU, "ru")
        assert api.commands(f"chat:{ADMIN_CHAT}") == expected(ADMIN_MENU, "en")
        assert api.commands() == []  # nothing for the default scope
        menus = {
            (scope, lang)
            for lang in ("", "ru", "en", "zh", "de")
            for scope in ("all_private_chats", f"chat:{SUPPORT}", f"chat:{ADMIN_CHAT}")
            if api.commands(scope, lang)
        }
        assert len(menus) == 6
        zh = api.commands("all_private_chats", "zh")
        assert zh[0] == {"command": "start", "description": "开始：选择店铺"}

    run_desk(api, settings, scenario)


def test_menu_commands_are_commands_the_bot_handles(api: BotApiDouble, tmp_path: Path) -> None:
    app = build_application(settings_for(api, tmp_path), load_content(DEMO))
    handled = {
        name
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    # Case commands reach the desk through one catch-all handler; the rest have their own.
    assert set(BUYER_MENU) <= handled
    assert set(STAFF_MENU) <= set(staff_conversation.COMMANDS) | handled
    assert set(ADMIN_MENU) <= set(admin_conversation.COMMANDS) | handled
    assert {"stats", "reload"} <= handled


def zh_staff_content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(DEMO, content)
    seller_yaml = content / "lotus-wear" / "seller.yaml"
    with seller_yaml.open("a", encoding="utf-8") as out:
        out.write("staff_language: zh\n")
    return content


def test_staff_language_zh_and_admin_language_en(api: BotApiDouble, tmp_path: Path) -> None:
    content = zh_staff_content(tmp_path)
    settings = settings_for(api, tmp_path, content_dir=content, admin_language="en")

    async def scenario(desk: Desk) -> None:
        assert api.commands(f"chat:{SUPPORT}") == expected(STAFF_MENU, "zh")
        topic = await open_case(desk)
        card = await desk.in_topic(topic.thread_id, lambda m: "工单 #1" in (m.text or ""))
        assert card.text is not None
        assert "买家:" in card.text and "店铺:" in card.text
        labels = [b["text"] for b in card.buttons]
        assert labels == [
            text(k, "zh") for k in ("button_claim", "button_close", "button_templates")
        ]
        # The buyer still reads Russian; the admin chat reads English, card included.
        sent = await desk.buyer_asks("/complain")
        assert sent.text is not None and "администрации" in sent.text
        complaint = await desk.wait(
            lambda: [m for m in api.messages_in(ADMIN_CHAT) if "Buyer complaint" in (m.text or "")]
        )
        assert "Case #1" in (complaint[0].text or "")
        assert "Reply to this message with /takeover" in (complaint[0].text or "")
        note = await desk.in_topic(
            topic.thread_id, lambda m: m.text == text("staff_complaint", "zh", number="1")
        )
        assert note.text

    run_desk(api, settings, scenario, content_dir=content)


def test_a_refused_menu_is_logged_and_the_bot_still_starts(
    api: BotApiDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An admin chat the bot is not in: Telegram answers "chat not found".
    settings = settings_for(api, tmp_path, admin_chat_id=-1005550000000)
    caplog.set_level(logging.INFO, logger="sellerdesk.bot.telegram_io.commands")

    async def scenario(desk: Desk) -> None:
        reply = await desk.buyer_asks("/start lotus-wear")
        assert reply.text is not None and "Lotus Wear" in reply.text
        assert api.commands(f"chat:{SUPPORT}") == expected(STAFF_MENU, "ru")
        assert api.commands("all_private_chats", "ru") == expected(BUYER_MENU, "ru")

    run_desk(api, settings, scenario)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "command menu for admin chat not set" in w and "chat not found" in w.lower()
        for w in warnings
    ), warnings
    assert any("command menus set: 5 of 6" in r.getMessage() for r in caplog.records)


def test_a_chat_shared_by_sellers_of_two_staff_languages_gets_both_menus(
    tmp_path: Path,
) -> None:
    from sellerdesk.bot.telegram_io.commands import chat_menus

    content = zh_staff_content(tmp_path)  # lotus-wear: staff speak Chinese
    shutil.copytree(DEMO / "lotus-wear", content / "lotus-wear-ru")  # same chat, Russian
    menus = [
        m for m in chat_menus(load_content(content), None, "en") if m.where.startswith("staff")
    ]
    by_language = {m.language_code: m for m in menus}
    assert set(by_language) == {None, "ru"}  # the first seller's as the default
    assert by_language[None].commands[0].description == text(f"cmd_{STAFF_MENU[0]}", "zh")
    assert by_language["ru"].commands[0].description == text(f"cmd_{STAFF_MENU[0]}", "ru")
    assert all(m.scope.chat_id == SUPPORT for m in menus)  # type: ignore[attr-defined]


def test_an_admins_private_chat_works_as_the_admin_chat(api: BotApiDouble, tmp_path: Path) -> None:
    admin = 700000777
    api.add_user(admin, "Admin", language_code="en")
    settings = settings_for(api, tmp_path, admin_chat_id=admin, admin_user_ids=frozenset({admin}))

    async def scenario(desk: Desk) -> None:
        desk.api.user_sends_text(admin, "/reload")
        reply = await desk.wait(lambda: desk.api.messages_in(admin))
        # The reload's report, not the buyer's "choose a shop".
        assert (reply[0].text or "").startswith(text("reload_done", "ru", summary="").rstrip())

    run_desk(api, settings, scenario)
