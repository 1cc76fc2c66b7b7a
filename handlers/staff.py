"""Staff handlers (the sellers' support chats): parse the update, call the desk."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from sellerdesk.bot.service import DeskService
from sellerdesk.handlers.common import on_chart, on_message_retrying


def register(app: Application, service: DeskService) -> None:  # type: ignore[type-arg]
    """Add the staff handlers to ``app``: commands, then every other message."""
    support = service.support_chat_filter  # grows when a reload adds a chat
    people = ~filters.StatusUpdate.ALL & ~filters.VIA_BOT

    # /stats before the case commands: it names no case.
    app.add_handler(
        CommandHandler(
            "stats",
            on_chart(service, lambda reports: reports.staff_chart),
            filters=support & filters.UpdateType.MESSAGE & people,
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
