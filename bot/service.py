"""The desk as handlers see it: the buyer and staff sides, the database, the sender."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from bot.admin import AdminDesk
from bot.buyers import BuyerDesk
from bot.cases import DeskContext
from bot.database import Database
from bot.desk import FaqDesk
from bot.digest import DigestSweep
from bot.outbox import OutboxSender
from bot.settings import Settings
from bot.sla import SlaSweep
from bot.staff import StaffDesk
from faq.model import Content
from storage.repo import settings as stored_settings

T = TypeVar("T")
A = TypeVar("A")

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
        self.content = content
        self.db = db
        self.faq = FaqDesk(content, settings.matcher, settings.cache_dir)
        self.sender: OutboxSender | None = None
        self._sides: tuple[BuyerDesk, StaffDesk, AdminDesk, SlaSweep] | None = None
        self._digest: DigestSweep | None = None

    def prepare(self) -> DeskContext:
        """Migrate the database and load the alias key (blocking: run off the loop)."""
        self.db.prepare()
        ctx = DeskContext(
            content=self.content,
            faq=self.faq,
            alias_key=alias_key(self.db, self.settings.secret_key),
            admin_chat_id=self.settings.admin_chat_id,
            admin_user_ids=self.settings.admin_user_ids,
        )
        self._sides = (
            BuyerDesk(self.db, ctx, timedelta(seconds=self.settings.return_flow_timeout_seconds)),
            StaffDesk(self.db, ctx),
            AdminDesk(self.db, ctx),
            SlaSweep(self.db, ctx),
        )
        self._digest = DigestSweep(self.db, ctx)
        return ctx

    def _prepared(self) -> tuple[BuyerDesk, StaffDesk, AdminDesk, SlaSweep]:
        if self._sides is None:
            raise RuntimeError("the desk is not prepared")
        return self._sides

    @property
    def buyers(self) -> BuyerDesk:
        return self._prepared()[0]

    @property
    def staff(self) -> StaffDesk:
        return self._prepared()[1]

    @property
    def admin(self) -> AdminDesk:
        return self._prepared()[2]

    @property
    def sla(self) -> SlaSweep:
        return self._prepared()[3]

    async def sla_tick(self) -> int:
        """One deadline sweep (the scheduler's job); wakes the sender for what it queued."""
        sent = await self.call(lambda sweep: sweep.tick(), self.sla)
        if self._digest is not None:
            # The digest rides the same tick: one query per seller, due once a day.
            sent += await self.call(lambda sweep: sweep.tick(), self._digest)
        return sent

    @property
    def support_chats(self) -> list[int]:
        """Chat ids where sellers' staff work."""
        return sorted({s.support_chat_id for s in self.content.sellers.values()})

    async def call(self, work: Callable[[A], T], arg: A) -> T:
        """Run one update's desk work off the event loop, then wake the sender for the
        messages it queued."""
        result = await self.db.run(work, arg)
        if self.sender is not None:
            self.sender.kick()
        return result
