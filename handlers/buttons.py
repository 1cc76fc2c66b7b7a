"""Inline button presses: routed to the buyer or the staff side by where the button is."""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from sellerdesk.bot.channels.ozon_questions import BUTTON
from sellerdesk.bot.desk.inbound import PressResult
from sellerdesk.bot.service import DeskService
from sellerdesk.handlers.common import press

#: Callback data of the buttons under an Ozon product question's draft.
OZON_QUESTION_BUTTON = f"{BUTTON}:"


def register(app: Application, service: DeskService) -> None:  # type: ignore[type-arg]
    """Add the one callback query handler."""

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        pressed = press(update)
        if query is None:
            return
        result = PressResult()
        if pressed is not None and query.message is not None:
            questions = service.ozon_questions
            if pressed.data.startswith(OZON_QUESTION_BUTTON) and questions is not None:
                result = await service.call(questions.press, pressed)
            elif pressed.business is not None:
                result = await service.call(service.business.press, pressed)
            elif query.message.chat.type == ChatType.PRIVATE:
                result = await service.call(service.buyers.press, pressed)
            elif pressed.chat_id in service.support_chat_filter.chat_ids:
                result = await service.call(service.staff.press, pressed)
        # The answer only stops the button's spinner; a late or repeated press may
        # find the query expired, which changes nothing.
        with contextlib.suppress(TelegramError):
            await query.answer(result.notice)
        if result.remove_buttons:
            with contextlib.suppress(TelegramError):
                await query.edit_message_reply_markup(links_only(query.message))

    app.add_handler(CallbackQueryHandler(on_press))


def links_only(message: object) -> InlineKeyboardMarkup | None:
    """The link buttons of ``message``'s keyboard (an FAQ answer's), which stay when
    its other buttons have done their work."""
    markup = getattr(message, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    rows = [[button for button in row if button.url] for row in markup.inline_keyboard]
    kept = [row for row in rows if row]
    return InlineKeyboardMarkup(kept) if kept else None
