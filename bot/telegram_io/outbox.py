"""The outbox sender: claims due rows, makes the Telegram calls, records what happened.

Runs as one asyncio task beside polling. It wakes when a handler has enqueued
something (:meth:`OutboxSender.kick`) and every :data:`POLL_INTERVAL_S` anyway, so
rows written by another process, or put back for later, are not forgotten. Rows that
need nothing resolved (an FAQ answer: no case) are handed to it by the handler's
transaction, already claimed (see :class:`bot.desk.outgoing.Handoff`), and go out as soon
as that commits. Every call waits its turn under Telegram's flood limits first
(:mod:`bot.telegram_io.pacing`).

What Telegram answers decides a row's fate:

* success: marked sent; copies are recorded in the case's message mapping so
  replies thread both ways; a created topic is attached to its case;
* 429: put back until ``retry_after`` has passed (later rows for the chat wait, and
  the pacer sends nothing more to the chat meanwhile);
* 400 "message thread not found" (staff deleted the topic): a new topic is made,
  the case card posted there, the case moved to it, and the row sent again;
* 400 "not enough rights" creating a topic: the case continues in the chat
  without a topic; staff and the admin chat are told, and the log says so;
* 403 from a buyer (blocked the bot): the row and the buyer's queue fail, the case
  records it and staff are told in the topic;
* network trouble and 5xx: retried with backoff, at most :data:`MAX_ATTEMPTS` times;
* any other 4xx: failed and logged.

A try whose answer never came (the connection broke, or the process died and the
row's lease ran out) may have reached the chat all the same: the row is "maybe sent",
and the next try's copy is kept only if no earlier one turns up (see
:meth:`OutboxSender._keep_first_copy`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import text
from sellerdesk.bot.settings import Pacing
from sellerdesk.bot.telegram_io.pacing import Pacer
from sellerdesk.storage.models import Case, Direction, OutboxKind, OutboxMessage
from sellerdesk.storage.repo import buyers, messages, outbox, senders
from sellerdesk.storage.repo import cases as cases_repo
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
#: Attempts before a row that keeps failing on network errors is given up. With the
#: backoff below that is about eight minutes of trying, longer than a Bot API outage
#: usually lasts, short enough that staff hear of a lost message the same day.
MAX_ATTEMPTS = 8
#: Backoff after the n-th failed attempt: BASE * 2**(n-1) seconds, capped.
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
#: Case event kinds the sender records (the column is free text).
EVENT_BUYER_BLOCKED = "buyer_blocked"
EVENT_TOPIC_RECREATED = "topic_recreated"
EVENT_NO_TOPIC_RIGHTS = "no_topic_rights"

THREAD_NOT_FOUND = "message thread not found"
NO_RIGHTS = "not enough rights"
NOT_MODIFIED = "TOPIC_NOT_MODIFIED"
#: Telegram's answer to an edit that changes nothing: the message exists, the bot sent
#: it, and it has exactly the buttons given (see :meth:`OutboxSender._keep_first_copy`).
MESSAGE_NOT_MODIFIED = "message is not modified"
#: Message ids below a repeated send that are checked for the copy of an earlier try
#: (an edit call each, only after a crash or a broken connection).
PROBE_LIMIT = 50


@dataclass(frozen=True)
class Job:
    """One claimed row, with its references resolved to ids in the target chat."""

    id: int
    kind: str
    chat_id: int
    case_id: int | None
    payload: dict[str, Any]
    attempts: int
    #: The forum topic to send into (staff side: the case's current topic).
    thread_id: int | None
    #: The message in the target chat to reply to, if any.
    reply_to: int | None
    #: An earlier try may have reached the chat unanswered (see storage.repo.outbox).
    maybe_sent: bool = False

    @property
    def side(self) -> Side:
        return Side(self.payload.get("side", Side.BUYER.value))


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after ``attempts`` failed ones."""
    return timedelta(seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


#: PTB 22 warns on every 429 (when it builds RetryAfter) that ``retry_after`` becomes a
#: timedelta in its next major version, unless this opt-in is set; the desk reads both
#: forms (below), so it opts in, and a 429 leaves no deprecation warning in the log.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's ``retry_after`` in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        # PTB 22 warns that the type will become timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _counterpart(session: Session, ref: Sequence[int], target_chat: int) -> int | None:
    """The id, in ``target_chat``, of the message mapped to ``ref`` = (chat, message)."""
    chat_id, message_id = int(ref[0]), int(ref[1])
    mapping = messages.find_by_staff_message(session, chat_id, message_id)
    if mapping is None:
        mapping = messages.find_by_buyer_message(session, chat_id, message_id)
    if mapping is None:
        return None
    if mapping.staff_chat_id == target_chat and mapping.staff_message_id is not None:
        return mapping.staff_message_id
    if mapping.buyer_chat_id == target_chat and mapping.buyer_message_id is not None:
        return mapping.buyer_message_id
    return None


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

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="outbox-sender")
        self._beat_task = asyncio.create_task(self._heartbeat(), name="outbox-heartbeat")
        loop = asyncio.get_running_loop()

        def deliver(rows: list[OutboxMessage]) -> None:
            jobs = [_direct_job(row) for row in rows]
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

    # ------------------------------------------------------------------ one step

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
            result = await self._send(job)
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
                    self._sent_in(session, job, sent)
                outbox.release(session, unsent, self.worker_id)
                return self._claim_in(session, room)
        except Exception:
            if not done and not unsent:
                raise
            log.exception("outbox: recording a batch failed; recording rows one by one")
        for job, sent in done:
            try:
                self._sent(job, sent)
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
        rows = outbox.claim_batch(session, self.worker_id, limit=room, lease=self.lease)
        return [self._resolve(session, row) for row in rows]

    def _resolve(self, session: Session, row: OutboxMessage) -> Job:
        """The job of a claimed row, its case's topic and reply reference resolved."""
        job = _direct_job(row)
        thread_id = job.thread_id
        case = cases_repo.get_case(session, row.case_id) if row.case_id else None
        if case is not None and job.side is Side.STAFF:
            thread_id = case.thread_id if case.staff_chat_id == row.chat_id else None
        reply_to = job.reply_to
        ref = job.payload.get("reply_ref")
        if reply_to is None and ref:
            reply_to = _counterpart(session, ref, row.chat_id)
        return replace(job, thread_id=thread_id, reply_to=reply_to, maybe_sent=bool(row.maybe_sent))

    async def _send(self, job: Job) -> tuple[Job, list[int]] | None:
        """Make the row's call and settle failures; a success is returned for the
        caller to record (with the rest of the batch)."""
        try:
            sent = await self._call(job)
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            self.pacer.hold(job.chat_id, wait)
            log.warning("outbox %s: flood control, retry in %.0f s", job.id, wait)
            await self.db.run(self._retry, job, timedelta(seconds=wait), str(error))
        except Forbidden as error:
            await self.db.run(self._forbidden, job, error.message)
        except BadRequest as error:
            await self._bad_request(job, error)
        except TelegramError as error:  # network errors, timeouts, 5xx
            await self._transient(job, f"{type(error).__name__}: {error.message}")
        except Exception as error:
            log.exception("outbox %s: unexpected error", job.id)
            await self._transient(job, repr(error))
        else:
            if job.maybe_sent:
                sent = await self._keep_first_copy(job, sent)
            return job, sent
        return None

    async def _transient(self, job: Job, error: str) -> None:
        if job.attempts >= MAX_ATTEMPTS:
            log.error("outbox %s: giving up after %d attempts: %s", job.id, job.attempts, error)
            await self.db.run(self._fail, job, error)
        else:
            log.warning("outbox %s: attempt %d failed: %s", job.id, job.attempts, error)
            # The request may have reached Telegram before the connection broke.
            await self.db.run(self._retry, job, backoff(job.attempts), error, True)

    # ------------------------------------------------------------------ Telegram calls

    async def _call(self, job: Job) -> list[int]:
        """Make the row's call; returns the ids of the messages it created."""
        p = job.payload
        if job.kind == OutboxKind.SEND_TEXT:
            message = await self.bot.send_message(
                job.chat_id,
                p["text"],
                parse_mode=ParseMode.HTML if p.get("html") else None,
                message_thread_id=job.thread_id,
                reply_parameters=self._reply(job),
                reply_markup=_keyboard(p.get("buttons")),
            )
            return [message.message_id]
        if job.kind == OutboxKind.COPY_MESSAGE:
            ids = list(p["message_ids"])
            if len(ids) == 1:
                copied = await self.bot.copy_message(
                    job.chat_id,
                    p["from_chat_id"],
                    ids[0],
                    message_thread_id=job.thread_id,
                    reply_parameters=self._reply(job),
                )
                return [copied.message_id]
            # copyMessages keeps an album an album; it has no reply parameter.
            copies = await self.bot.copy_messages(
                job.chat_id, p["from_chat_id"], ids, message_thread_id=job.thread_id
            )
            return [c.message_id for c in copies]
        if job.kind == OutboxKind.CREATE_FORUM_TOPIC:
            topic = await self.bot.create_forum_topic(job.chat_id, p["name"])
            return [topic.message_thread_id]
        if job.thread_id is None:
            return []  # a topic call for a case without a topic: nothing to change
        try:
            if job.kind == OutboxKind.EDIT_FORUM_TOPIC:
                await self.bot.edit_forum_topic(job.chat_id, job.thread_id, name=p["name"])
            elif job.kind == outgoing.CLOSE_FORUM_TOPIC:
                await self.bot.close_forum_topic(job.chat_id, job.thread_id)
            elif job.kind == outgoing.REOPEN_FORUM_TOPIC:
                await self.bot.reopen_forum_topic(job.chat_id, job.thread_id)
            else:
                raise ValueError(f"unknown outbox kind {job.kind!r}")
        except BadRequest as error:
            if NOT_MODIFIED not in error.message:
                raise
        return []

    @staticmethod
    def _reply(job: Job) -> ReplyParameters | None:
        if job.reply_to is None:
            return None
        # The replied-to message may be gone (deleted, or in a deleted topic): send anyway.
        return ReplyParameters(job.reply_to, allow_sending_without_reply=True)

    # ------------------------------------------------------------------ after an uncertain try

    async def _keep_first_copy(self, job: Job, sent: list[int]) -> list[int]:
        """A try of ``job`` may have landed unanswered before ``sent`` (the repeat):
        find its copy, delete the repeat, and return the ids to record.

        The Bot API has no idempotency key and no way to read a chat, but message ids
        in a chat only grow, and the bot may edit only its own messages. So each id
        between the last message the sender recorded in the chat and the repeat that
        the bot has no record of is probed with an edit of its buttons to the row's
        own: "message is not modified" means a bot message with exactly those buttons
        that nothing on record explains, which only an earlier try of this row can be
        (a chat's rows go out one at a time). Users' messages ("can't be edited") and
        deleted ones ("not found") are passed over, so others writing in the chat
        meanwhile cannot make the repeat look like a duplicate. Whatever goes wrong
        while checking, the repeat is kept: a message may show twice, never vanish.
        """
        if job.kind not in (OutboxKind.SEND_TEXT, OutboxKind.COPY_MESSAGE) or not sent:
            return sent
        top = min(sent)
        try:
            bottom, known, stray = await self.db.run(self._probe_range, job, top)
            earlier = sorted(stray) or [
                message_id
                for message_id in range(bottom + 1, top)
                if message_id not in known and await self._is_copy_of(job, message_id)
            ]
        except Exception:
            log.exception("outbox %s: could not check for an earlier copy; kept the repeat", job.id)
            return sent
        if not earlier:
            return sent
        keep = earlier[: len(sent)]
        stayed = []
        for message_id in [*earlier[len(sent) :], *sent]:
            try:
                await self.bot.delete_message(job.chat_id, message_id)
            except TelegramError as error:
                log.warning("outbox %s: repeat %s stays: %s", job.id, message_id, error)
                stayed.append(message_id)
        log.warning(
            "outbox %s: an earlier try had reached chat %s as %s; the repeat %s was deleted",
            job.id,
            job.chat_id,
            keep,
            sent,
        )
        # A repeat that stays is recorded after the copy kept (the mapping pairs the
        # first ids with the originals), so no later row takes it for one of its own.
        return keep + stayed

    def _probe_range(self, job: Job, top: int) -> tuple[int, set[int], list[int]]:
        """The id below which no earlier try can lie, the ids above it on record, and
        the copy another try of this row recorded meanwhile (one that outlived its
        lease, or one that finished first)."""
        with self.db.transaction() as session:
            floor = outbox.last_sent_message_id(session, job.chat_id, job.id)
            bottom = max(floor or 0, top - 1 - PROBE_LIMIT)
            known = outbox.known_message_ids(session, job.chat_id, bottom, top)
            return bottom, known, outbox.stray_message_ids(session, job.id)

    async def _is_copy_of(self, job: Job, message_id: int) -> bool:
        """Is ``message_id`` a bot message with ``job``'s buttons? (Telegram says "not
        modified" to an edit of them to what they are; a flood wait is waited out.)"""
        while True:
            try:
                await self.bot.edit_message_reply_markup(
                    job.chat_id, message_id, reply_markup=_keyboard(job.payload.get("buttons"))
                )
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
                continue
            except BadRequest as error:
                return MESSAGE_NOT_MODIFIED in error.message.lower()
            # Changed: a bot message with other buttons, not a copy of this row.
            log.warning(
                "outbox %s: unrecorded bot message %s had other buttons", job.id, message_id
            )
            return False

    # ------------------------------------------------------------------ outcomes

    def _sent(self, job: Job, sent: list[int]) -> None:
        with self.db.transaction() as session:
            self._sent_in(session, job, sent)

    def _sent_in(self, session: Session, job: Job, sent: list[int]) -> None:
        if not outbox.mark_sent(session, job.id, self.worker_id, sent):
            log.warning("outbox %s: lease lost; the message may go out twice", job.id)
            # On record all the same: the row's new owner keeps this copy instead of
            # its own, and no other row takes it for one of its tries.
            outbox.record_stray_send(session, job.id, sent)
            return
        if job.case_id is None:
            return
        if job.kind == OutboxKind.CREATE_FORUM_TOPIC and sent:
            cases_repo.set_topic(session, job.case_id, job.chat_id, sent[0])
            return
        self._record(session, job, sent)

    def _record(self, session: Session, job: Job, sent: list[int]) -> None:
        """Map sent messages to the case (and to their originals, for copies)."""
        assert job.case_id is not None
        record = job.payload.get("record")
        if record is None:
            return
        direction = Direction(record)
        # The admin chat is a staff-side chat: its messages map to the case the same
        # way, so an admin replying to one addresses the case.
        to_staff = job.side in (Side.STAFF, Side.ADMIN)
        if direction is Direction.SYSTEM:
            for message_id in sent:
                if to_staff:
                    messages.record_message(
                        session,
                        job.case_id,
                        direction,
                        staff_chat_id=job.chat_id,
                        staff_message_id=message_id,
                    )
                else:
                    messages.record_message(
                        session,
                        job.case_id,
                        direction,
                        buyer_chat_id=job.chat_id,
                        buyer_message_id=message_id,
                    )
            return
        source_chat = int(job.payload["from_chat_id"])
        for source_id, copy_id in zip(job.payload["message_ids"], sent, strict=False):
            if to_staff:
                messages.record_message(
                    session,
                    job.case_id,
                    direction,
                    buyer_chat_id=source_chat,
                    buyer_message_id=int(source_id),
                    staff_chat_id=job.chat_id,
                    staff_message_id=copy_id,
                )
            else:
                messages.record_message(
                    session,
                    job.case_id,
                    direction,
                    buyer_chat_id=job.chat_id,
                    buyer_message_id=copy_id,
                    staff_chat_id=source_chat,
                    staff_message_id=int(source_id),
                )

    def _retry(self, job: Job, wait: timedelta, error: str, maybe_sent: bool = False) -> None:
        with self.db.transaction() as session:
            outbox.retry_later(
                session, job.id, self.worker_id, utcnow() + wait, error, maybe_sent=maybe_sent
            )

    def _fail(self, job: Job, error: str) -> None:
        with self.db.transaction() as session:
            outbox.mark_failed(session, job.id, self.worker_id, error)

    def _forbidden(self, job: Job, error: str) -> None:
        """403: a buyer blocked the bot (tell staff), or the bot lost the staff chat."""
        with self.db.transaction() as session:
            outbox.mark_failed(session, job.id, self.worker_id, error)
            if job.side is not Side.BUYER:
                log.error("outbox %s: forbidden in chat %s: %s", job.id, job.chat_id, error)
                return
            failed = outbox.fail_pending_for_chat(session, job.chat_id, error)
            log.info("buyer chat blocked the bot: %s; %d queued message(s) dropped", error, failed)
            case = cases_repo.get_case(session, job.case_id) if job.case_id else None
            seller = self.ctx.seller(case.seller_id) if case else None
            if case is None or seller is None:
                return
            cases_repo.add_event(
                session, case.id, EVENT_BUYER_BLOCKED, actor="system", data={"error": error}
            )
            cases.staff_note(session, case, seller, "staff_buyer_blocked")
        self.kick()

    async def _bad_request(self, job: Job, error: BadRequest) -> None:
        message = error.message
        if (
            THREAD_NOT_FOUND in message.lower()
            and job.side is Side.STAFF
            and job.case_id is not None
            and job.thread_id is not None
        ):
            await self._recreate_topic(job, message)
        elif job.kind == OutboxKind.CREATE_FORUM_TOPIC and NO_RIGHTS in message.lower():
            await self.db.run(self._no_topic_rights, job, message)
        else:
            log.error("outbox %s (%s to %s) refused: %s", job.id, job.kind, job.chat_id, message)
            await self.db.run(self._fail, job, message)

    async def _recreate_topic(self, job: Job, error: str) -> None:
        """The case's topic was deleted: make a new one, move the case, send again."""
        assert job.case_id is not None and job.thread_id is not None
        case, name, card = await self.db.run(self._topic_details, job.case_id)
        if case is None or name is None or case.thread_id != job.thread_id:
            # Another row of this case has already moved it: just send again.
            await self.db.run(self._retry, job, timedelta(0), error)
            return
        try:
            await self.pacer.acquire(job.chat_id)
            topic = await self.bot.create_forum_topic(job.chat_id, name)
        except TelegramError as create_error:
            log.error("case %s: cannot recreate its topic: %s", case.id, create_error)
            await self.db.run(self._fail, job, f"{error}; recreating: {create_error}")
            return
        new_thread = topic.message_thread_id
        card_id: int | None = None
        if card is not None:
            with contextlib.suppress(TelegramError):
                await self.pacer.acquire(job.chat_id)
                posted = await self.bot.send_message(
                    job.chat_id, card, parse_mode=ParseMode.HTML, message_thread_id=new_thread
                )
                card_id = posted.message_id
        await self.db.run(self._moved, job, case.id, new_thread, card_id, error)
        log.warning(
            "case %s: topic %s was deleted; continues in %s", case.id, job.thread_id, new_thread
        )

    def _topic_details(self, case_id: int) -> tuple[Case | None, str | None, str | None]:
        with self.db.transaction() as session:
            case = cases_repo.get_case(session, case_id)
            seller = self.ctx.seller(case.seller_id) if case else None
            if case is None or seller is None:
                return case, None, None
            alias = buyers.buyer_alias(session, case.buyer_id, seller.id, self.ctx.alias_key)
            name = cases.topic_name(case, alias, closed=not cases.is_open(case))
            lang = cases.staff_lang(seller)
            note = text("staff_topic_recreated", lang, number=str(case.number))
            card = cases.card_text(case, seller, alias, self.ctx.faq)
            return case, name, f"{cases.escape(note)}\n\n{card}"

    def _moved(
        self, job: Job, case_id: int, new_thread: int, card_id: int | None, error: str
    ) -> None:
        with self.db.transaction() as session:
            cases_repo.set_topic(session, case_id, job.chat_id, new_thread)
            assert job.thread_id is not None
            outbox.retarget_thread(session, job.chat_id, job.thread_id, new_thread)
            cases_repo.add_event(
                session,
                case_id,
                EVENT_TOPIC_RECREATED,
                actor="system",
                data={"old": job.thread_id, "new": new_thread},
            )
            if card_id is not None:
                messages.record_message(
                    session,
                    case_id,
                    Direction.SYSTEM,
                    staff_chat_id=job.chat_id,
                    staff_message_id=card_id,
                )
            outbox.retry_later(session, job.id, self.worker_id, utcnow(), error)

    def _no_topic_rights(self, job: Job, error: str) -> None:
        """No right to create topics: the case goes on in the chat itself, and people
        who can fix the rights hear of it."""
        with self.db.transaction() as session:
            outbox.mark_failed(session, job.id, self.worker_id, error)
            case = cases_repo.get_case(session, job.case_id) if job.case_id else None
            seller = self.ctx.seller(case.seller_id) if case else None
            log.error(
                "chat %s: the bot cannot create forum topics (%s); give it the right to "
                "manage topics. Case %s continues without a topic.",
                job.chat_id,
                error,
                case.number if case else "?",
            )
            if case is None or seller is None:
                return
            cases_repo.add_event(session, case.id, EVENT_NO_TOPIC_RIGHTS, actor="system")
            cases.staff_note(
                session, case, seller, "staff_no_topic_rights", number=str(case.number)
            )
            if self.ctx.admin_chat_id is not None:
                outgoing.send_text(
                    session,
                    chat_id=self.ctx.admin_chat_id,
                    text=text(
                        "admin_no_topic_rights",
                        self.ctx.admin_language,
                        seller=seller.id,
                        chat=str(job.chat_id),
                        number=str(case.number),
                    ),
                    side=Side.ADMIN,
                    dedupe_key=f"no-topic-rights:{job.chat_id}:{utcnow():%Y%m%d%H}",
                )
        self.kick()


def _direct_job(row: OutboxMessage) -> Job:
    """The job of a row as stored (a row handed over by a handler needs no more: no case
    and no reference to resolve)."""
    payload = dict(row.payload)
    return Job(
        id=row.id,
        kind=row.kind,
        chat_id=row.chat_id,
        case_id=row.case_id,
        payload=payload,
        attempts=row.attempts,
        thread_id=row.thread_id,
        reply_to=payload.get("reply_to"),
    )


def _keyboard(rows: Any) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
