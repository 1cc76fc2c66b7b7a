"""The durable outbox: Bot API calls stored with their cause, claimed and sent by workers.

Life of a row: ``pending`` → (claimed) ``sending`` → ``sent`` | ``failed``, or back to
``pending`` with a later ``not_before`` when Telegram says "retry after". A claim
is a lease: if the worker dies, the row becomes claimable again once
``claimed_until`` passes. Such a row, and one whose call broke off (network error,
timeout), is ``maybe_sent``: the earlier try may have reached the chat, so the
sender checks for its copy before keeping the new one (see :mod:`bot.telegram_io.outbox`).

Order per chat: a row is only claimable when no earlier row for the same chat is
still pending or sending. Messages to one chat therefore go out one at a time in
the order they were enqueued (a buyer's three messages reach the topic as three
messages in order), a batch never holds two rows for one chat (its rows can be
sent in parallel), and a chat that is rate limited holds back only its own queue.

Longer than ~500 lines on purpose: every statement on the outbox table lives here, so
the claim, the lease, the per-chat order and the recovery after a crash can be read
(and changed) together; split, they would drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from sellerdesk.storage.models import (
    DEDUPE_KEY_LEN,
    KIND_LEN,
    WORKER_ID_LEN,
    CaseMessage,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)
from sellerdesk.storage.repo._sql import (
    claim_ids,
    dialect_name,
    in_literals,
    insert_ignore,
    insert_returning_object,
    persist_inserted,
    rowcount,
    table_of,
    update_rows,
)
from sellerdesk.storage.types import utcnow

#: Rows per claim. A batch holds at most one row per chat, and Telegram allows about
#: 30 messages a second in all, so 20 keeps a batch within one second of sending.
DEFAULT_BATCH = 20
#: How long a claim lasts. A send takes well under a second; a minute covers a slow
#: network and a 429 wait, yet a dead worker's rows are retried within a minute.
DEFAULT_LEASE = timedelta(seconds=60)

_UNSENT = (OutboxStatus.PENDING, OutboxStatus.SENDING)

#: Statements of every message sent, built once (see :mod:`storage.repo._sql`); on
#: the table, not the mapped class, where no object is wanted back.
_TABLE = table_of(OutboxMessage)
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_UNSENT_IN_CHAT = (
    select(_TABLE.c.id)
    .where(_TABLE.c.chat_id == bindparam("chat_id"), _TABLE.c.status.in_(_UNSENT))
    .limit(1)
)
#: A row handed to this process's sender: stored claimed by it (``queue_worker``,
#: until ``queue_until``) unless an earlier row for the chat is unsent, then pending
#: (the claim query takes it in turn). The check and the INSERT are one statement.
_QUEUED_ROW = _TABLE.alias("queued")
_CHAT_BUSY = (
    select(_QUEUED_ROW.c.id)
    .where(
        _QUEUED_ROW.c.chat_id == bindparam("queue_chat_id"),
        in_literals(_QUEUED_ROW.c.status, _UNSENT),
    )
    .exists()
)
_QUEUED_OR_CLAIMED = {
    "status": case((_CHAT_BUSY, OutboxStatus.PENDING.value), else_=OutboxStatus.SENDING.value),
    "claimed_by": case(
        (_CHAT_BUSY, null()), else_=bindparam("queue_worker", type_=_TABLE.c.claimed_by.type)
    ),
    "claimed_until": case(
        (_CHAT_BUSY, null()),
        else_=bindparam("queue_until", type_=_TABLE.c.claimed_until.type),
    ),
    "attempts": case((_CHAT_BUSY, 0), else_=1),
}
_INSERT_CLAIMED = insert(_TABLE).values(_QUEUED_OR_CLAIMED).returning(_TABLE.c.id, _TABLE.c.status)


def enqueue(
    session: Session,
    *,
    kind: str,
    chat_id: int,
    payload: Mapping[str, Any],
    thread_id: int | None = None,
    case_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
    claim_for: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> OutboxMessage | None:
    """Store a call to make; it is sent after the surrounding transaction commits.

    Args:
        kind: the sender's name for the call (see :class:`storage.models.OutboxKind`).
        chat_id: the target chat; also the key of the per-chat order.
        payload: JSON-serialisable arguments of the call.
        dedupe_key: when given, a second enqueue with the same key does nothing.
        not_before: do not send earlier (default: now).
        claim_for: a worker that will send the row as soon as the transaction commits
            (no claim query, no wait). The row is stored claimed by it (``sending``,
            one attempt, leased), unless an earlier row for the chat is unsent: then
            it is stored pending, to keep the chat's order. Either way, if the worker
            dies the row is sent by another once the lease ends.

    Returns:
        The new row, or None when ``dedupe_key`` was already used.

    Raises:
        ValueError: if ``kind`` or ``dedupe_key`` is too long for its column.
    """
    now = now or utcnow()
    # Both are identifiers made by code: clipping them would hide the bug.
    if len(kind) > KIND_LEN:
        raise ValueError(f"outbox kind longer than {KIND_LEN} characters: {kind!r}")
    if dedupe_key is not None and len(dedupe_key) > DEDUPE_KEY_LEN:
        raise ValueError(f"dedupe key longer than {DEDUPE_KEY_LEN} characters")
    values: dict[str, Any] = {
        "kind": kind,
        "payload": dict(payload),
        "chat_id": chat_id,
        "thread_id": thread_id,
        "case_id": case_id,
        "dedupe_key": dedupe_key,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
        "maybe_sent": False,
        "claimed_by": None,
        "claimed_until": None,
        "sent_message_ids": None,
        "last_error": None,
        "sent_at": None,
    }
    due = not_before is None or not_before <= now
    if claim_for is not None and due and dedupe_key is None:
        return _insert_claimed(session, values, claim_for[:WORKER_ID_LEN], now + lease)
    if claim_for is not None and due and not has_unsent_for_chat(session, chat_id):
        values.update(_claimed_values(claim_for[:WORKER_ID_LEN], now + lease))
    if dedupe_key is None:
        return insert_returning_object(session, OutboxMessage, _INSERT, values)
    if not insert_ignore(session, OutboxMessage, values):
        return None
    stmt = select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    return session.scalars(stmt).one()


def _claimed_values(worker_id: str, until: datetime) -> dict[str, Any]:
    """The columns of a row stored claimed by ``worker_id`` (its first attempt)."""
    return {
        "status": OutboxStatus.SENDING,
        "claimed_by": worker_id,
        "claimed_until": until,
        "attempts": 1,
    }


def _insert_claimed(
    session: Session, values: dict[str, Any], worker_id: str, until: datetime
) -> OutboxMessage:
    """INSERT a row claimed by ``worker_id``, or pending when an earlier row for its
    chat is unsent: one statement, the per-chat check inside the INSERT."""
    params = {**values, "queue_chat_id": values["chat_id"], "queue_worker": worker_id}
    params["queue_until"] = until
    for column in _QUEUED_OR_CLAIMED:
        del params[column]
    row = session.execute(_INSERT_CLAIMED, params).one()
    if row.status == OutboxStatus.SENDING:
        values.update(_claimed_values(worker_id, until))
    return persist_inserted(session, OutboxMessage, row.id, values)


def get_message(session: Session, message_id: int) -> OutboxMessage | None:
    """The outbox row with this id."""
    return session.get(OutboxMessage, message_id)


def get_message_by_key(session: Session, dedupe_key: str) -> OutboxMessage | None:
    """The outbox row enqueued with ``dedupe_key``, whatever its status."""
    stmt = select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    return session.scalars(stmt).one_or_none()


def has_unsent_for_chat(session: Session, chat_id: int) -> bool:
    """Is any row for ``chat_id`` still waiting or being sent? (Then a new row for the
    chat must wait behind it.)"""
    return session.execute(_UNSENT_IN_CHAT, {"chat_id": chat_id}).first() is not None


def has_unsent_copy(session: Session, from_chat_id: int) -> bool:
    """Is a copy of a message from ``from_chat_id`` still waiting or being sent?

    Tells "this message was never relayed" from "its copy is in flight". The source
    chat is only in the JSON payload, which is read in Python rather than with
    backend-specific JSON operators; unsent copies are few (they go out in seconds).
    """
    stmt = select(OutboxMessage.payload).where(
        OutboxMessage.kind == OutboxKind.COPY_MESSAGE, OutboxMessage.status.in_(_UNSENT)
    )
    return any(payload.get("from_chat_id") == from_chat_id for payload in session.scalars(stmt))


def claim_batch(
    session: Session,
    worker_id: str,
    now: datetime | None = None,
    limit: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE,
) -> list[OutboxMessage]:
    """Claim up to ``limit`` due rows for ``worker_id``, oldest first, at most one per chat.

    Commit right after claiming, before sending, so other workers see the claim. Each
    claim counts as an attempt. Two workers claiming at once never get the same row
    (see :func:`storage.repo._sql.claim_ids`).
    """
    now = now or utcnow()
    ids = claim_ids(
        session,
        OutboxMessage.id,
        _candidates(limit),
        _CLAIMABLE_NOW,
        _CLAIM_VALUES,
        {
            "claim_now": now,
            "claim_worker": worker_id[:WORKER_ID_LEN],
            "claim_until": now + lease,
        },
    )
    if not ids:
        return []
    return list(session.scalars(_CLAIMED, {"claimed_ids": ids}))


# The claim, built once (it runs after every send of a case's message): ``claim_now``,
# ``claim_worker`` and ``claim_until`` are its parameters. Claimable: due pending
# rows, and rows whose worker's lease ran out.
_CLAIMABLE_NOW = or_(
    and_(_TABLE.c.status == OutboxStatus.PENDING, _TABLE.c.not_before <= bindparam("claim_now")),
    and_(_TABLE.c.status == OutboxStatus.SENDING, _TABLE.c.claimed_until < bindparam("claim_now")),
)
_EARLIER = _TABLE.alias("earlier")
_EARLIER_UNSENT = exists().where(
    _EARLIER.c.chat_id == _TABLE.c.chat_id,
    _EARLIER.c.id < _TABLE.c.id,
    _EARLIER.c.status.in_(_UNSENT),
)
_CLAIM_VALUES = {
    "status": OutboxStatus.SENDING,
    "claimed_by": bindparam("claim_worker"),
    "claimed_until": bindparam("claim_until"),
    "attempts": _TABLE.c.attempts + 1,
    # Still "sending" means its last worker never said how the call went.
    "maybe_sent": or_(_TABLE.c.maybe_sent, _TABLE.c.status == OutboxStatus.SENDING),
}
_CLAIMED = (
    select(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("claimed_ids", expanding=True)))
    .order_by(OutboxMessage.id)
    .execution_options(populate_existing=True)
)
_CANDIDATES: dict[int, Select[tuple[int]]] = {}


def _candidates(limit: int) -> Select[tuple[int]]:
    """Ids of claimable rows with no unsent row before them in their chat, oldest
    first (one statement per batch size, built on first use)."""
    stmt = _CANDIDATES.get(limit)
    if stmt is None:
        stmt = (
            select(_TABLE.c.id)
            .where(_CLAIMABLE_NOW, ~_EARLIER_UNSENT)
            .order_by(_TABLE.c.id)
            .limit(limit)
        )
        _CANDIDATES[limit] = stmt
    return stmt


def _update_owned(
    session: Session, message_id: int, worker_id: str, values: dict[str, Any]
) -> bool:
    """Change a row only while it is claimed by ``worker_id``; True if it was."""
    changed = update_rows(
        session,
        OutboxMessage.id,
        values,
        OutboxMessage.id == message_id,
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.claimed_by == worker_id[:WORKER_ID_LEN],
    )
    return bool(changed)


def mark_sent(
    session: Session,
    message_id: int,
    worker_id: str,
    sent_message_ids: Sequence[int] = (),
    now: datetime | None = None,
) -> bool:
    """Record a successful send and the ids Telegram gave the new messages.

    Returns False if the row is no longer this worker's (its lease ran out and
    another worker took it): the message may then go out twice, which the caller
    should log.
    """
    params = {
        "row_id": message_id,
        "worker": worker_id[:WORKER_ID_LEN],
        "sent_ids": list(sent_message_ids),
        "sent_time": now or utcnow(),
    }
    if rowcount(session.execute(_MARK_SENT, params)) != 1:
        return False
    cached = session.identity_map.get(identity_key(OutboxMessage, message_id))
    if cached is not None:  # a copy loaded in this session re-reads what changed
        session.expire(cached, _SENT_COLUMNS)
    return True


#: Every message sent is recorded with this, built once (see storage.repo._sql).
_MARK_SENT = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("row_id"),
        _TABLE.c.status == OutboxStatus.SENDING,
        _TABLE.c.claimed_by == bindparam("worker"),
    )
    .values(
        status=OutboxStatus.SENT,
        sent_message_ids=bindparam("sent_ids"),
        sent_at=bindparam("sent_time"),
        claimed_by=None,
        claimed_until=None,
        last_error=None,
    )
)
_SENT_COLUMNS = ["status", "sent_message_ids", "sent_at", "claimed_by", "claimed_until"]
_SENT_COLUMNS += ["last_error"]


def retry_later(
    session: Session,
    message_id: int,
    worker_id: str,
    not_before: datetime,
    error: str,
    *,
    maybe_sent: bool = False,
) -> bool:
    """Put a claimed row back for another try at ``not_before`` (429 ``retry_after``,
    backoff after a network error); later rows for its chat wait behind it.

    ``maybe_sent``: the failed call may have taken effect (the connection broke
    after the request went out); the mark stays until the row is sent.
    """
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING,
        "not_before": not_before,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": error,
    }
    if maybe_sent:
        values["maybe_sent"] = True
    return _update_owned(session, message_id, worker_id, values)


def mark_failed(session: Session, message_id: int, worker_id: str, error: str) -> bool:
    """Give up on a claimed row (the buyer blocked the bot, too many attempts)."""
    values = {
        "status": OutboxStatus.FAILED,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": error,
    }
    return _update_owned(session, message_id, worker_id, values)


def release(session: Session, message_ids: Iterable[int], worker_id: str) -> int:
    """Return claimed rows untried (the worker is stopping); their attempt is not counted."""
    ids = list(message_ids)
    if not ids:
        return 0
    values = {
        "status": OutboxStatus.PENDING,
        "claimed_by": None,
        "claimed_until": None,
        "attempts": OutboxMessage.attempts - 1,
    }
    released = update_rows(
        session,
        OutboxMessage.id,
        values,
        OutboxMessage.id.in_(ids),
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.claimed_by == worker_id[:WORKER_ID_LEN],
    )
    return len(released)


def fail_pending_for_chat(session: Session, chat_id: int, error: str) -> int:
    """Fail every pending row for ``chat_id`` (the buyer blocked the bot: nothing will
    get through); returns how many."""
    failed = update_rows(
        session,
        OutboxMessage.id,
        {"status": OutboxStatus.FAILED, "last_error": error},
        OutboxMessage.chat_id == chat_id,
        OutboxMessage.status == OutboxStatus.PENDING,
    )
    return len(failed)


def retarget_thread(session: Session, chat_id: int, old_thread_id: int, new_thread_id: int) -> int:
    """Point unsent rows at a recreated forum topic (the old one was deleted)."""
    moved = update_rows(
        session,
        OutboxMessage.id,
        {"thread_id": new_thread_id},
        OutboxMessage.chat_id == chat_id,
        OutboxMessage.thread_id == old_thread_id,
        OutboxMessage.status.in_(_UNSENT),
    )
    return len(moved)


def backlog(session: Session, now: datetime | None = None) -> tuple[int, datetime | None]:
    """Rows due and not sent yet (waiting or being sent), and the earliest time one of
    them became due: how far behind delivery is (health endpoint)."""
    now = now or utcnow()
    stmt = select(func.count(), func.min(OutboxMessage.not_before)).where(
        OutboxMessage.status.in_(_UNSENT), OutboxMessage.not_before <= now
    )
    count, oldest = session.execute(stmt).one()
    return int(count), oldest


def count_by_status(session: Session) -> dict[OutboxStatus, int]:
    """How many rows are in each status (for health checks and admin stats)."""
    stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    counts = dict.fromkeys(OutboxStatus, 0)
    for status, count in session.execute(stmt):
        counts[status] = count
    return counts


def purge_sent(session: Session, older_than: datetime) -> int:
    """Delete rows sent before ``older_than``: they hold message text nobody needs any more."""
    stmt = delete(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < older_than
    )
    return rowcount(session.execute(stmt))


def append_message_id(session: Session, dedupe_key: str, message_id: int) -> bool:
    """Add ``message_id`` to the ``message_ids`` of the pending row with ``dedupe_key``.

    How an album is copied as one album: Telegram delivers its items as separate
    updates, so the first item enqueues a copy due a moment later and the others
    join it here while it still waits. False when there is no such row or it is
    already being sent (the item then goes on its own).
    """
    stmt = select(OutboxMessage).where(
        OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.status == OutboxStatus.PENDING
    )
    if dialect_name(session) == "postgresql":
        # Hold the row against a claim until this transaction ends.
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    if row is None:
        return False
    ids = sorted({*row.payload.get("message_ids", []), message_id})
    # A new dict, not an in-place change: plain JSON columns do not track mutation.
    row.payload = {**row.payload, "message_ids": ids}
    session.flush()
    return True


#: Earlier rows of a chat read to find the last message id the sender got for it.
_LOOKBACK_ROWS = 50


def record_sent_elsewhere(
    session: Session,
    *,
    kind: str,
    chat_id: int,
    message_ids: Sequence[int],
    thread_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Put on record messages the bot sent without the outbox (a chart answering
    ``/stats``): stored as a sent row, so the check for repeats after a crash
    (:func:`known_message_ids`) never takes one of them for a lost try of a row."""
    now = now or utcnow()
    session.add(
        OutboxMessage(
            kind=kind,
            payload={},
            chat_id=chat_id,
            thread_id=thread_id,
            status=OutboxStatus.SENT,
            attempts=1,
            not_before=now,
            created_at=now,
            sent_at=now,
            sent_message_ids=[int(i) for i in message_ids],
        )
    )
    session.flush()


