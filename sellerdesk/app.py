"""Wiring of the Telegram application: settings, the desk, handlers, the outbox sender,
error logging."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import signal
from datetime import timedelta

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from sellerdesk.bot.channels.ozon_cases import OzonCaseSender
from sellerdesk.bot.channels.ozon_chats import OzonChats
from sellerdesk.bot.channels.ozon_push import OzonPushServer
from sellerdesk.bot.channels.ozon_questions import OzonQuestions
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import ContentSnapshot
from sellerdesk.bot.service import DeskService
from sellerdesk.bot.settings import Settings, SettingsError
from sellerdesk.bot.telegram_io import chat_check, commands
from sellerdesk.bot.telegram_io.health import HealthServer
from sellerdesk.bot.telegram_io.http import AiohttpRequest
from sellerdesk.bot.telegram_io.ordering import PerChatUpdateProcessor
from sellerdesk.bot.telegram_io.outbox import OutboxSender
from sellerdesk.bot.telegram_io.pacing import Pacer
from sellerdesk.bot.telegram_io.polling import POLL_TIMEOUT_S, DurablePoller
from sellerdesk.bot.telegram_io.webhook import WebhookServer
from sellerdesk.faq.content.model import Content
from sellerdesk.handlers import admin, business, buttons, buyer, staff
from sellerdesk.storage.repo import sellers

log = logging.getLogger("sellerdesk")

#: What Telegram accepts as a webhook secret token (setWebhook's secret_token).
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: The shortest WEBHOOK_SECRET accepted (Telegram takes 1-256 characters; a short one
#: can be guessed), and the values of the example files, refused as they are.
MIN_WEBHOOK_SECRET = 32
EXAMPLE_SECRETS = frozenset({"replace-me"})
#: Connections to the Bot API for the bot's calls (getUpdates has its own): 16
#: kept-alive connections carry far more than Telegram's 30 messages a second at
#: real-world round trips (see :mod:`bot.telegram_io.http`).
HTTP_CONNECTIONS = 16


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
    health: list[HealthServer] = []  # started in post_init when a port is set
    channels: list[OzonChats] = []  # made in post_init
    question_passes: list[OzonQuestions] = []  # made in post_init
    push_servers: list[OzonPushServer] = []  # started in post_init when a port is set

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        ctx = await asyncio.to_thread(service.prepare)
        await asyncio.to_thread(_mark_sellers_seen, db, content)
        service.sender = OutboxSender(
            db,
            app.bot,
            ctx,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            pacer=Pacer(settings.pacing),
        )
        service.sender.start()
        service.start_content_watch()  # content reload: CONTENT_WATCH
        if app.job_queue is None:  # the job-queue extra is a dependency; say so if missing
            raise RuntimeError("python-telegram-bot[job-queue] is needed for deadlines")
        # The scheduler only ticks; what is due lives in the database (bot.schedule.sla).
        app.job_queue.run_repeating(
            _sla_tick, interval=settings.sla_tick_seconds, first=0, name="sla-sweep"
        )
        # Ozon buyer chats of the sellers that have them (a pass does nothing otherwise,
        # so a reload adding an ``ozon`` section needs no restart).
        ozon_chats = OzonChats(db, ctx, settings.ozon_api_url, settings.ozon_api_rps)
        channels.append(ozon_chats)
        # What staff write to an Ozon chat's case goes out through the sender, as all.
        service.sender.delivery.ozon = OzonCaseSender(db, app.bot, ozon_chats)
        # Ozon product questions share the chats' clients; staff's presses and replies
        # on their drafts reach them through the service and the staff side.
        questions = OzonQuestions(db, ctx, ozon_chats, settings.ozon_questions_poll_seconds)
        question_passes.append(questions)
        service.ozon_questions = questions
        service.staff.reply_hooks.append(questions.staff_reply)
        if settings.ozon_push_port:
            push = OzonPushServer(
                settings.webhook_listen,
                settings.ozon_push_port,
                settings.ozon_push_path,
                ozon_chats.wake,
            )
            await push.start()
            push_servers.append(push)
        app.job_queue.run_repeating(
            _ozon_tick, interval=settings.ozon_poll_seconds, first=1, name="ozon-chats"
        )
        # Command menus per chat and language; a refused one is logged, never fatal. Before the
        # health endpoint: it reports ready only once startup is done.
        await commands.set_menus(
            app.bot, commands.menus(content, settings.admin_chat_id, settings.admin_language)
        )

        def refresh_menus(snapshot: ContentSnapshot) -> None:
            # A new seller's staff chat, or a changed staff_language, gets its menu now.
            wanted = commands.menus(
                snapshot.content, settings.admin_chat_id, settings.admin_language
            )
            app.create_task(commands.set_menus(app.bot, wanted), name="command-menus")

        service.swap_listeners.append(refresh_menus)
        # Every staff group and the admin chat: can the bot work there? (Before the
        # health endpoint, as the menus; again after each reload.)
        await chat_check.check_chats(app.bot, db, ctx)

        def recheck_chats(snapshot: ContentSnapshot) -> None:
            app.create_task(chat_check.check_chats(app.bot, db, ctx), name="chat-check")

        service.swap_listeners.append(recheck_chats)
        if settings.webhook_health_port:
            server = HealthServer(
                db, app.bot, settings.webhook_listen, settings.webhook_health_port
            )
            await server.start()
            health.append(server)
        log.info("serving %d seller(s): %s", len(content.sellers), ", ".join(content.sellers))

    async def post_stop(app: Application) -> None:  # type: ignore[type-arg]
        await service.stop_content_watch()
        while push_servers:
            await push_servers.pop().stop()
        while channels:
            await channels.pop().close()
        while health:
            await health.pop().stop()
        if service.sender is not None:
            await service.sender.stop()

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        db.dispose()

    async def _ozon_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        for channel in channels:
            try:
                await channel.tick()
            except Exception:  # one failed pass must not stop the next ones
                log.exception("Ozon chats pass failed")
        for questions in question_passes:
            try:
                await questions.tick()
            except Exception:
                log.exception("Ozon questions pass failed")

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
        # Chats are handled concurrently, each chat's updates still in order.
        .concurrent_updates(PerChatUpdateProcessor())
        .request(AiohttpRequest(HTTP_CONNECTIONS))
        .get_updates_request(AiohttpRequest(1))
        .build()
    )
    # Note: order matters. Buyer commands, then buyer messages; staff likewise; the
    # handlers' filters keep the two kinds of chat apart.
    business.register(app, service)
    buyer.register(app, service)
    staff.register(app, service)
    admin.register(app, service)
    buttons.register(app, service)
    app.add_error_handler(_log_error)
    app.bot_data[SERVICE_KEY] = service
    return app


#: Where the application keeps its desk service (for the poller's database).
SERVICE_KEY = "sellerdesk.service"


async def start_polling(
    app: Application,  # type: ignore[type-arg]
    timeout: int = POLL_TIMEOUT_S,
) -> DurablePoller:
    """Start long polling for a started ``app``: every update stored before Telegram
    hears it was received (see :mod:`bot.telegram_io.polling`)."""
    service: DeskService = app.bot_data[SERVICE_KEY]
    poller = DurablePoller(app, service.db, timeout=timeout)
    await poller.start()
    return poller


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
    """Replaces secrets in a record's message and in its traceback: they must not reach
    any log, whatever fails and whatever level someone runs the bot at."""

    def __init__(self, token: str, *more: str) -> None:
        super().__init__()
        self.token = token
        #: Every secret replaced; short values (an unset or test key) are left alone.
        self.secrets = tuple(s for s in (token, *more) if len(s) >= MIN_SECRET_CHARS)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


#: Secrets shorter than this are not searched for in log records.
MIN_SECRET_CHARS = 6


def redact_secrets(settings: Settings) -> None:
    """Keep every secret of ``settings`` out of whatever the root logger's handlers write
    (messages and tracebacks of any logger, ours and the libraries')."""
    secrets = (settings.token, settings.ozon_api_key, settings.webhook_secret, settings.secret_key)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _RedactToken) for f in handler.filters):
            handler.addFilter(_RedactToken(*secrets))


