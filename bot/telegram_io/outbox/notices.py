"""What goes first into a staff group: buyers' words and new cases before notices.

A group takes about 20 of the bot's messages a minute, all its topics together. When
the sender claims a notice for staff (a reminder, a status or rating note: ``later``
1 in the payload, see ``bot.desk.outgoing.Urgency``) or the daily digest (``later``
2) while rows that matter more wait behind it in the same chat (a buyer's words, a
new case's topic and card), the notice is put back at the end of the chat's queue
instead of being sent, and the next row is claimed. A notice put back keeps its
dedupe key and creation time; after :data:`MAX_WAIT` it goes at its turn whatever
waits, so nothing is held for ever. Notices of one case waiting together (two
reminders, a note and a reminder) go as one message, joined by blank lines, instead
of piling up.

Both happen in the claim's transaction (``storage.repo.outbox.requeue`` and
``carry``: joined notices stay as rows marked carried, so their dedupe keys still
hold): a crash leaves every row as it was or moved whole. A row that may already
have reached Telegram (``maybe_sent``) is never moved or merged: it goes as it is.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sellerdesk.bot.desk.outgoing import MESSAGE_CHARS, Side
from sellerdesk.storage.models import OutboxKind, OutboxMessage
from sellerdesk.storage.repo import outbox

#: How long a notice (a digest) may be passed over by more urgent rows at most.
MAX_WAIT = {1: timedelta(minutes=5), 2: timedelta(minutes=30)}
#: Rows looked at behind a notice (a bounded query).
LOOK_BEHIND = 200
#: Claims made in one go at most while notices are put back: each round takes the
#: next row of those chats.
CLAIM_ROUNDS = 4
#: Between two notices carried by one message.
JOINER = "\n\n"


def urgency(row: OutboxMessage) -> int:
    """0 for rows that go in order, 1 for a notice to staff, 2 for the digest."""
    if row.kind != OutboxKind.SEND_TEXT:
        return 0
    value = row.payload.get("later", 0)
    return value if isinstance(value, int) and value in MAX_WAIT else 0


def _plain_notice(row: OutboxMessage) -> bool:
    payload = row.payload
    return (
        urgency(row) == 1
        and row.case_id is not None
        and payload.get("side") == Side.STAFF.value
        and isinstance(payload.get("text"), str)
        and not any(key in payload for key in ("buttons", "reply_to", "reply_ref", "carries"))
    )


def claim(
    session: Session, worker_id: str, room: int, lease: timedelta, now: datetime
) -> list[OutboxMessage]:
    """Claim up to ``room`` rows to send (``storage.repo.outbox.claim_batch``): a
    notice with more urgent rows behind it is put back and its chat's next row claimed
    instead; a notice claimed carries its case's waiting notices."""
    rows: list[OutboxMessage] = []
    for _ in range(CLAIM_ROUNDS):
        claimed = outbox.claim_batch(session, worker_id, limit=room, lease=lease, now=now)
        moved = [row for row in claimed if put_back(session, row, now)]
        rows += [row for row in claimed if row not in moved]
        room -= len(claimed) - len(moved)
        if not moved or room <= 0:
            break
    for row in rows:
        fold_notices(session, row, now)
    return rows


def put_back(session: Session, head: OutboxMessage, now: datetime) -> bool:
    """Move the claimed notice ``head`` behind the chat's queue when rows that matter
    more are due behind it; returns whether it was moved (then it is not to be sent)."""
    rank = urgency(head)
    if rank == 0 or head.maybe_sent or now - head.created_at >= MAX_WAIT[rank]:
        return False
    behind = outbox.waiting_behind(session, head, LOOK_BEHIND)
    if not any(urgency(row) < rank and row.not_before <= now for row in behind):
        return False
    _fold(session, head, behind, now)
    outbox.requeue(session, head, head.payload, now)
    return True


def fold_notices(session: Session, head: OutboxMessage, now: datetime) -> int:
    """Make the claimed notice ``head`` carry its case's other notices waiting behind
    it; returns how many it took."""
    if head.maybe_sent or not _plain_notice(head):
        return 0
    return _fold(session, head, outbox.waiting_behind(session, head, LOOK_BEHIND), now)


def _fold(session: Session, head: OutboxMessage, behind: list[OutboxMessage], now: datetime) -> int:
    """Join to ``head`` the plain notices of its case that lead its rows in ``behind``
    (deleted from the queue), within one message; returns how many."""
    if not _plain_notice(head):
        return 0
    taken: list[OutboxMessage] = []
    for row in behind:
        if row.case_id != head.case_id:
            continue  # another case's row: its order is its own
        if not _plain_notice(row) or row.not_before > now:
            break  # the case's own words or card keep their order after this notice
        taken.append(row)
    as_html = any(bool(r.payload.get("html")) for r in (head, *taken))
    texts = [_text(r, as_html) for r in (head, *taken)]
    while len(JOINER.join(texts)) > MESSAGE_CHARS and taken:
        texts.pop()
        taken.pop()
    if not taken:
        return 0
    payload = {**head.payload, "text": JOINER.join(texts), "html": as_html}
    outbox.carry(session, head, taken, payload, now)
    return len(taken)


def _text(row: OutboxMessage, as_html: bool) -> str:
    text = str(row.payload["text"])
    return html.escape(text, quote=False) if as_html and not row.payload.get("html") else text
