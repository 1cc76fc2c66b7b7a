"""Buyer handlers (private chats): parse the update, ask the desk, reply. Nothing else."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.desk import FaqDesk, Reply
from bot.texts import pick_language, text

#: Telegram's limit on callback data, in bytes.
CALLBACK_LIMIT = 64
SELLER_KEY = "seller"


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(label, callback_data=data)]
        for label, data in reply.buttons
        if len(data.encode()) <= CALLBACK_LIMIT
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def register(app: Application, desk: FaqDesk) -> None:  # type: ignore[type-arg]
    """Add the buyer handlers to ``app``. Note: order matters, commands before text."""
    private = filters.ChatType.PRIVATE

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or context.user_data is None:
            return
        lang = pick_language(user.language_code if user else None)
        payload = context.args[0] if context.args else ""
        seller_id = payload.split("__", 1)[0]
        seller = desk.seller(seller_id) if seller_id else desk.only_seller()
        if seller_id and seller is None:
            await message.reply_text(text("unknown_seller", lang, seller=seller_id[:64]))
            return
        if seller is None:
            buttons = [
                [InlineKeyboardButton(s.name, callback_data=f"seller:{s.id}")]
                for s in desk.content.sellers.values()
            ]
            await message.reply_text(
                text("pick_seller", lang), reply_markup=InlineKeyboardMarkup(buttons)
            )
            return
        context.user_data[SELLER_KEY] = seller.id
        await message.reply_text(desk.welcome(seller, desk.language(seller, lang)))

    async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or context.user_data is None:
            return
        user_lang = user.language_code if user else None
        seller = desk.seller(context.user_data.get(SELLER_KEY, "")) or desk.only_seller()
        if seller is None:
            await message.reply_text(text("no_seller", pick_language(user_lang)))
            return
        body = message.text or message.caption or ""
        if not body.strip():
            await message.reply_text(text("text_only", desk.language(seller, user_lang)))
            return
        reply = desk.ask(seller, body, user_lang)
        await message.reply_text(reply.text, reply_markup=_keyboard(reply))

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or context.user_data is None:
            return
        await query.answer()
        chat_id = query.from_user.id
        user_lang = user.language_code if user else None
        kind, _, rest = (query.data or "").partition(":")
        picked = desk.seller(rest) if kind == "seller" else None
        if picked is not None:
            context.user_data[SELLER_KEY] = picked.id
            welcome = desk.welcome(picked, desk.language(picked, user_lang))
            await context.bot.send_message(chat_id, welcome)
            return
        seller_id, _, target = rest.partition(":")
        seller = desk.seller(seller_id)
        if kind != "faq" or seller is None:
            # A button from an old message or tampered data: say so, act on nothing.
            await context.bot.send_message(chat_id, text("stale_button", pick_language(user_lang)))
            return
        lang = desk.language(seller, user_lang)
        await context.bot.send_message(chat_id, desk.answer_text(seller, target, lang))

    app.add_handler(CommandHandler("start", start, filters=private))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(private & ~filters.COMMAND, question))
