"""Long polling that loses nothing: each update is stored before Telegram hears it was
received, and deleted only once it is handled.

python-telegram-bot's own polling confirms a batch (the next ``getUpdates`` offset)
before its updates are handled, so a process killed in between loses them. Here a
batch is first stored in ``inbox_updates`` (one transaction), only then confirmed, and
each update's row is deleted after its handling committed. At start, the rows a
previous run left are handled first, in order. A stored update handled twice is
harmless: every handler claims its update id in its own transaction
(``storage.repo.updates.mark_processed``), so the second handling does nothing.

While the database cannot store a batch (an outage, a full disk) the batch is not
confirmed: Telegram keeps it (for a day) and the poller tries again after growing
pauses. An update whose handling keeps failing because the database cannot do the
work is tried again in place (its chat's later updates wait behind it, in order); after
:data:`PARK_AFTER_S` it is parked: kept, logged, counted in ``/health``, and tried again
at the next start. Any other failure is a bug the error handler logs; the update
counts as handled, as in webhook mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import Application

from sellerdesk.bot.database import Database
from sellerdesk.storage.db import unavailable
from sellerdesk.storage.repo import updates

log = logging.getLogger(__name__)

#: Seconds Telegram holds a ``getUpdates`` call open when nothing comes.
POLL_TIMEOUT_S = 10
#: Pauses between tries of a batch the database could not store, and of an update
#: whose handling failed on the database: doubling from the first, capped.
FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 10.0
#: An update whose handling has failed on the database for this long is parked.
PARK_AFTER_S = 600.0
#: Handled updates are deleted from the inbox in batches, at least this often.
FLUSH_S = 0.5


class DurablePoller:
    """Fetches updates for ``app`` and hands each to its update processor."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        db: Database,
        timeout: int = POLL_TIMEOUT_S,
        park_after: float = PARK_AFTER_S,
    ) -> None:
        self.app = app
        self.db = db
        self.timeout = timeout
        self.park_after = park_after
        self.task: asyncio.Task[None] | None = None
        #: What stopped polling for good (a refused token), if anything did.
        self.error: BaseException | None = None
        self._stopping = asyncio.Event()
        self._handling: set[asyncio.Task[None]] = set()
        #: Updates whose last handling failed because the database could not do it.
        self._failed: set[int] = set()
        #: Handled updates not deleted from the inbox yet.
        self._done: list[int] = []
        #: The next ``getUpdates`` offset (None: what Telegram has).
        self._offset: int | None = None
        self.parked = 0
        app.add_error_handler(self._note_failure)

    async def _note_failure(self, update: object, context: Any) -> None:
        error = context.error
        if isinstance(update, Update) and error is not None and unavailable(error):
            self._failed.add(update.update_id)

    async def start(self) -> None:
        """Handle what a previous run left, then poll in the background."""
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        left = await self._with_pauses(self.db.run, self._waiting)
        for update_id, payload in left:
            self._dispatch(Update.de_json(payload, self.app.bot))
            self._offset = update_id + 1
        if left:
            log.info("polling: %d stored update(s) from the last run handled first", len(left))
        self.task = asyncio.create_task(self._run(), name="durable-polling")

    async def stop(self) -> None:
        """Stop fetching, let the handlings in progress finish, record them, and tell
        Telegram what was stored (so nothing is fetched twice at the next start)."""
        self._stopping.set()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        if self._handling:
            await asyncio.gather(*self._handling, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._flush()
        if self._offset is not None:
            with contextlib.suppress(TelegramError):
                await self.app.bot.get_updates(offset=self._offset, timeout=0)

    # ------------------------------------------------------------------ fetching

    async def _run(self) -> None:
        pause = FIRST_PAUSE_S
        last_flush = time.monotonic()
        while not self._stopping.is_set():
            if self._done and time.monotonic() - last_flush >= FLUSH_S:
                try:
                    await self._flush()
                except Exception:  # deleted at the next flush; replays are harmless
                    log.exception("polling: recording handled updates failed")
                last_flush = time.monotonic()
            try:
                batch = await self.app.bot.get_updates(
                    offset=self._offset,
                    timeout=0 if self._done else self.timeout,
                    allowed_updates=Update.ALL_TYPES,
                )
            except InvalidToken as error:
                log.error("polling: Telegram refuses the token; stopping")
                self.error = error
                return
            except Conflict as error:
                log.error("polling: %s (another process polls, or a webhook is set)", error)
                await asyncio.sleep(MAX_PAUSE_S)
                continue
            except TelegramError as error:
                log.warning("polling: getUpdates failed (%s); trying again in %.1f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(2 * pause, MAX_PAUSE_S)
                continue
            pause = FIRST_PAUSE_S
            if not batch:
                continue
            rows = [(u.update_id, u.to_dict()) for u in batch]
            # Confirmed (the next offset) only once stored: until then Telegram keeps them.
            await self._with_pauses(self.db.run, self._store, rows)
            self._offset = batch[-1].update_id + 1
            for update in batch:
                self._dispatch(update)

    async def _with_pauses(self, call: Any, *args: Any) -> Any:
        """``await call(*args)`` until it succeeds, after growing pauses (the database
        is down or full: nothing goes on until it is back)."""
        pause = FIRST_PAUSE_S
        while True:
            try:
                return await call(*args)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "polling: the database cannot store updates (%s: %s); trying again in %.1f s",
                    type(error).__name__,
                    error,
                    pause,
                    exc_info=not unavailable(error),
                )
                await asyncio.sleep(pause)
                pause = min(2 * pause, MAX_PAUSE_S)

    def _store(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        with self.db.transaction() as session:
            updates.store_fetched(session, rows)

    def _waiting(self) -> list[tuple[int, dict[str, Any]]]:
        with self.db.transaction() as session:
            rows = updates.waiting_updates(session)
            return [(row.update_id, dict(row.payload)) for row in rows]

    async def _flush(self) -> None:
        done, self._done = self._done, []
        try:
            await self.db.run(self._remove, done)
        except Exception:
            self._done = done + self._done
            raise

    def _remove(self, update_ids: list[int]) -> None:
        with self.db.transaction() as session:
            updates.remove_handled(session, update_ids)

    # ------------------------------------------------------------------ handling

    def _dispatch(self, update: Update) -> None:
        processor = self.app.update_processor
        # Created in fetch order: the processor chains each chat's updates in that order.
        task = asyncio.create_task(processor.process_update(update, self._handle(update)))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _handle(self, update: Update) -> None:
        started = time.monotonic()
        pause = FIRST_PAUSE_S
        while True:
            self._failed.discard(update.update_id)
            await self.app.process_update(update)
            if update.update_id not in self._failed:
                self._done.append(update.update_id)
                return
            if time.monotonic() - started >= self.park_after:
                break
            if self._stopping.is_set():
                return  # stored: handled at the next start
            log.warning(
                "polling: update %s failed on the database; trying again in %.1f s",
                update.update_id,
                pause,
            )
            await asyncio.sleep(pause)
            pause = min(2 * pause, MAX_PAUSE_S)
        self._failed.discard(update.update_id)
        self.parked += 1
        log.error(
            "polling: update %s parked after %.0f s of database failures; it is tried "
            "again at the next start",
            update.update_id,
            self.park_after,
        )
        with contextlib.suppress(Exception):
            await self.db.run(self._park, update.update_id)

    def _park(self, update_id: int) -> None:
        with self.db.transaction() as session:
            updates.park_update(session, update_id, "the database could not handle it")
