"""Running the real bot against the Bot API double, and talking to it as people do.

A test writes a scenario as a conversation::

    async def scenario(desk: Desk) -> None:
        await desk.buyer_says("/start lotus-wear")
        reply = await desk.buyer_gets()
        ...

The bot runs in the test's event loop (polling, handlers, the outbox sender), so
every blocking wait on the double goes through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sellerdesk.app import build_application, start_polling
from sellerdesk.bot.settings import Settings
from sellerdesk.faq.content.loader import load_content
from sellerdesk.storage.db import make_engine, session_factory
from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage, TopicRecord
from testing.runner_settings import UNPACED

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sellers"
BUYER = 5001
STAFF = 700000101
SUPPORT = -1001000000001
ADMIN_CHAT = -1009000000009
#: A line of a folded message: its time, then the buyer's text.
FOLDED = re.compile(r"^\d\d:\d\d · ")
#: Seconds a scenario may take before the test fails (they take well under one).
SCENARIO_TIMEOUT_S = 60


class Desk:
    """The people around the bot: a buyer in private, staff in the support chat."""

    def __init__(self, api: BotApiDouble, buyer: int = BUYER, support: int = SUPPORT) -> None:
        self.api = api
        self.buyer = buyer
        self.support = support
        self.seen = 0

    async def wait(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        return await asyncio.to_thread(self.api.wait_for, predicate, timeout)

    # ------------------------------------------------------------------ buyer

    def buyer_says(self, text: str, reply_to: int | None = None) -> StoredMessage:
        return self.api.user_sends_text(self.buyer, text, reply_to=reply_to)

    async def buyer_gets(self, count: int = 1) -> StoredMessage:
        """The next ``count``-th new bot message in the buyer's chat."""
        self.seen += count
        return await asyncio.to_thread(
            self.api.wait_for_message, self.buyer, count=self.seen, timeout=5.0
        )

    async def buyer_asks(self, text: str) -> StoredMessage:
        self.buyer_says(text)
        return await self.buyer_gets()

    def buyer_messages(self) -> list[StoredMessage]:
        return self.api.messages_in(self.buyer)

    # ------------------------------------------------------------------ staff

    async def topic(self, index: int = 0) -> TopicRecord:
        """The ``index``-th topic the bot made in the support chat."""
        topics = await self.wait(lambda: self.api.topics(self.support)[index:])
        return topics[0]  # type: ignore[no-any-return]

    async def in_topic(
        self, thread_id: int | None, where: Callable[[StoredMessage], bool], timeout: float = 5.0
    ) -> StoredMessage:
        """Wait for a bot message in the support chat (a topic, or the whole chat)."""

        def found() -> list[StoredMessage]:
            return [m for m in self.api.messages_in(self.support, thread_id) if where(m)]

        return (await self.wait(found, timeout))[-1]  # type: ignore[no-any-return]

    def staff_says(
        self, text: str, thread_id: int | None, user: int = STAFF, reply_to: int | None = None
    ) -> StoredMessage:
        return self.api.member_sends_text(self.support, user, text, thread_id, reply_to)


def shown_lines(api: BotApiDouble, chat_id: int, thread_id: int | None = None) -> list[str]:
    """What staff read of buyers' words in a chat, in order: each copy's text, and each
    line of a message that folded several or of a card that carries them
    (``HH:MM · text``, see outbox.folding)."""
    lines: list[str] = []
    for m in api.messages_in(chat_id, thread_id):
        if m.copied_from is not None:
            lines.append(m.text or m.caption or "")
        elif m.text:
            lines += [line.split(" · ", 1)[1] for line in m.text.split("\n") if FOLDED.match(line)]
    return lines


def shows(message: StoredMessage, source: StoredMessage) -> bool:
    """Whether a bot message in the staff chat shows the buyer's ``source``: its copy,
    or a text holding it whole on a line (the card carrying a first question, a folded
    line)."""
    if message.copied_from is not None:
        return message.copied_from == (source.chat.id, source.message_id)
    wanted = source.text or ""
    return bool(wanted) and any(line.endswith(wanted) for line in (message.text or "").split("\n"))


def settings_for(api: BotApiDouble, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "token": api.token,
        "api_url": api.url,
        "database_url": f"sqlite:///{tmp_path / 'desk.db'}",
        "content_dir": DEMO,
        "admin_chat_id": ADMIN_CHAT,
        "admin_user_ids": frozenset(),
        "matcher": "fuzzy",
        "secret_key": "test-secret",
        # Scenarios start from fixed content; tests of live reload turn the watcher on.
        "content_watch": False,
        # Pacing has tests of its own; here it would only slow the scenarios down.
        "pacing": UNPACED,
    }
    values.update(overrides)
    return Settings(**values)


def run_desk(
    api: BotApiDouble,
    settings: Settings,
    scenario: Callable[[Desk], Awaitable[None]],
    content_dir: Path | None = None,
    desk: Desk | None = None,
) -> None:
    """Run the real application (polling, sender) against ``api`` for ``scenario``."""
    content = load_content(content_dir or settings.content_dir)

    async def main() -> None:
        app = build_application(settings, content)
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            await app.start()
            poller = await start_polling(app, timeout=1)
            try:
                await scenario(desk or Desk(api))
            finally:
                await poller.stop()
                await app.stop()
                if app.post_stop is not None:
                    await app.post_stop(app)
        if app.post_shutdown is not None:
            await app.post_shutdown(app)

    asyncio.run(asyncio.wait_for(main(), SCENARIO_TIMEOUT_S))


def open_db(settings: Settings) -> Session:
    """A session on the bot's database, to check what it stored."""
    return session_factory(make_engine(settings.database_url))()
