"""After an uncertain try: keep the copy that reached the chat first, delete the repeat.

A try whose answer never came (the connection broke, or the process died and the row's
lease ran out) may have reached the chat all the same: the row is "maybe sent", and the
next try's copy is kept only if no earlier one turns up (:meth:`FirstCopy.keep`).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.error import BadRequest, RetryAfter, TelegramError

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.outgoing import SEND_MEDIA
from sellerdesk.bot.telegram_io.outbox.jobs import Job, markup, retry_after_seconds
from sellerdesk.storage.models import OutboxKind
from sellerdesk.storage.repo import outbox

log = logging.getLogger(__name__)

#: Telegram's answer to an edit that changes nothing: the message exists, the bot sent
#: it, and it has exactly the buttons given (see :meth:`FirstCopy.keep`).
MESSAGE_NOT_MODIFIED = "message is not modified"
#: Message ids below a repeated send that are checked for the copy of an earlier try
#: (an edit call each, only after a crash or a broken connection).
PROBE_LIMIT = 50


class FirstCopy:
    """Finds the earlier copy of a repeated send, in one chat, by probing message ids."""

    def __init__(self, db: Database, bot: Bot) -> None:
        self.db = db
        self.bot = bot

    async def keep(self, job: Job, sent: list[int]) -> list[int]:
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
        if job.kind not in (OutboxKind.SEND_TEXT, OutboxKind.COPY_MESSAGE, SEND_MEDIA) or not sent:
            return sent
        if job.kind == SEND_MEDIA and len(sent) != 1:
            # An album and its text: the album's messages carry no buttons to probe
            # with (a probe would put the row's on one); it may show twice.
            return sent
        if job.payload.get("business"):
            # In a Telegram Business chat the bot may edit the account owner's own
            # messages too, so a probe could take one of them for a copy: the repeat
            # stays (a message may show twice, never vanish).
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
                    job.chat_id, message_id, reply_markup=markup(job.payload)
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
