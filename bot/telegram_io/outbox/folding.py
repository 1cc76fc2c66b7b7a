"""Folding a case's waiting texts into one message for a staff group.

Telegram lets a bot send about 20 messages a minute into one group, all its topics
together; the pacer keeps to that, so a buyer writing ten short lines in a few seconds
used to reach staff as ten sends over half a minute. When the sender claims a buyer's
plain text for a group and more of the same case's plain texts wait behind it in that
chat's queue (they can only be waiting because the chat's allowance is spent or the
row ahead is being sent), the claimed row is made to carry them all, past other cases'
rows between them (each case has its own topic; only a case's own order matters, and a
case's row that cannot fold ends its run): one message,
each line opening with its time (``18:02 · и ещё...``), under Telegram's 4,096
characters (the rest waits for the next fold). Only plain texts fold (formatting, a
reply to a message, media and albums keep their own copy), only within one case, and
only rows already due; nothing is ever dropped. Folding happens in the claim's
transaction (``storage.repo.outbox.fold``), so a crash leaves either every row as it
was or the head carrying them all; the head then goes through the usual
sent-or-maybe-sent handling. The first buyer message maps to the folded message (a
staff reply to it finds the case); the others are recorded without a counterpart.

The same holds the other way: staff's plain texts to a buyer, waiting while the
buyer's private chat is paced (about one message a second), go as one message whose
paragraphs are staff's messages in order (no times: the buyer reads one answer).
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.outgoing import MESSAGE_CHARS, Side
from sellerdesk.storage.models import OutboxKind, OutboxMessage
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import outbox

#: Rows looked at behind a head at most, every case's (a bounded query).
MAX_FOLDED = 200
#: Between a line's time and its text.
SEPARATOR = " · "
#: Between staff's texts folded into one message to a buyer.
BUYER_JOINER = "\n\n"


def foldable(row: OutboxMessage) -> bool:
    """A copy of one plain text of a case, replying to nothing: a buyer's into a
    group, or staff's into the buyer's private chat."""
    payload = row.payload
    side = payload.get("side")
    return (
        row.kind == OutboxKind.COPY_MESSAGE
        and row.case_id is not None
        and (
            (row.chat_id < 0 and side == Side.STAFF.value)
            or (row.chat_id > 0 and side == Side.BUYER.value)
        )
        and isinstance(payload.get("text"), str)
        and "reply_ref" not in payload
        and "folded_text" not in payload
        and len(payload.get("message_ids") or ()) == 1
    )


def _case_run(session: Session, head: OutboxMessage, now: datetime) -> list[OutboxMessage]:
    """The foldable texts of ``head``'s case waiting right behind it (other cases'
    rows skipped), up to the case's first row that cannot fold."""
    run = []
    for row in outbox.waiting_behind(session, head, MAX_FOLDED):
        if row.case_id != head.case_id:
            continue  # another case's row (its own topic): its order is its own
        if not foldable(row) or row.not_before > now:
            break  # this case's photo, reply, formatted text...: it keeps its place
        run.append(row)
    return run


def _zone(session: Session, head: OutboxMessage, ctx: DeskContext) -> ZoneInfo:
    """The time zone of the seller of ``head``'s case (UTC when unknown)."""
    assert head.case_id is not None
    case = cases_repo.get_case(session, head.case_id)
    seller = ctx.seller(case.seller_id) if case is not None else None
    return ZoneInfo(seller.timezone) if seller is not None else ZoneInfo("UTC")


def _stamped(row: OutboxMessage, zone: ZoneInfo, text: str) -> str:
    """``text`` as a folded line: the time ``row`` was written, then the text."""
    return f"{row.created_at.astimezone(zone):%H:%M}{SEPARATOR}{text}"


def carrying_card(row: OutboxMessage) -> bool:
    """A new case's card that shows the buyer's first message (``carries``)."""
    payload = row.payload
    return (
        row.kind == OutboxKind.SEND_TEXT
        and row.case_id is not None
        and payload.get("side") == Side.STAFF.value
        and bool(payload.get("html"))
        and isinstance(payload.get("carries"), list)
        and "carries_more" not in payload
    )


def fold_into_card(session: Session, head: OutboxMessage, ctx: DeskContext, now: datetime) -> int:
    """Append to a new case's card (just claimed) the buyer's texts that wait behind it,
    one line each with its time: the case opens in two sends however many lines the
    buyer wrote meanwhile. Returns how many it took."""
    if not carrying_card(head):
        return 0
    run = _case_run(session, head, now)
    if not run:
        return 0
    zone = _zone(session, head, ctx)
    text = str(head.payload["text"])
    taken: list[OutboxMessage] = []
    for row in run:
        line = "\n" + _stamped(row, zone, html.escape(str(row.payload["text"]), quote=False))
        if len(text) + len(line) > MESSAGE_CHARS:
            break
        text += line
        taken.append(row)
    if not taken:
        return 0
    more = [int(row.payload["message_ids"][0]) for row in taken]
    outbox.fold(session, head, taken, {**head.payload, "text": text, "carries_more": more})
    return len(taken)


def fold_waiting(session: Session, head: OutboxMessage, ctx: DeskContext, now: datetime) -> int:
    """Fold the texts waiting behind ``head`` (just claimed) into it; returns how many
    rows it now carries besides its own."""
    if not foldable(head):
        return 0
    run = _case_run(session, head, now)
    if not run:
        return 0
    # Staff read each buyer line with its time; a buyer reads staff's lines as the
    # paragraphs of one answer.
    to_buyer = head.payload.get("side") == Side.BUYER.value
    zone = None if to_buyer else _zone(session, head, ctx)
    joiner = BUYER_JOINER if to_buyer else "\n"
    lines: list[str] = []
    taken: list[OutboxMessage] = []
    for row in [head, *run]:
        line = str(row.payload["text"])
        if zone is not None:
            line = _stamped(row, zone, line)
        if len(joiner.join([*lines, line])) > MESSAGE_CHARS:
            break
        lines.append(line)
        taken.append(row)
    if len(taken) < 2:
        return 0
    payload = {
        **head.payload,
        "folded_text": joiner.join(lines),
        "message_ids": [int(row.payload["message_ids"][0]) for row in taken],
    }
    outbox.fold(session, head, taken[1:], payload)
    return len(taken) - 1
