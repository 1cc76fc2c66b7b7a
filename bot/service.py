"""The desk as handlers see it: the buyer and staff sides, the database, the sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from telegram.ext import filters

from sellerdesk.bot.channels.ozon_questions import OzonQuestions
from sellerdesk.bot.channels.telegram_business import BusinessChats
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.admin import AdminConversation
from sellerdesk.bot.desk.answers import ContentSnapshot, FaqAnswers, LiveContent
from sellerdesk.bot.desk.buyers import BuyerConversation
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.staff import StaffConversation
from sellerdesk.bot.reload import ContentReloader
from sellerdesk.bot.schedule.digest import DigestSweep
from sellerdesk.bot.schedule.retention import RetentionSweep
from sellerdesk.bot.schedule.sla import SlaSweep
from sellerdesk.bot.settings import Settings
from sellerdesk.bot.telegram_io.outbox import OutboxSender
from sellerdesk.faq.content.model import Content
from sellerdesk.storage.db import unavailable
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import settings as stored_settings

log = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A")

#: Pauses before an update's work is tried again while the database is unavailable.
UNAVAILABLE_PAUSES_S = (0.5, 1.0, 2.0, 4.0, 8.0)
#: Name of the generated alias key in the database (used when SECRET_KEY is unset).
ALIAS_KEY_SETTING = "alias_key"
#: Bytes of a generated alias key: 256 bits, as for any HMAC-SHA256 key.
ALIAS_KEY_BYTES = 32


def alias_key(db: Database, configured: str) -> bytes:
    """The key of buyer aliases: ``SECRET_KEY`` if set, else one generated on first
    start and kept in the database, so aliases stay stable across restarts and
    processes. Changing it changes every alias staff see."""
    if configured:
        return configured.encode()
    with db.transaction() as session:
        value = stored_settings.get_or_create_setting(
            session, ALIAS_KEY_SETTING, lambda: secrets.token_hex(ALIAS_KEY_BYTES)
        )
    return value.encode()


class DeskService:
    """Everything the handlers call. Built with the application, prepared in its
    ``post_init`` (migrations and the alias key need the database)."""

    def __init__(self, settings: Settings, content: Content, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.live = LiveContent(content)
        self.faq = FaqAnswers(self.live, settings.matcher, settings.cache_dir)
        #: Chats the staff handlers listen in: every seller's support chat, and chats
        #: that still hold open cases (a seller removed, or moved to another chat).
        #: Grows with reloads, never shrinks while running.
        self.support_chat_filter = filters.Chat(chat_id=_support_chats(self.live.current))
        self.reloader: ContentReloader | None = None
        #: Called on the event loop after each successful reload (command menus).
        self.swap_listeners: list[Callable[[ContentSnapshot], None]] = []
        self.sender: OutboxSender | None = None
        self._sides: (
            tuple[BuyerConversation, StaffConversation, AdminConversation, SlaSweep] | None
        ) = None
        self._digest: DigestSweep | None = None
        self._business: BusinessChats | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Ozon product questions, when the application runs them (set by its wiring).
        self.ozon_questions: OzonQuestions | None = None
        #: Deletes sent messages' texts and old update ids (rides the deadline tick).
        self.retention = RetentionSweep(db, settings.retention)

    def prepare(self) -> DeskContext:
        """Migrate the database, load the alias key and build every seller's matcher
        (blocking: run off the loop, before updates are taken)."""
        self.db.prepare()
        started = time.monotonic()
        built = self.faq.build_all()
        log.info(
            "matchers of %d sellers ready in %.1f s (the sentence encoders, if any, read "
            "the FAQs and catalogs in the background)",
            built,
            time.monotonic() - started,
        )
        ctx = DeskContext(
            faq=self.faq,
            alias_key=alias_key(self.db, self.settings.secret_key),
            admin_chat_id=self.settings.admin_chat_id,
            admin_user_ids=self.settings.admin_user_ids,
            admin_language=self.settings.admin_language,
        )
        self._sides = (
            BuyerConversation(
                self.db, ctx, timedelta(seconds=self.settings.return_flow_timeout_seconds)
            ),
            StaffConversation(self.db, ctx),
            AdminConversation(self.db, ctx),
            SlaSweep(self.db, ctx),
        )
        self._digest = DigestSweep(self.db, ctx)
        self._business = BusinessChats(self.db, ctx, self._sides[0])
        self._sides[1].content_changed = self._content_changed
        with self.db.transaction() as session:
            self.support_chat_filter.add_chat_ids(
                {c.staff_chat_id for c in cases_repo.list_open_cases(session) if c.staff_chat_id}
            )
        self.reloader = ContentReloader(
            self.faq,
            self.db,
            self.settings.content_dir,
            self.settings.admin_chat_id,
            ctx.admin_language,
            on_swap=self._content_swapped,
            on_queued=self._kick,
        )
        return ctx

    def _prepared(self) -> tuple[BuyerConversation, StaffConversation, AdminConversation, SlaSweep]:
        if self._sides is None:
            raise RuntimeError("the desk is not prepared")
        return self._sides

    @property
    def buyers(self) -> BuyerConversation:
        return self._prepared()[0]

    @property
    def staff(self) -> StaffConversation:
        return self._prepared()[1]

    @property
    def admin(self) -> AdminConversation:
        return self._prepared()[2]

    @property
    def sla(self) -> SlaSweep:
        return self._prepared()[3]

    @property
    def business(self) -> BusinessChats:
        """Buyers writing to sellers' own Telegram Business accounts."""
        if self._business is None:
            raise RuntimeError("the desk is not prepared")
        return self._business

    async def sla_tick(self) -> int:
        """One deadline sweep (the scheduler's job); wakes the sender for what it queued."""
        sent = await self.call(lambda sweep: sweep.tick(), self.sla)
        if self._digest is not None:
            # The digest rides the same tick: one query per seller, due once a day.
            sent += await self.call(lambda sweep: sweep.tick(), self._digest)
        try:
            await self.db.run(self.retention.tick)
        except Exception:  # deleting old rows can wait for the next tick
            log.exception("retention sweep failed")
        return sent

    @property
    def content(self) -> Content:
        """The seller content served now."""
        return self.live.current.content

    @property
    def support_chats(self) -> list[int]:
        """Chat ids where sellers' staff work (and where open cases still live)."""
        return sorted(self.support_chat_filter.chat_ids)

    # ------------------------------------------------------------------ content reload

    def _prepared_reloader(self) -> ContentReloader:
        if self.reloader is None:
            raise RuntimeError("the desk is not prepared")
        return self.reloader

    def _content_changed(self) -> None:
        """A faq.yaml was changed from the desk (any thread): reload now."""
        loop = self._loop
        if loop is None or self.reloader is None:
            return
        reloader = self.reloader

        def start() -> None:
            loop.create_task(reloader.reload(), name="content-reload")

        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(start)

    def start_content_watch(self) -> None:
        """Reload the content when its files change (``CONTENT_WATCH``); call on the
        running loop after :meth:`prepare`."""
        self._loop = asyncio.get_running_loop()
        if self.settings.content_watch:
            self._prepared_reloader().start()

    async def stop_content_watch(self) -> None:
        if self.reloader is not None:
            await self.reloader.stop()

    async def reload_content(self, reply_to: int | None = None) -> None:
        """Reload the content now (``/reload``); the admin chat gets the result."""
        await self._prepared_reloader().reload(reply_to=reply_to)

    def _content_swapped(self, snapshot: ContentSnapshot) -> None:
        # New chats (a new seller, a changed support_chat_id, a new group) are listened in at once;
        # old ones stay, their open cases still live there.
        self.support_chat_filter.add_chat_ids(_support_chats(snapshot))
        for listener in self.swap_listeners:
            listener(snapshot)

    def _kick(self) -> None:
        if self.sender is not None:
            self.sender.kick()

    async def call(self, work: Callable[[A], T], arg: A) -> T:
        """Run one update's desk work off the event loop; the sender hears of the
        messages it queued (see :class:`bot.desk.outgoing.Handoff`).

        While the database cannot do the work (a restart, a failover: see
        ``storage.db.unavailable``) the work is tried again after growing pauses,
        about 15 s in all, the chat's later updates waiting behind it in order; then
        the error reaches the caller. Trying again is safe: the failed transaction
        committed nothing, and one whose commit did land has marked its update
        processed, so the next try does nothing.
        """
        for pause in (*UNAVAILABLE_PAUSES_S, None):
            try:
                result = await self.db.run(work, arg)
                break
            except Exception as error:
                if pause is None or not unavailable(error):
                    raise
                log.warning(
                    "database unavailable (%s): trying the update again in %.1f s",
                    type(error).__name__,
                    pause,
                )
                await asyncio.sleep(pause)
        if self.sender is not None and self.db.handoff is None:
            # A running sender hears of queued rows from the transaction itself.
            self.sender.kick()
        return result


def _support_chats(snapshot: ContentSnapshot) -> set[int]:
    return set(snapshot.chat_owners)
