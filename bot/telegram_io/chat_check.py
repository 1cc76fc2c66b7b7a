"""Can the bot work in every staff group and the admin chat? Asked at start and after
each content reload.

For each seller's staff group (``support_chat_id`` and ``support_chats``): the chat
exists and the bot is in it (``getChat``), may send there (``getChatMember`` of the
bot: not left, kicked or restricted from sending), and, for a seller with ``topics``
on, the group has topics and the bot may manage them. The admin chat must exist with
the bot in it. Each problem is one log line in the operator's words (what is wrong,
how to fix it) and one note in the admin chat (``bot.staff_chats``); the desk then
treats the group as that module says. A check that cannot ask Telegram at all
(network trouble) changes nothing: the sender finds real problems as rows are
refused.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import Bot, ChatMember, ChatMemberAdministrator, ChatMemberRestricted
from telegram.error import BadRequest, Forbidden, TelegramError

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.staff_chats import (
    ChatProblem,
    Problem,
    tell_admins,
    tell_admins_fixed,
    tell_admins_foreign,
)
from sellerdesk.faq.content.check import chat_owners, foreign_groups
from sellerdesk.faq.content.errors import Problem as ContentProblem
from sellerdesk.faq.content.model import Content, Seller

log = logging.getLogger(__name__)

#: Seconds the whole check may take; the desk starts whatever it found by then.
CHECK_TIMEOUT_S = 20.0

#: How each problem is fixed, for the log (the admin chat's note says it in its language).
FIXES = {
    Problem.MISSING: "add the bot to the group, or correct support_chat_id",
    Problem.CANNOT_SEND: "allow the bot to send messages there",
    Problem.NO_TOPIC_RIGHTS: "make the bot an administrator with the right to manage "
    "topics; cases go to the group without topics meanwhile",
    Problem.NOT_FORUM: "turn on Topics in the group's settings, or set topics: false; "
    "cases go to the group without topics meanwhile",
}


async def check_chats(bot: Bot, db: Database, ctx: DeskContext) -> list[ChatProblem]:
    """Check every staff group of the content and the admin chat; record what is wrong
    in ``ctx.staff_chats``, log it and tell the admin chat. Returns the problems."""
    sellers_now = list(ctx.content.sellers.values())
    groups = {
        chat: [s for s in sellers if s.id in ctx.content.sellers]
        for chat, sellers in ctx.faq.live.current.chat_owners.items()
    }
    groups = {chat: sellers for chat, sellers in groups.items() if sellers}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            found = [
                problem
                for chat_id, sellers in groups.items()
                if (problem := await _check_group(bot, chat_id, sellers)) is not None
            ]
            admin_problem = await _check_admin_chat(bot, ctx.admin_chat_id)
    except (TimeoutError, TelegramError) as error:
        log.warning("could not check the staff groups (%s); the sender will find problems", error)
        return []
    before_blocked = {c for c in groups if ctx.staff_chats.blocked(c)}
    gone = ctx.staff_chats.replace(set(groups), found)
    for problem in found:
        shops = ", ".join(s.id for s in groups[problem.chat_id])
        log.error(
            "staff chat %s (%s): %s (%s); %s",
            problem.chat_id,
            shops,
            problem.problem.value,
            problem.detail,
            FIXES[problem.problem],
        )
    if admin_problem:
        log.error(
            "admin chat %s: %s; ADMIN_CHAT_ID must be a chat the bot is in",
            ctx.admin_chat_id,
            admin_problem,
        )
    fixed = [p.chat_id for p in gone if p.chat_id in before_blocked]
    foreign = foreign_groups(sellers_now)
    for seller, group, others in foreign:
        log.error(
            "staff chat %s in support_chats of %s is a staff group of %s: correct the id, or "
            "add shared: true; its cases open in the seller's other groups meanwhile",
            group.chat_id,
            seller.id,
            ", ".join(o.id for o in others),
        )
    if found or fixed or foreign:

        def tell() -> None:
            with db.transaction() as session:
                for problem in found:
                    tell_admins(session, ctx, problem)
                for chat_id in fixed:
                    tell_admins_fixed(session, ctx, chat_id)
                for seller, group, others in foreign:
                    tell_admins_foreign(session, ctx, seller, group.chat_id, others)

        await db.run(tell)
    return found


async def _check_group(bot: Bot, chat_id: int, sellers: list[Seller]) -> ChatProblem | None:
    try:
        chat = await bot.get_chat(chat_id)
    except (BadRequest, Forbidden) as error:
        return ChatProblem(chat_id, Problem.MISSING, error.message)
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except (BadRequest, Forbidden) as error:
        return ChatProblem(chat_id, Problem.MISSING, error.message)
    if member.status in (ChatMember.LEFT, ChatMember.BANNED):
        return ChatProblem(chat_id, Problem.MISSING, f"the bot's status is {member.status}")
    if isinstance(member, ChatMemberRestricted) and not member.can_send_messages:
        return ChatProblem(chat_id, Problem.CANNOT_SEND, "restricted from sending messages")
    if not any(s.topics for s in sellers):
        return None
    if not chat.is_forum:
        return ChatProblem(chat_id, Problem.NOT_FORUM, "the chat is not a forum")
    may_manage = member.status == ChatMember.OWNER or (
        isinstance(member, ChatMemberAdministrator) and bool(member.can_manage_topics)
    )
    if not may_manage:
        return ChatProblem(chat_id, Problem.NO_TOPIC_RIGHTS, f"the bot is {member.status}")
    return None


async def _check_admin_chat(bot: Bot, chat_id: int | None) -> str | None:
    if chat_id is None:
        return None
    try:
        await bot.get_chat(chat_id)
    except (BadRequest, Forbidden) as error:
        return error.message
    return None


async def online_problems(bot: Bot, content: Content) -> list[ContentProblem]:
    """``faq check --online``: each staff group the bot cannot work in, as a problem of
    the seller.yaml line naming it (``support_chat_id``, or the ``support_chats``
    entry)."""
    found: list[ContentProblem] = []
    async with asyncio.timeout(CHECK_TIMEOUT_S * 3):
        for chat_id, sellers in chat_owners(list(content.sellers.values())).items():
            problem = await _check_group(bot, chat_id, sellers)
            if problem is None:
                continue
            for seller in sellers:
                group = next((g for g in seller.support_chats if g.chat_id == chat_id), None)
                path = (seller.path / "seller.yaml") if seller.path else Path("seller.yaml")
                found.append(
                    ContentProblem(
                        path,
                        group.line if group is not None and group.line else None,
                        "support_chats.chat_id" if group is not None else "support_chat_id",
                        f"staff group {chat_id}: {problem.problem.value} ({problem.detail}); "
                        f"{FIXES[problem.problem]}",
                    )
                )
    return found
