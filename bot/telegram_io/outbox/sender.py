"""The outbox sender's loop: claims due rows, starts their sends, records them in batches.

Runs as one asyncio task beside polling. It wakes when a handler has enqueued
something (:meth:`OutboxSender.kick`) and every :data:`POLL_INTERVAL_S` anyway, so
rows written by another process, or put back for later, are not forgotten. Rows that
need nothing resolved (an FAQ answer: no case) are handed to it by the handler's
transaction, already claimed (see :class:`bot.desk.outgoing.Handoff`), and go out as
soon as that commits. Every call waits its turn under Telegram's flood limits first
(:mod:`bot.telegram_io.pacing`); what each call's answer means is
:mod:`bot.telegram_io.outbox.delivery`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import timedelta

from sqlalchemy.orm import Session
from telegram import Bot

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.settings import Pacing
from sellerdesk.bot.telegram_io.outbox import folding, notices
from sellerdesk.bot.telegram_io.outbox.delivery import Delivery
from sellerdesk.bot.telegram_io.outbox.jobs import Job, direct_job, resolve
from sellerdesk.bot.telegram_io.outbox.records import record_sent
from sellerdesk.bot.telegram_io.pacing import Pacer
from sellerdesk.storage.models import OutboxMessage
from sellerdesk.storage.repo import outbox, senders
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: Seconds between looks at the outbox when nobody kicks the sender: rows put back
#: for later (429, backoff) and rows from other processes wait at most this long.
POLL_INTERVAL_S = 1.0
#: A row stored for a claim behind a row that no task of this sender holds (another
#: process's, or one put back for later) is looked for again this soon, then at doubling
#: intervals up to POLL_INTERVAL_S: the other process records its send without telling
#: this one, and a buyer's next message should not wait a whole poll for it.
QUEUED_POLL_S = 0.01
#: Seconds the sender lets kicks and finished sends gather before it records and
#: claims in one transaction: under a burst, one transaction per few milliseconds
#: rather than one per message. Rows handed over by handlers do not wait for it.
GATHER_S = 0.005
#: Seconds between a sender's heartbeats in the database (``storage.repo.senders``):
#: how soon the other processes notice one that started or stopped and share
#: Telegram's limits anew. One not heard from for HEARTBEAT_LIVE_S is gone (crashed).
HEARTBEAT_S = 5.0
HEARTBEAT_LIVE_S = 3 * HEARTBEAT_S
#: Rows being sent at once at most, each to a different chat. Pacing keeps the rate
#: at Telegram's; this bounds open tasks and connections when a backlog is due.
MAX_IN_FLIGHT = 64
#: Chats remembered as having rows queued for a claim (see OutboxSender._queued).
MAX_QUEUED_CHATS = 10_000


class OutboxSender:
    """Sends outbox rows through ``bot``; one per process, any number of processes.

    A pipeline, not batch after batch: each claimed row is sent by a task of its own
    (paced by :class:`bot.telegram_io.pacing.Pacer`), and as soon as sends finish the loop records
    them and claims what has become due in one transaction. A slow chat (a group
    waiting for its minute's allowance, a 429) holds back only its own queue.
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        ctx: DeskContext,
        lease: timedelta = outbox.DEFAULT_LEASE,
        pacer: Pacer | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.ctx = ctx
        #: How long a claimed row stays this worker's. After a crash its rows wait this
        #: long before another worker (or the restarted one) sends them again.
        self.lease = lease
        #: Keeps sends below Telegram's flood limits (default: Telegram's own figures).
        self.pacer = pacer or Pacer(Pacing())
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._beat_task: asyncio.Task[None] | None = None
        self._stopping = False
        #: Rows being sent, by row id, and their chats.
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._flight_chats: dict[int, int] = {}
        #: Sends that succeeded and are not recorded yet.
        self._done: list[tuple[Job, list[int]]] = []
        #: Rows whose send never started (the sender stopped while they were paced).
        self._unsent: list[int] = []
        #: Rows in flight still waiting for the pacer (not on the wire yet).
        self._pacing: set[int] = set()
        #: Whether the next step should look for claimable rows: something was queued
        #: for a claim, the last claim filled the batch, or rows were given back. Steps
        #: that only record sends (FAQ answers, handed over) skip the claim query.
        self._claim_wanted = True
        #: Loop time of the last claim; one is made at least every POLL_INTERVAL_S, busy
        #: or not, for rows put back for later and rows of other processes.
        self._last_claim = 0.0
        #: Chats with rows stored for a claim that may wait behind a row of this
        #: sender's: recording a send to one of them is worth a claim.
        self._queued_chats: set[int] = set()
        #: The next short poll's delay (see QUEUED_POLL_S).
        self._queued_poll = QUEUED_POLL_S
        #: Makes each row's call and settles its failures.
        self.delivery = Delivery(db, bot, ctx, self.pacer, self.worker_id, self.kick)

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="outbox-sender")
        self._beat_task = asyncio.create_task(self._heartbeat(), name="outbox-heartbeat")
        loop = asyncio.get_running_loop()

        def deliver(rows: list[OutboxMessage]) -> None:
            jobs = [direct_job(row) for row in rows]
            with contextlib.suppress(RuntimeError):  # the loop has closed: leases cover it
                loop.call_soon_threadsafe(self._adopt, jobs)

        def queued(chats: set[int]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: polls cover it
                loop.call_soon_threadsafe(self._queued, chats)

        self.db.handoff = outgoing.Handoff(self.worker_id, self.lease, deliver, queued)

    def _queued(self, chats: set[int]) -> None:
        """Rows for ``chats`` wait for a claim (see :class:`bot.desk.outgoing.Handoff`)."""
        if len(self._queued_chats) > MAX_QUEUED_CHATS:
            self._queued_chats.clear()  # forgetting only costs a wait for the next poll
        self._queued_chats |= chats
        self._queued_poll = QUEUED_POLL_S
        self.kick()

    def _poll_interval(self) -> float:
        """How long the sender may go without a claim: briefly while a row waits for
        its turn behind a row no task here is sending (that one may be recorded by
        another process at any moment), else POLL_INTERVAL_S."""
        if not self._queued_chats:
            return POLL_INTERVAL_S
        sending = set(self._flight_chats.values())
        if any(chat not in sending for chat in self._queued_chats):
            return self._queued_poll
        return POLL_INTERVAL_S

    def _adopt(self, jobs: list[Job]) -> None:
        """Rows a handler stored claimed by this sender (see :class:`outgoing.Handoff`)."""
        for job in jobs:
            if self._stopping:
                self._unsent.append(job.id)  # given back by the last step (else: lease)
            elif job.id not in self._in_flight:
                self._start(job)

    async def stop(self) -> None:
        """Finish the sends in flight, give back rows still waiting for their turn,
        record everything, then stop."""
        self._stopping = True
        self.db.handoff = None
        self._wake.set()
        if self._beat_task is not None:
            self._beat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat_task
            self._beat_task = None
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.db.run(self._forget)
        except Exception:  # the others count this sender gone once its heartbeat is old
            log.exception("outbox: removing the heartbeat failed")

    async def _heartbeat(self) -> None:
        """Say this sender runs, every HEARTBEAT_S, and pace at the share of Telegram's
        limits the count of running senders leaves it."""
        while not self._stopping:
            try:
                count = await self.db.run(self._beat)
            except Exception:  # keep the share it had; the next beat tries again
                log.exception("outbox: heartbeat failed")
            else:
                if count != self.pacer.senders:
                    log.info("outbox: %d senders share Telegram's limits", count)
                self.pacer.share(count)
            await asyncio.sleep(HEARTBEAT_S)

    def _beat(self) -> int:
        with self.db.transaction() as session:
            live = timedelta(seconds=HEARTBEAT_LIVE_S)
            return senders.beat(session, self.worker_id, live)

    def _forget(self) -> None:
        with self.db.transaction() as session:
            senders.forget(session, self.worker_id)

    def kick(self) -> None:
        """Look at the outbox now (a handler has just enqueued something)."""
        self._claim_wanted = True
        self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping:
            # Kicks and finished sends come in bursts: one transaction takes them all.
            await asyncio.sleep(GATHER_S)
            self._wake.clear()
            try:
                busy = await self.step(claim=None)
            except Exception:  # the sender must outlive any one failure
                log.exception("outbox sender step failed")
                busy = False
            if not busy and not self._stopping:  # stop() may have come during the step
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval())
        await self._drain()

    async def _drain(self) -> None:
        """Stopping: rows still waiting for pacing go back untried; sends on the wire
        finish; everything is recorded."""
        for job_id, task in self._in_flight.items():
            if job_id in self._pacing:  # sends on the wire are not interrupted
                task.cancel()
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        try:
            await self.step(claim=False)
        except Exception:
            log.exception("outbox: recording the last sends failed")

    async def step(self, claim: bool | None = True) -> int:
        """Record the sends that finished and claim what is due, in one transaction,
        and start sending the claimed rows; returns how many rows it recorded, gave
        back or claimed (0: nothing to do until something is enqueued or finishes).

        ``claim``: True always claims, False never; None (the loop) claims only when
        something may be claimable (see :meth:`_wants_claim`).

        One transaction for the lot: a transaction per row made the database, not
        Telegram, the limit under load. A row's next one in its chat is claimable
        only once the row is recorded as sent, so per-chat order is unchanged.
        """
        done, self._done = self._done, []
        unsent, self._unsent = self._unsent, []
        if claim is None:
            claim = self._wants_claim(done, unsent)
        room = MAX_IN_FLIGHT - len(self._in_flight) if claim else 0
        if not (done or unsent or room > 0):
            return 0
        if room > 0:
            self._claim_wanted = False
            self._last_claim = asyncio.get_running_loop().time()
            if self._poll_interval() < POLL_INTERVAL_S:  # nothing new: look less often
                self._queued_poll = min(2 * self._queued_poll, POLL_INTERVAL_S)
        jobs = await self.db.run(self._settle_and_claim, done, unsent, room)
        if room > 0 and len(jobs) >= room:
            self._claim_wanted = True  # more may be due than there was room for
        for job in jobs:
            # A claimed row may have rows queued behind it: claim again once it is sent.
            self._queued_chats.add(job.chat_id)
            self._start(job)
        return len(done) + len(unsent) + len(jobs)

    def _wants_claim(self, done: list[tuple[Job, list[int]]], unsent: list[int]) -> bool:
        """Is a claim query worth making now? When rows were queued for one, the last
        claim filled the batch, rows were given back, a send to a chat with queued
        rows was just recorded (the next row there becomes due), or a poll is due."""
        wanted = self._claim_wanted or bool(unsent)
        for job, _ in done:
            if job.chat_id in self._queued_chats:
                self._queued_chats.discard(job.chat_id)
                wanted = True
        overdue = asyncio.get_running_loop().time() - self._last_claim >= self._poll_interval()
        return wanted or overdue

    def _start(self, job: Job) -> None:
        task = asyncio.create_task(self._paced_send(job), name=f"outbox-{job.id}")
        self._in_flight[job.id] = task
        self._flight_chats[job.id] = job.chat_id

        def finished(_: asyncio.Task[None]) -> None:
            self._in_flight.pop(job.id, None)
            self._flight_chats.pop(job.id, None)

        task.add_done_callback(finished)

    async def _paced_send(self, job: Job) -> None:
        self._pacing.add(job.id)
        try:
            await self.pacer.acquire(job.chat_id)
        except asyncio.CancelledError:
            self._unsent.append(job.id)  # never sent: given back, the attempt not counted
            return
        finally:
            self._pacing.discard(job.id)
        try:
            result = await self.delivery.send(job)
        except Exception:  # _send settles Telegram's errors; this is the database failing
            log.exception("outbox %s: settling the send failed", job.id)
            result = None
        if result is not None:
            self._done.append(result)
        self._wake.set()

    def _settle_and_claim(
        self, done: list[tuple[Job, list[int]]], unsent: list[int], room: int
    ) -> list[Job]:
        try:
            with self.db.transaction() as session:
                for job, sent in done:
                    record_sent(session, job, sent, self.worker_id)
                outbox.release(session, unsent, self.worker_id)
                return self._claim_in(session, room)
        except Exception:
            if not done and not unsent:
                raise
            log.exception("outbox: recording a batch failed; recording rows one by one")
        for job, sent in done:
            try:
                with self.db.transaction() as session:
                    record_sent(session, job, sent, self.worker_id)
            except Exception:
                log.exception("outbox %s: recording the send failed", job.id)
        # Rows not given back are sent again once their lease ends.
        with contextlib.suppress(Exception), self.db.transaction() as session:
            outbox.release(session, unsent, self.worker_id)
        with self.db.transaction() as session:
            return self._claim_in(session, room)

    def _claim_in(self, session: Session, room: int) -> list[Job]:
        if room <= 0:
            return []
        now = utcnow()
        rows = notices.claim(session, self.worker_id, room, self.lease, now)
        for row in rows:
            if carried := folding.fold_into_card(session, row, self.ctx, now):
                log.info(
                    "outbox %s: %d waiting message(s) of its case joined its card", row.id, carried
                )
            if folding.foldable(row) and (
                carried := folding.fold_waiting(session, row, self.ctx, now)
            ):
                log.info(
                    "outbox %s: %d waiting message(s) of its case folded into it", row.id, carried
                )
        return [resolve(session, row) for row in rows]
