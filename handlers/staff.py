"""Staff handlers (the sellers' support chats): parse the update, call the desk."""

from __future__ import annotations

from telegram.ext import Application, MessageHandler, filters

from bot.service import DeskService
from handlers.common import on_message_retrying


def register(app: Application, service: DeskService) -> None:  # type: ignore[type-arg]
    """Add the staff handlers to ``app``: commands, then every other message."""
    support = filters.Chat(chat_id=service.support_chats)
    people = ~filters.StatusUpdate.ALL & ~filters.VIA_BOT

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
