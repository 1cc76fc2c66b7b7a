"""One row's call, and what Telegram's answer means for the row, its chat and its case.

* success: returned for the sender to record with the rest of its batch;
* 429: put back until ``retry_after`` has passed (later rows for the chat wait, and
  the pacer sends nothing more to the chat meanwhile);
* 400 "message thread not found" (staff deleted the topic): a new topic is made,
  the case card posted there, the case moved to it, and the row sent again;
* 400 "not enough rights" creating a topic: the case continues in the chat
  without a topic; staff and the admin chat are told, and the log says so;
* 403 from a buyer (blocked the bot): the row and the buyer's queue fail, the case
  records it and staff are told in the topic;
* a staff group that refuses the row for a reason of its own (the bot was removed, may
  not send; see ``bot.staff_chats``): the row is held and tried again every
  ``HELD_RETRY_S``, the group's later rows waiting behind it, nothing failed; the
  admin chat is told, new cases' buyers hear that their case waits, and the first row
  the group takes again clears it;
* network trouble and 5xx: retried with backoff, at most ``MAX_ATTEMPTS`` times;
* any other 4xx: failed and logged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from sellerdesk.bot.channels.ozon_client import OzonApiError, OzonRefusedError
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import text
from sellerdesk.bot.staff_chats import (
    ChatProblem,
    refused_for_the_chat,
    tell_admins,
    tell_admins_fixed,
)
from sellerdesk.bot.telegram_io.outbox.calls import call
from sellerdesk.bot.telegram_io.outbox.first_copy import FirstCopy
from sellerdesk.bot.telegram_io.outbox.jobs import (
    MAX_ATTEMPTS,
    Job,
    backoff,
    retry_after_seconds,
)
from sellerdesk.bot.telegram_io.outbox.media import MediaSender
from sellerdesk.bot.telegram_io.pacing import Pacer
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.models import Case, Direction, OutboxKind
from sellerdesk.storage.repo import buyers, channels, messages, outbox
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)


class OzonSender(Protocol):
    """Sends a row into its Ozon chat, and fetches a buyer's picture from one
    (``bot.channels.ozon_cases.OzonCaseSender``)."""

    async def send(self, job: Job) -> list[int]: ...

    async def picture(self, job: Job, url: str) -> bytes: ...


#: Case event kinds the sender records (the column is free text).
EVENT_BUYER_BLOCKED = "buyer_blocked"
EVENT_TOPIC_RECREATED = "topic_recreated"
EVENT_NO_TOPIC_RIGHTS = "no_topic_rights"

THREAD_NOT_FOUND = "message thread not found"
NO_RIGHTS = "not enough rights"
NOT_FORUM = "the chat is not a forum"
#: Seconds between tries of a row held for a staff group the bot cannot work in.
HELD_RETRY_S = 120.0


class Delivery:
    """Sends one claimed row and settles every failure in the database."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        ctx: DeskContext,
        pacer: Pacer,
        worker_id: str,
        kick: Callable[[], None],
    ) -> None:
        self.db = db
        self.bot = bot
        self.ctx = ctx
        self.pacer = pacer
        self.worker_id = worker_id
        #: Wakes the sender: rows were added (a staff note) or failed.
        self.kick = kick
        self.first_copy = FirstCopy(db, bot)
        self.media = MediaSender(db, bot)
        #: Sends rows written to Ozon chats; set when Ozon chats run in this process.
        self.ozon: OzonSender | None = None

    async def send(self, job: Job) -> tuple[Job, list[int]] | None:
        """Make the row's call and settle failures; a success is returned for the
        caller to record (with the rest of the batch)."""
        if channels.is_ozon_chat(job.chat_id):
            return await self._to_ozon(job)
        upload: bytes | None = None
        media = (job.payload.get("content") or {}).get("media")
        if media and media[0] == outgoing.OZON_PICTURE:
            fetched = await self._ozon_picture(job, str(media[1]))
            if fetched is None:
                return None  # to be tried again later
            job, upload = fetched
        try:
            if job.kind == outgoing.SEND_MEDIA:
                sent = await self.media.send(job)
            else:
                sent = await call(self.bot, job, upload)
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            self.pacer.hold(job.chat_id, wait)
            log.warning("outbox %s: flood control, retry in %.0f s", job.id, wait)
            await self.db.run(self._retry, job, timedelta(seconds=wait), str(error))
        except Forbidden as error:
            if not await self.db.run(self._held_for_group, job, error.message):
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
                sent = await self.first_copy.keep(job, sent)
            if self.ctx.staff_chats.problem(job.chat_id) is not None:
                await self.db.run(self._group_works, job.chat_id)
            return job, sent
        return None

    async def _to_ozon(self, job: Job) -> tuple[Job, list[int]] | None:
        """A row for an Ozon chat (``bot.channels.ozon_cases``): Ozon refusing it is
        final and told to staff; anything else is tried again later."""
        if self.ozon is None:
            await self._transient(job, "Ozon chats are not running in this process")
            return None
        try:
            return job, await self.ozon.send(job)
        except OzonRefusedError as error:
            await self.db.run(self._ozon_refused, job, str(error))
        except Exception as error:  # OzonApiError, network: as Telegram's transient ones
            await self._transient(job, f"{type(error).__name__}: {error}")
        return None

    async def _ozon_picture(self, job: Job, url: str) -> tuple[Job, bytes | None] | None:
        """A buyer's picture from an Ozon chat for staff: its bytes; when Ozon will not
        give it, the row goes on as a text saying so (with the link), so staff know a
        picture was sent. None: Ozon cannot be reached now (the row is tried again)."""
        try:
            if self.ozon is None:
                raise OzonApiError("Ozon chats are not running in this process")
            return job, await self.ozon.picture(job, url)
        except OzonRefusedError as error:
            log.warning("outbox %s: the buyer's picture cannot be had: %s", job.id, error)
            seller = await self.db.run(self._case_seller, job.case_id)
            note = text(
                "staff_ozon_picture_missing", cases.staff_lang(seller) if seller else "en", url=url
            )
            content = {"body": note, "media": None}
            return replace(job, payload={**job.payload, "content": content}), None
        except Exception as error:  # OzonApiError, network
            await self._transient(job, f"{type(error).__name__}: {error}")
            return None

    def _case_seller(self, case_id: int | None) -> Seller | None:
        with self.db.transaction() as session:
            case = cases_repo.get_case(session, case_id) if case_id else None
            return self.ctx.seller(case.seller_id) if case else None

    def _ozon_refused(self, job: Job, error: str) -> None:
        with self.db.transaction() as session:
            outbox.mark_failed(session, job.id, self.worker_id, error)
            case = cases_repo.get_case(session, job.case_id) if job.case_id else None
            seller = self.ctx.seller(case.seller_id) if case else None
            log.warning("outbox %s: Ozon refused it: %s", job.id, error)
            if case is not None and seller is not None:
                cases.staff_note(
                    session, case, seller, "staff_ozon_chat_refused", error=error[:300]
                )
        self.kick()

    def _held_for_group(self, job: Job, error: str) -> bool:
        """Hold a row that a staff group refused for a reason of its own (see the
        module); False when the error is not about the group."""
        problem = refused_for_the_chat(error)
        if problem is None or job.side is Side.BUYER or not self.ctx.sellers_of_chat(job.chat_id):
            return False
        found = ChatProblem(job.chat_id, problem, error)
        new = self.ctx.staff_chats.report(found)
        with self.db.transaction() as session:
            outbox.retry_later(
                session, job.id, self.worker_id, utcnow() + timedelta(seconds=HELD_RETRY_S), error
            )
            if new:
                tell_admins(session, self.ctx, found)
        if new:
            log.error(
                "staff chat %s: %s (%s); its messages wait and are tried again every %.0f s",
                job.chat_id,
                problem.value,
                error,
                HELD_RETRY_S,
            )
        self.kick()
        return True

    def _group_works(self, chat_id: int) -> None:
        gone = self.ctx.staff_chats.clear(chat_id)
        if gone is None or not gone.blocking:
            return
        log.warning("staff chat %s takes messages again", chat_id)
        with self.db.transaction() as session:
            tell_admins_fixed(session, self.ctx, chat_id)
        self.kick()

    async def _transient(self, job: Job, error: str) -> None:
        if job.attempts >= MAX_ATTEMPTS:
            log.error("outbox %s: giving up after %d attempts: %s", job.id, job.attempts, error)
            await self.db.run(self._fail, job, error)
        else:
            log.warning("outbox %s: attempt %d failed: %s", job.id, job.attempts, error)
            # The request may have reached Telegram before the connection broke.
            await self.db.run(self._retry, job, backoff(job.attempts), error, True)

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
        if await self.db.run(self._held_for_group, job, message):
            return
        if (
            THREAD_NOT_FOUND in message.lower()
            and job.side is Side.STAFF
            and job.case_id is not None
            and job.thread_id is not None
        ):
            await self._recreate_topic(job, message)
        elif job.kind == OutboxKind.CREATE_FORUM_TOPIC and (
            NO_RIGHTS in message.lower() or NOT_FORUM in message.lower()
        ):
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
            name = cases.topic_name(
                case,
                alias,
                closed=not cases.is_open(case),
                shop=self.ctx.topic_shop(seller, case.staff_chat_id),
            )
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
            # Unless the check of the group has told the admins already.
            if self.ctx.admin_chat_id is not None and not self.ctx.staff_chats.problem(job.chat_id):
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
