"""Wiring of the Telegram application: settings, the desk, handlers, the outbox sender,
error logging."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.database import Database
from bot.outbox import OutboxSender
from bot.service import DeskService
from bot.settings import Settings
from faq.model import Content
from handlers import admin, buttons, buyer, staff
from storage.repo import sellers

log = logging.getLogger("sellerdesk")


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log first; a failing update must never stop the bot."""
    log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)


def build_application(settings: Settings, content: Content) -> Application:  # type: ignore[type-arg]
    """The PTB application for ``settings``, serving every seller of ``content``.

    Its ``post_init`` migrates the database and starts the outbox sender;
    ``post_stop`` stops the sender and ``post_shutdown`` closes the database
    (``run_polling`` calls them; tests that drive the application call them too).
    """
    quiet_secret_loggers(settings.token)
    db = Database(settings.database_url)
    service = DeskService(settings, content, db)

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        ctx = await asyncio.to_thread(service.prepare)
        await asyncio.to_thread(_mark_sellers_seen, db, content)
        service.sender = OutboxSender(db, app.bot, ctx)
        service.sender.start()
        if app.job_queue is None:  # the job-queue extra is a dependency; say so if missing
            raise RuntimeError("python-telegram-bot[job-queue] is needed for deadlines")
        # The scheduler only ticks; what is due lives in the database (bot.sla).
        app.job_queue.run_repeating(
            _sla_tick, interval=settings.sla_tick_seconds, first=0, name="sla-sweep"
        )
        log.info("serving %d seller(s): %s", len(content.sellers), ", ".join(content.sellers))

    async def post_stop(app: Application) -> None:  # type: ignore[type-arg]
        if service.sender is not None:
            await service.sender.stop()

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        db.dispose()

    async def _sla_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await service.sla_tick()
        except Exception:  # one failed sweep must not stop the next ones
            log.exception("deadline sweep failed")

    app = (
        ApplicationBuilder()
        .token(settings.token)
        # The bot calls <root>/bot<token>/<method>, so a local Bot API server can stand in.
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    # Note: order matters. Buyer commands, then buyer messages; staff likewise; the
    # handlers' filters keep the two kinds of chat apart.
    buyer.register(app, service)
    staff.register(app, service)
    admin.register(app, service)
    buttons.register(app, service)
    app.add_error_handler(_log_error)
    return app


def _mark_sellers_seen(db: Database, content: Content) -> None:
    with db.transaction() as session:
        for seller_id in content.sellers:
            sellers.mark_seller_seen(session, seller_id)


#: Loggers that write Bot API URLs, which contain the token: PTB's bot logs its base
#: URLs at DEBUG, httpx every request URL at INFO. A filter on a logger sees only
#: records made on that very logger, hence the full names.
URL_LOGGERS = (
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.ext.Application",
    "httpx",
)
REDACTED = "<token>"


class _RedactToken(logging.Filter):
    """Replaces the token in a record's message: secrets must not reach any log,
    whatever level someone runs the bot at."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, REDACTED)
            record.args = None
        return True


def quiet_secret_loggers(token: str) -> None:
    """Keep ``token`` out of the logs: httpx is silenced below WARNING (a request line
    per call is noise anyway) and the loggers that print URLs redact the token."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(_RedactToken(token))


def run_polling(settings: Settings, content: Content) -> int:
    """Serve until interrupted (long polling); returns the process exit code."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    app = build_application(settings, content)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
