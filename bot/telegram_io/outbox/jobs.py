"""A claimed outbox row as the sender handles it, and the arithmetic of its retries."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.storage.models import OutboxMessage
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import messages

#: Attempts before a row that keeps failing on network errors is given up. With the
#: backoff below that is about eight minutes of trying, longer than a Bot API outage
#: usually lasts, short enough that staff hear of a lost message the same day.
MAX_ATTEMPTS = 8
#: Backoff after the n-th failed attempt: BASE * 2**(n-1) seconds, capped.
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0


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


def counterpart(session: Session, ref: Sequence[int], target_chat: int) -> int | None:
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


def direct_job(row: OutboxMessage) -> Job:
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


def resolve(session: Session, row: OutboxMessage) -> Job:
    """The job of a claimed row, its case's topic and reply reference resolved."""
    job = direct_job(row)
    thread_id = job.thread_id
    case = cases_repo.get_case(session, row.case_id) if row.case_id else None
    if case is not None and job.side is Side.STAFF:
        thread_id = case.thread_id if case.staff_chat_id == row.chat_id else None
    reply_to = job.reply_to
    ref = job.payload.get("reply_ref")
    if reply_to is None and ref:
        reply_to = counterpart(session, ref, row.chat_id)
    return replace(job, thread_id=thread_id, reply_to=reply_to, maybe_sent=bool(row.maybe_sent))


def keyboard(rows: Any, links: Any = None) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a row's ``buttons`` (rows of (label, data) pairs), under
    its ``links`` (one link button (label, address) a row)."""
    if not rows and not links:
        return None
    link_rows = [[InlineKeyboardButton(label, url=url)] for label, url in links or ()]
    button_rows = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in row]
        for row in rows or ()
    ]
    return InlineKeyboardMarkup(link_rows + button_rows)


def markup(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """The inline keyboard a row's message carries."""
    return keyboard(payload.get("buttons"), payload.get("links"))
