"""The command menus Telegram shows next to the message field, per chat and language.

Buyers see theirs in private chats, in their Telegram language (ru, en, zh; English
for any other); each seller's staff see the case commands in their support chat, in
the seller's ``staff_language``; platform admins see theirs in the admin chat, in
``ADMIN_LANGUAGE``. Descriptions are the catalog texts ``cmd_<command>``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from sellerdesk.bot.desk import buyers
from sellerdesk.bot.desk.cases import staff_lang
from sellerdesk.bot.i18n.catalog import SOURCE_LANGUAGE
from sellerdesk.bot.i18n.texts import LANGUAGES, text
from sellerdesk.faq.content.model import Content

log = logging.getLogger(__name__)

#: Buyer commands in menu order (``/skip`` and ``/cancel`` only mean something
#: inside a flow, which names them when they apply).
BUYER_MENU = buyers.COMMANDS
#: Staff commands in the support chat: a case's (see bot.desk.staff.COMMANDS), then /stats.
STAFF_MENU = ("claim", "close", "reopen", "note", "t", "reject", "stats")
#: Platform admin commands in the admin chat (see bot.desk.admin.COMMANDS, handlers.admin).
ADMIN_MENU = ("takeover", "resolve", "handback", "stats", "reload")


@dataclass(frozen=True)
class Menu:
    """One setMyCommands call: where, for which client language, which commands."""

    #: Where the menu applies, for logs ("private chats", "staff chat -100...").
    where: str
    scope: BotCommandScope
    #: Client language the menu is for; None: everyone without a menu of their own.
    language_code: str | None
    commands: tuple[BotCommand, ...]


def command_list(names: Iterable[str], lang: str) -> tuple[BotCommand, ...]:
    """``names`` with their descriptions in ``lang``."""
    return tuple(BotCommand(name, text(f"cmd_{name}", lang)) for name in names)


def buyer_menus() -> list[Menu]:
    """Private chats: a default menu in English, then one per language the bot speaks."""
    scope = BotCommandScopeAllPrivateChats()
    menus = [Menu("private chats", scope, None, command_list(BUYER_MENU, SOURCE_LANGUAGE))]
    menus += [
        Menu(f"private chats ({lang})", scope, lang, command_list(BUYER_MENU, lang))
        for lang in LANGUAGES
    ]
    return menus


def chat_menus(content: Content, admin_chat_id: int | None, admin_language: str) -> list[Menu]:
    """One menu per staff chat and one for the admin chat; a chat that is both gets
    both lists. A chat shared by sellers of different staff languages gets its first
    seller's as the default and the others' for members whose Telegram speaks them."""
    chats: dict[int, tuple[list[str], list[str], list[str]]] = {}
    for seller in content.sellers.values():
        for chat in seller.staff_chat_ids:
            langs, _, _ = chats.setdefault(chat, ([], list(STAFF_MENU), [f"staff chat {chat}"]))
            if staff_lang(seller) not in langs:
                langs.append(staff_lang(seller))
    if admin_chat_id is not None:
        langs, names, where = chats.get(admin_chat_id, ([admin_language], [], []))
        chats[admin_chat_id] = (langs, names + list(ADMIN_MENU), [*where, "admin chat"])
    menus = []
    for chat, (langs, names, where) in chats.items():
        scope = BotCommandScopeChat(chat)
        menus.append(Menu(" and ".join(where), scope, None, command_list(names, langs[0])))
        menus += [
            Menu(f"{' and '.join(where)} ({lang})", scope, lang, command_list(names, lang))
            for lang in langs[1:]
        ]
    return menus


def menus(content: Content, admin_chat_id: int | None, admin_language: str) -> list[Menu]:
    """Every menu the bot sets at start."""
    return buyer_menus() + chat_menus(content, admin_chat_id, admin_language)


async def set_menus(bot: Bot, wanted: Sequence[Menu]) -> int:
    """Send each menu to Telegram; returns how many were set.

    A menu Telegram refuses (the bot is not in that group yet, the network is down) is
    logged and skipped: menus are a convenience, never a reason not to start.
    """
    done = 0
    for menu in wanted:
        try:
            await bot.set_my_commands(
                list(menu.commands), scope=menu.scope, language_code=menu.language_code
            )
        except TelegramError as exc:
            log.warning("command menu for %s not set: %s", menu.where, exc)
            continue
        done += 1
    log.info("command menus set: %d of %d", done, len(wanted))
    return done