def last_sent_message_id(session: Session, chat_id: int, before_row: int) -> int | None:
    """The highest message id Telegram gave a row to ``chat_id`` enqueued before
    ``before_row`` (None when none is left): a row's copy is newer than it, since a
    chat's rows are sent one at a time in order."""
    stmt = (
        select(OutboxMessage.sent_message_ids)
        .where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.id < before_row,
            OutboxMessage.status == OutboxStatus.SENT,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(_LOOKBACK_ROWS)
    )
    for ids in session.scalars(stmt):
        if ids:
            return max(int(i) for i in ids)
    return None


def known_message_ids(session: Session, chat_id: int, above: int, below: int) -> set[int]:
    """Ids strictly between ``above`` and ``below`` in ``chat_id`` that the bot has on
    record: messages the sender sent (strays included), and both sides of the case message mappings
    (relayed messages, and bot messages sent outside the outbox such as the card of a
    recreated topic)."""
    in_range: set[int] = set()
    sent = select(OutboxMessage.sent_message_ids).where(
        OutboxMessage.chat_id == chat_id, OutboxMessage.sent_message_ids.is_not(None)
    )
    for ids in session.scalars(sent.order_by(OutboxMessage.id.desc()).limit(_LOOKBACK_ROWS)):
        in_range.update(int(i) for i in ids or () if above < int(i) < below)
    staff_side = select(CaseMessage.staff_message_id).where(
        CaseMessage.staff_chat_id == chat_id,
        CaseMessage.staff_message_id > above,
        CaseMessage.staff_message_id < below,
    )
    buyer_side = select(CaseMessage.buyer_message_id).where(
        CaseMessage.buyer_chat_id == chat_id,
        CaseMessage.buyer_message_id > above,
        CaseMessage.buyer_message_id < below,
    )
    for stmt in (staff_side, buyer_side):
        in_range.update(int(i) for i in session.scalars(stmt) if i is not None)
    return in_range


