"""What the desk sends, written to the durable outbox in the caller's transaction.

Every message to a buyer or to staff is a row first (see ``storage.repo.outbox``);
:mod:`bot.telegram_io.outbox` sends it. Rows carry what can only be known at send time as
references, resolved then:

* the forum topic of a staff-side row is the case's *current* topic, so a row
  enqueued before the topic exists, or before a deleted topic was recreated, goes
  to the right place;
* ``reply_ref`` names a message on either side of a case; the reply goes to its
  counterpart in the target chat, found through the message mapping once the copy
  exists.

A buyer's Telegram Business chat (the seller's own account) has a key of its own
above every Telegram id (``storage.repo.channels``): its rows carry the business
connection and the buyer's Telegram id, and copies to or from it carry the message's
content, since copyMessage cannot reach into or out of a business chat.

Rows that need no such reference (an FAQ answer, a greeting: no case, no
``reply_ref``, nothing delayed) are handed straight to this process's sender when a
:class:`Handoff` is set on the transaction: stored already claimed by it and sent as
soon as the transaction commits, so an answer waits for no claim query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from sellerdesk.storage.models import Direction, OutboxKind, OutboxMessage, OutboxStatus
from sellerdesk.storage.repo import channels, outbox

if TYPE_CHECKING:
    from sellerdesk.bot.desk.answers import EntryAnswer
    from sellerdesk.faq.content.model import MediaFile

log = logging.getLogger(__name__)

#: Outbox kinds beyond :class:`storage.models.OutboxKind` (the column is free text).
CLOSE_FORUM_TOPIC = "close_forum_topic"
REOPEN_FORUM_TOPIC = "reopen_forum_topic"
#: A text with files from the seller's folder (an FAQ answer with ``media``): a photo,
#: document or album, the text as its caption (``bot.telegram_io.outbox.media``).
SEND_MEDIA = "send_media"

#: An inline keyboard: rows of (label, callback data).
Buttons = Sequence[Sequence[tuple[str, str]]]


#: ``Session.info`` keys: the sender to hand rows to, the rows handed in this
#: transaction, and the chats of rows stored for a claim (both passed on by
#: :meth:`bot.database.Database.transaction` after the commit).
HANDOFF_KEY = "sellerdesk.handoff"
HANDED_KEY = "sellerdesk.handed"
QUEUED_KEY = "sellerdesk.queued"
#: ``Session.info`` key: callables to run once the transaction has committed (work that
#: must see what it wrote, such as a pass publishing an answer staff just approved).
AFTER_COMMIT_KEY = "sellerdesk.after_commit"


@dataclass(frozen=True)
class Handoff:
    """This process's sender, taking rows it can send without a claim."""

    worker_id: str
    lease: timedelta
    #: Called after the commit with the rows stored claimed by ``worker_id``; from
    #: any thread, so it must be thread-safe.
    deliver: Callable[[list[OutboxMessage]], None]
    #: Called after the commit with the chats of rows stored for a claim (pending:
    #: they wait for a claim query); thread-safe too. The sender claims then, and again
    #: after its next send to one of those chats, when a row waiting behind it may have
    #: become due.
    queued: Callable[[set[int]], None]


#: The media kind of a buyer's picture in an Ozon chat: its URL, fetched from Ozon when
#: the row is sent (see ``bot.channels.ozon_cases``).
OZON_PICTURE = "ozon_picture"


@dataclass(frozen=True)
class Content:
    """A message's content, to send it anew where a copy cannot go: its text or caption
    and its file (kind and Telegram file id), if any."""

    body: str
    media: tuple[str, str] | None = None

    def payload(self) -> dict[str, Any]:
        return {"body": self.body, "media": list(self.media) if self.media else None}


class Side(StrEnum):
    """Whose chat a row goes to; decides how its thread and errors are handled."""

    BUYER = "buyer"
    STAFF = "staff"
    ADMIN = "admin"


class Urgency(IntEnum):
    """What may wait, within a staff group's allowance of about 20 sends a minute:
    buyers' words and new cases go before notices to staff, the daily digest last
    (see ``bot.telegram_io.outbox.notices``). Stored in the row's payload as ``later``."""

    NOW = 0
    NOTICE = 1  #: reminders, status, rating and other notes to staff
    DIGEST = 2


