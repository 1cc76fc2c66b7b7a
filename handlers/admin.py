"""Admin chat handlers: parse the update, call the desk (sellerdesk.bot.desk.admin)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from sellerdesk.bot.service import DeskService
from sellerdesk.handlers.common import Callback, incoming, on_chart, on_message_retrying


def register(app: Application, service: DeskService) -> None:  # type: ignore[type-arg]
    """Add the admin chat handlers (none without ``ADMIN_CHAT_ID``): commands, then
    messages. Note: register after the staff handlers; a support chat used as the admin
    chat stays a support chat."""
    chat_id = service.settings.admin_chat_id
    if chat_id is None:
        return
    admin_chat = filters.Chat(chat_id=chat_id)
    people = ~filters.StatusUpdate.ALL & ~filters.VIA_BOT
    app.add_handler(
        CommandHandler(
            "reload", on_reload(service), filters=admin_chat & filters.UpdateType.MESSAGE & people
        )
    )
    app.add_handler(
        CommandHandler(
            "stats",
            on_chart(service, lambda reports: reports.admin_chart),
            filters=admin_chat & filters.UpdateType.MESSAGE & people,
        )
    )
    app.add_handler(
        MessageHandler(
            admin_chat & filters.UpdateType.MESSAGE & filters.COMMAND & people,
            on_message_retrying(service, lambda s: s.admin.command),
        )
    )
    app.add_handler(
        MessageHandler(
            admin_chat & filters.UpdateType.MESSAGE & ~filters.COMMAND & people,
            on_message_retrying(service, lambda s: s.admin.message),
        )
    )


def on_reload(service: DeskService) -> Callback:
    """``/reload`` in the admin chat: reload the seller content now (admins only)."""

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = incoming(update)
        if msg is not None and await service.call(service.admin.reload_allowed, msg):
            await service.reload_content(reply_to=msg.message_id)

    return handler