def record_stray_send(session: Session, message_id: int, sent_message_ids: Sequence[int]) -> None:
    """Note the messages a worker sent for a row it no longer holds (its lease ran out
    mid-call): the row's owner finds them with :func:`stray_message_ids` and keeps
    them rather than its own copy; once the row is sent they stay on record."""
    row = session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None or not sent_message_ids:
        return
    ids = sorted({*(row.sent_message_ids or ()), *(int(i) for i in sent_message_ids)})
    row.sent_message_ids = ids
    session.flush()


def stray_message_ids(session: Session, message_id: int) -> list[int]:
    """Messages already on record for the row while one more try of it was under way:
    sent by a worker that lost the row's lease, or by a try that finished first."""
    stmt = select(OutboxMessage.sent_message_ids).where(OutboxMessage.id == message_id)
    return sorted(int(i) for i in session.scalars(stmt).one_or_none() or ())


def waiting_behind(session: Session, head: OutboxMessage, limit: int) -> list[OutboxMessage]:
    """Up to ``limit`` pending rows of ``head``'s chat queued after it, in order (the
    sender folds a case's waiting texts into its head: see ``fold``)."""
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.chat_id == head.chat_id,
            OutboxMessage.id > head.id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def requeue(
    session: Session, row: OutboxMessage, payload: Mapping[str, Any], now: datetime
) -> None:
    """Put ``row`` (claimed, not sent) back at the end of its chat's queue
    with ``payload``: a new row with a new id, the old one deleted, in one transaction
    (a crash leaves either). Its creation time and dedupe key stay."""
    values: dict[str, Any] = {
        "kind": row.kind,
        "payload": dict(payload),
        "chat_id": row.chat_id,
        "thread_id": row.thread_id,
        "case_id": row.case_id,
        "dedupe_key": row.dedupe_key,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "not_before": now,
        "created_at": row.created_at,
        "maybe_sent": False,
        "claimed_by": None,
        "claimed_until": None,
        "sent_message_ids": None,
        "last_error": None,
        "sent_at": None,
    }
    session.execute(delete(OutboxMessage).where(OutboxMessage.id == row.id))
    session.expunge(row)
    insert_returning_object(session, OutboxMessage, _INSERT, values)


def carry(
    session: Session,
    head: OutboxMessage,
    carried: Sequence[OutboxMessage],
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Make ``head`` (claimed) carry the pending ``carried`` rows with ``payload``; the
    carried rows stay, marked sent with no message of their own ("carried by row N"),
    so their dedupe keys still refuse a second enqueue. One transaction with the
    claim: a crash leaves every row as it was."""
    head.payload = payload
    if carried:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_([row.id for row in carried]),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.SENT, sent_at=now, last_error=f"carried by row {head.id}")
        )
    session.flush()


def fold(
    session: Session, head: OutboxMessage, folded: Sequence[OutboxMessage], payload: dict[str, Any]
) -> None:
    """Make ``head`` (claimed) carry ``folded`` (pending rows behind it) with
    ``payload``, and delete them: one transaction, so a crash leaves either the rows as
    they were or the head carrying them all."""
    head.payload = payload
    if folded:
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.id.in_([row.id for row in folded]),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
        )
    session.flush()
