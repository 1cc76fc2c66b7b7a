"""Telegram Business handlers: the seller's own account's chats with buyers, and the
account's connection to the bot. Parse the update, call the desk. Nothing else."""

from __future__ import annotations

import logging

from telegram import BusinessConnection, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BusinessConnectionHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sellerdesk.bot.channels.telegram_business import Connection
from sellerdesk.bot.service import DeskService
from sellerdesk.handlers.common import incoming, on_message_retrying

log = logging.getLogger(__name__)


def connection(found: BusinessConnection) -> Connection:
    rights = found.rights
    return Connection(
        id=found.id,
        owner_id=found.user.id,
        owner_username=found.user.username,
        can_reply=bool(rights is not None and rights.can_reply),
        enabled=found.is_enabled,
    )


def register(app: Application, service: DeskService) -> None:  # type: ignore[type-arg]
    """Add the Telegram Business handlers (before the others: a business message is a
    private-chat message too, and must not reach the bot-chat handlers)."""

    async def on_connection(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = update.business_connection
        if found is not None:
            await service.call(
                lambda c: service.business.connection(c, update.update_id), connection(found)
            )

    # An edit of a message whose copy is in flight is tried again, as in the bot's chat.
    handle = on_message_retrying(service, lambda s: s.business.message)

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = incoming(update)
        if msg is None or msg.business is None:
            return
        if not await service.call(service.business.known, msg.business):
            # Connected while the bot was down, or the update was lost: ask Telegram.
            try:
                found = await context.bot.get_business_connection(msg.business)
            except TelegramError as error:
                log.warning("business connection %s: %s", msg.business, error)
            else:
                await service.call(service.business.connection, connection(found))
        await handle(update, context)

    app.add_handler(BusinessConnectionHandler(on_connection))
    app.add_handler(
        MessageHandler(
            (filters.UpdateType.BUSINESS_MESSAGE | filters.UpdateType.EDITED_BUSINESS_MESSAGE)
            & ~filters.StatusUpdate.ALL,
            on_message,
        )
    )
