"""Concurrent update processing that keeps each chat's updates in order.

PTB handles updates one after another by default: with every handler waiting for a
database transaction in a worker thread, a burst of buyers queues behind each other
(200 buyers at ~8 ms each is a 1.6 s wait for the last). PTB's own concurrent mode
runs updates of one chat concurrently too, which would reorder a buyer's messages.

:class:`PerChatUpdateProcessor` runs updates of different chats concurrently and
updates of one chat strictly one after another, in the order PTB fetched them.
Each update is still processed exactly once (PTB hands it over once; the desk's
``mark_processed`` guards redeliveries as before).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

#: Updates processed at once, across chats. Desk work runs in the default thread pool
#: (a handful of threads) and SQLite writes one transaction at a time anyway; this
#: bounds memory and open tasks under a burst, not throughput.
MAX_CONCURRENT_UPDATES = 64

#: The order key of updates with neither a chat nor a user: they go one at a time.
_NO_CHAT = ("none",)


def order_key(update: object) -> Hashable:
    """What an update must stay in order with: its chat, else its user, else every
    other such update."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
    return _NO_CHAT


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Different chats concurrently, one chat in order (see the module docstring)."""

    __slots__ = ("_tails",)

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        #: Per order key, the completion of the last update queued for it.
        self._tails: dict[Hashable, asyncio.Future[None]] = {}

    # PTB marks process_update final; it is overridden on purpose: the per-chat chain
    # must be taken before PTB's semaphore, whose wake-up order is not the fetch order.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        """Wait for the previous update of the same key, then process (within the
        concurrency limit). PTB starts these calls in the order it fetched updates,
        and the chaining below happens before the first suspension, so per key the
        order is the fetch order, whatever the semaphore's wake-up order."""
        key = order_key(update)
        previous = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done
        try:
            if previous is not None:
                # asyncio.wait does not cancel ``previous`` if this task is cancelled.
                await asyncio.wait([previous])
            await super().process_update(update, coroutine)
        finally:
            done.set_result(None)
            if self._tails.get(key) is done:
                del self._tails[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
