"""Wiring of the Telegram application: settings, desk, handlers, error logging."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.desk import FaqDesk
from bot.settings import Settings
from faq.model import Content
from handlers import buyer

log = logging.getLogger("sellerdesk")


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log first; a failing update must never stop the bot."""
    log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)


def build_application(settings: Settings, content: Content) -> Application:  # type: ignore[type-arg]
    """The PTB application for ``settings``, serving every seller of ``content``."""
    app = (
        ApplicationBuilder()
        .token(settings.token)
        # The bot calls <root>/bot<token>/<method>, so a local Bot API server can stand in.
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .build()
    )
    buyer.register(app, FaqDesk(content, settings.matcher, settings.cache_dir))
    app.add_error_handler(_log_error)
    return app


def run_polling(settings: Settings, content: Content) -> int:
    """Serve until interrupted (long polling); returns the process exit code."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    # httpx logs every request URL, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = build_application(settings, content)
    log.info("serving %d seller(s): %s", len(content.sellers), ", ".join(content.sellers))
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
