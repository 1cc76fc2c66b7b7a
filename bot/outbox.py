"""The outbox sender: claims due rows, makes the Telegram calls, records what happened.

Runs as one asyncio task beside polling. It wakes when a handler has enqueued
something (:meth:`OutboxSender.kick`) and every :data:`POLL_INTERVAL_S` anyway, so
rows written by another process, or put back for later, are not forgotten.

What Telegram answers decides a row's fate:

* success: marked sent; copies are recorded in the case's message mapping so
  replies thread both ways; a created topic is attached to its case;
* 429: put back until ``retry_after`` has passed (later rows for the chat wait);
* 400 "message thread not found" (staff deleted the topic): a new topic is made,
  the case card posted there, the case moved to it, and the row sent again;
* 400 "not enough rights" creating a topic: the case continues in the chat
  without a topic; staff and the admin chat are told, and the log says so;
* 403 from a buyer (blocked the bot): the row and the buyer's queue fail, the case
  records it and staff are told in the topic;
* network trouble and 5xx: retried with backoff, at most :data:`MAX_ATTEMPTS` times;
* any other 4xx: failed and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot import cases as desk_cases
from bot import outgoing
from bot.cases import DeskContext
from bot.database import Database
from bot.outgoing import Side
from bot.texts import text
from storage.models import Case, Direction, OutboxKind, OutboxMessage
from storage.repo import buyers, messages, outbox
from storage.repo import cases as cases_repo
from storage.types import utcnow

log = logging.getLogger(__name__)

#: Seconds between looks at the outbox when nobody kicks the sender: rows put back
#: for later (429, backoff) and rows from other processes wait at most this long.
POLL_INTERVAL_S = 1.0
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

    @property
    def side(self) -> Side:
        return Side(self.payload.get("side", Side.BUYER.value))


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after ``attempts`` failed ones."""
    return timedelta(seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


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
    """Sends outbox rows through ``bot``; one per process, any number of processes."""

    def __init__(
        self, db: Database, bot: Bot, ctx: DeskContext, lease: timedelta = outbox.DEFAULT_LEASE
    ) -> None:
        self.db = db
        self.bot = bot
        self.ctx = ctx
        #: How long a claimed row stays this worker's. After a crash its rows wait this
        #: long before another worker (or the restarted one) sends them again.
        self.lease = lease
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="outbox-sender")

    async def stop(self) -> None:
        """Finish the batch in flight, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def kick(self) -> None:
        """Look at the outbox now (a handler has just enqueued something)."""
        self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                while await self.send_due() and not self._stopping:
                    pass
            except Exception:  # the sender must outlive any one failure
                log.exception("outbox sender step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL_S)
            self._wake.clear()

    # ------------------------------------------------------------------ one step

    async def send_due(self) -> int:
        """Claim one batch of due rows and send them (one per chat, so in parallel);
        returns how many were claimed.

        The successes of the batch are recorded in one transaction (see
        :meth:`_sent_batch`): a transaction per row made the database, not Telegram,
        the limit under load. A row's next one in its chat is claimable only once the
        row is marked sent, so per-chat order is unchanged.
        """
        jobs = await self.db.run(self._claim)
        if jobs:
            results = await asyncio.gather(*(self._send(job) for job in jobs))
            done = [result for result in results if result is not None]
            if done:
                await self.db.run(self._sent_batch, done)
        return len(jobs)

    def _claim(self) -> list[Job]:
        with self.db.transaction() as session:
            rows = outbox.claim_batch(session, self.worker_id, lease=self.lease)
            return [self._resolve(session, row) for row in rows]

    def _resolve(self, session: Session, row: OutboxMessage) -> Job:
        payload = dict(row.payload)
        thread_id = row.thread_id
        case = cases_repo.get_case(session, row.case_id) if row.case_id else None
        if case is not None and payload.get("side") == Side.STAFF.value:
            thread_id = case.thread_id if case.staff_chat_id == row.chat_id else None
        reply_to = payload.get("reply_to")
        ref = payload.get("reply_ref")
        if reply_to is None and ref:
            reply_to = _counterpart(session, ref, row.chat_id)
        return Job(
            id=row.id,
            kind=row.kind,
            chat_id=row.chat_id,
            case_id=row.case_id,
            payload=payload,
            attempts=row.attempts,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    async def _send(self, job: Job) -> tuple[Job, list[int]] | None:
        """Make the row's call and settle failures; a success is returned for the
        caller to record (with the rest of the batch)."""
        try:
            sent = await self._call(job)
        except RetryAfter as error:
            wait = retry_after_seconds(error)
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
            return job, sent
        return None

    async def _transient(self, job: Job, error: str) -> None:
        if job.attempts >= MAX_ATTEMPTS:
            log.error("outbox %s: giving up after %d attempts: %s", job.id, job.attempts, error)
            await self.db.run(self._fail, job, error)
        else:
            log.warning("outbox %s: attempt %d failed: %s", job.id, job.attempts, error)
            await self.db.run(self._retry, job, backoff(job.attempts), error)

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

    # ------------------------------------------------------------------ outcomes

    def _sent_batch(self, done: list[tuple[Job, list[int]]]) -> None:
        """Record a batch of successful sends in one transaction. Should that fail,
        each is recorded on its own, so one bad row does not hold back the others
        (an unrecorded row is sent again once its lease ends: at-least-once)."""
        try:
            with self.db.transaction() as session:
                for job, sent in done:
                    self._sent_in(session, job, sent)
        except Exception:
            log.exception("outbox: recording a batch failed; recording rows one by one")
            for job, sent in done:
                try:
                    self._sent(job, sent)
                except Exception:
                    log.exception("outbox %s: recording the send failed", job.id)

    def _sent(self, job: Job, sent: list[int]) -> None:
        with self.db.transaction() as session:
            self._sent_in(session, job, sent)

    def _sent_in(self, session: Session, job: Job, sent: list[int]) -> None:
        if not outbox.mark_sent(session, job.id, self.worker_id, sent):
            log.warning("outbox %s: lease lost; the message may go out twice", job.id)
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

    def _retry(self, job: Job, wait: timedelta, error: str) -> None:
        with self.db.transaction() as session:
            outbox.retry_later(session, job.id, self.worker_id, utcnow() + wait, error)

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
            desk_cases.staff_note(session, case, seller, "staff_buyer_blocked")
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
            topic = await self.bot.create_forum_topic(job.chat_id, name)
        except TelegramError as create_error:
            log.error("case %s: cannot recreate its topic: %s", case.id, create_error)
            await self.db.run(self._fail, job, f"{error}; recreating: {create_error}")
            return
        new_thread = topic.message_thread_id
        card_id: int | None = None
        if card is not None:
            with contextlib.suppress(TelegramError):
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
            name = desk_cases.topic_name(case, alias, closed=not desk_cases.is_open(case))
            lang = desk_cases.staff_lang(seller)
            note = text("staff_topic_recreated", lang, number=str(case.number))
            card = desk_cases.card_text(case, seller, alias, self.ctx.faq)
            return case, name, f"{desk_cases.escape(note)}\n\n{card}"

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
            desk_cases.staff_note(
                session, case, seller, "staff_no_topic_rights", number=str(case.number)
            )
            if self.ctx.admin_chat_id is not None:
                outgoing.send_text(
                    session,
                    chat_id=self.ctx.admin_chat_id,
                    text=text(
                        "admin_no_topic_rights",
                        desk_cases.staff_lang(seller),
                        seller=seller.id,
                        chat=str(job.chat_id),
                        number=str(case.number),
                    ),
                    side=Side.ADMIN,
                    dedupe_key=f"no-topic-rights:{job.chat_id}:{utcnow():%Y%m%d%H}",
                )
        self.kick()


def _keyboard(rows: Any) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