#: Telegram's limit on a message's text, in characters.
MESSAGE_CHARS = 4096


def fit_message(text: str, html: bool) -> str:
    """``text`` within Telegram's limit: a text over it would fail for good, and what
    makes it long is nearly always what a buyer wrote (a comment, an edit). HTML is cut
    at a line break, where the desk's cards never leave a tag open."""
    if len(text) <= MESSAGE_CHARS:
        return text
    log.warning("a %d-character message was shortened to Telegram's limit", len(text))
    cut = text[: MESSAGE_CHARS - 1]
    if html:
        cut = cut[: cut.rfind("\n")] if "\n" in cut else escape_cut(cut)
    return cut + "…"


def escape_cut(text: str) -> str:
    """HTML ``text`` cut before its last ``<`` or ``&``, so no tag or entity is left
    half written."""
    return text[: min(i for i in (text.rfind("<"), text.rfind("&"), len(text)) if i >= 0)]


def send_text(
    session: Session,
    *,
    chat_id: int,
    text: str,
    side: Side,
    case_id: int | None = None,
    html: bool = False,
    buttons: Buttons = (),
    reply_to: int | None = None,
    reply_ref: tuple[int, int] | None = None,
    record: Direction | None = None,
    dedupe_key: str | None = None,
    thread_id: int | None = None,
    carries: tuple[int, int] | None = None,
    later: Urgency = Urgency.NOW,
    ozon_question: int | None = None,
    media: Sequence[MediaFile] = (),
    links: Sequence[tuple[str, str]] = (),
    now: datetime | None = None,
) -> None:
    """Queue a text message.

    Args:
        html: the text is HTML (every user-supplied part already escaped); plain
            otherwise, which needs no escaping at all.
        reply_to: a message id in the target chat to reply to.
        reply_ref: ``(chat_id, message_id)`` of a case message on either side; the
            reply goes to its counterpart in the target chat.
        record: ``SYSTEM`` maps the sent message to the case, so a reply to it finds
            the case (in a plain group, the only way staff address a case).
        thread_id: the forum topic, for rows about no case (a case's rows go to the
            case's topic, whatever this says).
        carries: ``(chat_id, message_id)`` of a buyer's message this text shows in full
            (a case card with the buyer's first message): the sent text is mapped to it
            as its copy would be.
        later: a notice or digest that waits while buyers' words wait for the chat.
        ozon_question: the row id of an Ozon product question this text is the draft of:
            the sent message is recorded on it, so staff's replies to it are answers.
        media: files sent with the text (an FAQ answer's): the text is their caption.
        links: link buttons (label, address), above ``buttons``; an Ozon chat, which
            shows no buttons, gets them written out after the text.
    """
    if buttons and channels.is_ozon_chat(chat_id):
        # An Ozon chat shows no buttons: a note that needs them (a rating, the
        # complaint button) is not for that channel.
        log.info("a note with buttons is not sent into an Ozon chat")
        return
    if links and channels.is_ozon_chat(chat_id):
        text, links = with_links(text, links), ()
    payload: dict[str, Any] = {"side": side.value, "text": fit_message(text, html), "html": html}
    if links:
        payload["links"] = [[label, url] for label, url in links]
    if media:
        payload["media"] = [
            {"name": m.name, "path": str(m.path), "kind": m.kind, "digest": m.digest} for m in media
        ]
    if later is not Urgency.NOW:
        payload["later"] = int(later)
    if carries is not None:
        payload["carries"] = list(carries)
    if ozon_question is not None:
        payload["ozon_question"] = ozon_question
    if buttons:
        payload["buttons"] = [[list(button) for button in row] for row in buttons]
    _enqueue(
        session,
        SEND_MEDIA if media else OutboxKind.SEND_TEXT,
        chat_id,
        payload,
        case_id=case_id,
        reply_to=reply_to,
        reply_ref=reply_ref,
        record=record,
        dedupe_key=dedupe_key,
        thread_id=thread_id,
        now=now,
    )


