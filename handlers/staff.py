"""Staff handlers (the sellers' support chats): parse the update, call the desk."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.service import DeskService
from bot.stats import StatsDesk, send_chart
from handlers.common import Callback, incoming, on_message_retrying


def on_stats(service: DeskService) -> Callback:
    """``/stats [days]`` in a support chat: the seller's chart (its staff only)."""

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = incoming(update)
        if msg is None:
            return
        reply = await service.call(StatsDesk(service.db, service.staff.ctx).staff_chart, msg)
        if reply is not None:
            await send_chart(context.bot, service.db, reply)

    return handler


def register(app: Application, service: DeskService) -> None:  # type: ignore[type-arg]
    """Add the staff handlers to ``app``: commands, then every other message."""
    support = service.support_chat_filter  # grows when a reload adds a chat
    people = ~filters.StatusUpdate.ALL & ~filters.VIA_BOT

    # /stats before the case commands: it names no case.
    app.add_handler(
        CommandHandler(
            "stats", on_stats(service), filters=support & filters.UpdateType.MESSAGE & people
        )
    )
    # Commands are parsed by the desk (it knows which are staff commands and answers
    # unknown ones with a hint); edited commands are not run again.
    app.add_handler(
        MessageHandler(
            support & filters.UpdateType.MESSAGE & filters.COMMAND & people,
            on_message_retrying(service, lambda s: s.staff.command),
        )
    )
    app.add_handler(
        MessageHandler(
            support
            & (filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE)
            & ~filters.COMMAND
            & people,
            on_message_retrying(service, lambda s: s.staff.message),
        )
    )
