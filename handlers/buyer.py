"""Buyer handlers (private chats): parse the update, call the desk. Nothing else.

Every reply goes through the outbox, so it is sent once the update's transaction
has committed, in order, and survives a restart.
"""

from __future__ import annotations

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from sellerdesk.bot.service import DeskService
from sellerdesk.handlers.common import on_message, on_message_retrying


def register(app: Application, service: DeskService) -> None:  # type: ignore[type-arg]
    """Add the buyer handlers to ``app``. Note: order matters, commands before messages."""
    private: filters.BaseFilter = filters.ChatType.PRIVATE
    if service.settings.admin_chat_id is not None:
        # An admin's own private chat may be the admin chat: the admin handlers take it.
        private = private & ~filters.Chat(chat_id=service.settings.admin_chat_id)
    new_messages = filters.UpdateType.MESSAGE

    commands = {
        "start": lambda s: s.buyers.start,
        "help": lambda s: s.buyers.help,
        "cases": lambda s: s.buyers.list_cases,
        "language": lambda s: s.buyers.language,
        "skip": lambda s: s.buyers.skip,
        "complain": lambda s: s.buyers.complain,
        "return": lambda s: s.buyers.start_return,
        "cancel": lambda s: s.buyers.cancel,
        "forget_me": lambda s: s.buyers.forget_me,
        "close": lambda s: s.buyers.close,
    }
    for name, work in commands.items():
        app.add_handler(
            CommandHandler(name, on_message(service, work), filters=private & new_messages)
        )
    # Any other command: greet, rather than feed "/something" to the FAQ.
    app.add_handler(
        MessageHandler(
            private & new_messages & filters.COMMAND, on_message(service, lambda s: s.buyers.greet)
        )
    )
    messages = private & (filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE)
    app.add_handler(
        MessageHandler(
            messages & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            on_message_retrying(service, lambda s: s.buyers.message),
        )
    )