def with_links(text: str, links: Sequence[tuple[str, str]]) -> str:
    """``text`` with each link (label, address) written out after it, for a chat that
    shows no buttons (an Ozon chat)."""
    if not links:
        return text
    return "\n\n".join([text, "\n".join(f"{label}: {url}" for label, url in links)])


def send_answer(session: Session, answer: EntryAnswer, **options: Any) -> None:
    """Queue an FAQ answer: its text with its files and link buttons (``options`` as
    :func:`send_text` takes them)."""
    send_text(session, text=answer.text, media=answer.media, links=answer.links, **options)


def copy_messages(
    session: Session,
    *,
    chat_id: int,
    from_chat_id: int,
    message_ids: Sequence[int],
    side: Side,
    case_id: int,
    record: Direction | None,
    reply_ref: tuple[int, int] | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    text: str | None = None,
    content: Content | None = None,
    now: datetime | None = None,
) -> None:
    """Queue a copy (copyMessage, or copyMessages for an album): never a forward, so
    neither side sees who wrote it.

    ``content``: what the message holds, for a copy to or from a Telegram Business
    chat, which is sent anew from it (see the module).

    ``text``: the message's text when it is plain (no formatting only a copy keeps):
    while the chat's allowance is spent, the sender may fold it with the case's next
    waiting texts into one message (see ``telegram_io.outbox.folding``).
    """
    payload: dict[str, Any] = {
        "side": side.value,
        "from_chat_id": from_chat_id,
        "message_ids": list(message_ids),
    }
    if text is not None:
        payload["text"] = text
    if content is not None and (
        channels.is_channel_chat(chat_id) or channels.is_channel_chat(from_chat_id)
    ):
        payload["content"] = content.payload()
    _enqueue(
        session,
        OutboxKind.COPY_MESSAGE,
        chat_id,
        payload,
        case_id=case_id,
        reply_ref=reply_ref,
        record=record,
        dedupe_key=dedupe_key,
        not_before=not_before,
        now=now,
    )


def topic_call(
    session: Session,
    kind: str,
    *,
    chat_id: int,
    case_id: int,
    name: str | None = None,
    now: datetime | None = None,
) -> None:
    """Queue a forum topic call for the case: create, rename, close or reopen."""
    payload: dict[str, Any] = {"side": Side.STAFF.value}
    if name is not None:
        payload["name"] = name
    _enqueue(session, kind, chat_id, payload, case_id=case_id, now=now)


def _enqueue(
    session: Session,
    kind: str,
    chat_id: int,
    payload: dict[str, Any],
    *,
    case_id: int | None,
    reply_to: int | None = None,
    reply_ref: tuple[int, int] | None = None,
    record: Direction | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    thread_id: int | None = None,
    now: datetime | None = None,
) -> None:
    if reply_to is not None:
        payload["reply_to"] = reply_to
    if reply_ref is not None:
        payload["reply_ref"] = list(reply_ref)
    if record is not None:
        payload["record"] = record.value
    if channels.is_business_chat(chat_id):
        # A Telegram Business chat: sent on behalf of the seller's account, to the
        # buyer's Telegram id; the key stays the row's chat (its order, its pacing).
        route = channels.business_route(session, chat_id)
        if route is not None:
            payload["business"], payload["to"] = route
    handoff: Handoff | None = session.info.get(HANDOFF_KEY)
    direct = handoff is not None and case_id is None and reply_ref is None and not_before is None
    row = outbox.enqueue(
        session,
        kind=kind,
        chat_id=chat_id,
        payload=payload,
        case_id=case_id,
        thread_id=thread_id,
        dedupe_key=dedupe_key,
        not_before=not_before,
        now=now,
        claim_for=handoff.worker_id if handoff is not None and direct else None,
        lease=handoff.lease if handoff is not None else outbox.DEFAULT_LEASE,
    )
    if row is None:
        return
    if direct and row.status == OutboxStatus.SENDING:
        session.info.setdefault(HANDED_KEY, []).append(row)
    else:
        session.info.setdefault(QUEUED_KEY, set()).add(chat_id)