def quiet_secret_loggers(token: str) -> None:
    """Keep ``token`` out of the logs: httpx is silenced below WARNING (a request line
    per call is noise anyway) and the loggers that print URLs redact the token."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(_RedactToken(token))


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    # The scheduler logs two lines per tick (every few seconds): noise that drowns the
    # desk's own events. Its warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    redact_secrets(settings)


def _freeze_startup_objects() -> None:
    """Keep what startup built (modules, content, the application), which lives as long
    as the process, out of full garbage collections: a content reload allocates enough
    to trigger one, and scanning the whole heap would stop the event loop for a few
    hundred milliseconds."""
    gc.freeze()


def run_polling(settings: Settings, content: Content) -> int:
    """Serve until SIGTERM or SIGINT (long polling); returns the process exit code."""
    _configure_logging(settings)
    app = build_application(settings, content)
    _freeze_startup_objects()
    try:
        asyncio.run(_serve_polling(app))
    except InvalidToken:
        log.error("Telegram refuses TELEGRAM_BOT_TOKEN: check it with @BotFather")
        return 1
    except Exception:  # logged through the redacting filter, never printed raw
        log.exception("the bot stopped")
        return 1
    return 0


async def _serve_polling(app: Application) -> None:  # type: ignore[type-arg]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    async with app:  # initialize ... shutdown
        assert app.post_init is not None and app.post_stop is not None
        await app.post_init(app)
        await app.start()
        poller = await start_polling(app)
        stopped = asyncio.create_task(stop.wait())
        try:
            assert poller.task is not None
            await asyncio.wait([stopped, poller.task], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            failed = poller.task is not None and poller.task.done() and not stop.is_set()
            await poller.stop()
            await app.stop()
            await app.post_stop(app)
        if failed and poller.error is not None:
            raise poller.error


def check_webhook_settings(settings: Settings) -> None:
    """Refuse to start a webhook that anyone could call.

    Raises:
        SettingsError: ``WEBHOOK_SECRET`` or ``WEBHOOK_URL`` is missing or malformed.
    """
    if not settings.webhook_secret:
        raise SettingsError(
            "WEBHOOK_SECRET is required in webhook mode: without it anyone who finds the "
            "URL can send the bot forged updates. Set 1-256 characters of A-Z a-z 0-9 _ -"
        )
    if not WEBHOOK_SECRET_RE.fullmatch(settings.webhook_secret):
        raise SettingsError("WEBHOOK_SECRET may hold only A-Z a-z 0-9 _ - (1-256 characters)")
    if len(settings.webhook_secret) < MIN_WEBHOOK_SECRET or settings.webhook_secret in (
        EXAMPLE_SECRETS
    ):
        raise SettingsError(
            f"WEBHOOK_SECRET must be at least {MIN_WEBHOOK_SECRET} random characters, not "
            "an example value: anyone who guesses it can send the bot forged updates. "
            "Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if not settings.webhook_url.startswith("https://"):
        raise SettingsError(
            "WEBHOOK_URL must be the public https URL Telegram calls, "
            "e.g. https://desk.example.com/telegram"
        )


def run_webhook(settings: Settings, content: Content) -> int:
    """Serve until SIGTERM or SIGINT, Telegram calling ``WEBHOOK_URL``; returns the
    exit code.

    Registers the webhook (setWebhook with the secret) once start-up is done, and
    answers each of Telegram's POSTs once its update is handled (``bot.telegram_io.webhook``:
    with several processes, a chat's updates are then handled in Telegram's order
    whichever process gets them); requests without the secret get 403.
    """
    check_webhook_settings(settings)
    _configure_logging(settings)
    app = build_application(settings, content)
    _freeze_startup_objects()
    try:
        asyncio.run(_serve_webhook(app, settings))
    except TelegramError as error:  # setWebhook refused or Telegram unreachable at start
        log.error("cannot register the webhook with Telegram: %s", error)
        return 1
    except Exception:  # logged through the redacting filter, never printed raw
        log.exception("the bot stopped")
        return 1
    return 0


async def _serve_webhook(app: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    async with app:  # initialize ... shutdown
        assert app.post_init is not None and app.post_stop is not None
        await app.post_init(app)
        await app.start()
        server = WebhookServer(
            app,
            settings.webhook_listen,
            settings.webhook_port,
            settings.webhook_path,
            settings.webhook_secret,
        )
        await server.start()
        try:
            # Only now: Telegram's first POST finds the desk ready and listening.
            await app.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
            await stop.wait()
        finally:
            await server.stop()
            await app.stop()
            await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
