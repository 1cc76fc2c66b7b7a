"""Cases: opening, finding, claiming, closing, the reply clock, ratings and the event log.

State changes are conditional UPDATEs (``... WHERE status = 'open'``) whose row
count says whether this call made the change, so two staff members pressing the
same button, or two processes handling related updates, cannot both win.

Longer than ~500 lines on purpose: every statement on the cases table and its event
log in one module, where the conditional updates can be read side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from sellerdesk.storage.models import (
    ACTOR_LEN,
    KIND_LEN,
    LANG_LEN,
    OFFER_ID_LEN,
    SUBJECT_LEN,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseMessage,
    CaseStatus,
)
from sellerdesk.storage.repo import reminders
from sellerdesk.storage.repo._sql import (
    clip,
    fixed,
    insert_ignore_object,
    insert_returning_object,
    table_of,
    update_rows,
)
from sellerdesk.storage.repo.sellers import give_back_case_number, next_case_number
from sellerdesk.storage.types import utcnow

#: Written into the statements (see :func:`storage.repo._sql.fixed`).
_IS_OPEN = Case.status == fixed(CaseStatus.OPEN)
_IS_CLOSED = Case.status == fixed(CaseStatus.CLOSED)
#: Newest cases shown when a buyer asks for their history.
DEFAULT_HISTORY_LIMIT = 20


def _update(
    session: Session, case_id: int, values: dict[str, Any], *conditions: ColumnElement[bool]
) -> bool:
    """Change the case if ``conditions`` hold; True if it did."""
    return bool(update_rows(session, Case.id, values, Case.id == case_id, *conditions))


def get_case(session: Session, case_id: int) -> Case | None:
    """The case with internal id ``case_id``."""
    return session.get(Case, case_id)


def get_case_by_number(session: Session, seller_id: str, number: int) -> Case | None:
    """The seller's case with public number ``number`` (what staff type in commands)."""
    stmt = select(Case).where(Case.seller_id == seller_id, Case.number == number)
    return session.scalars(stmt).one_or_none()


def find_open_case(
    session: Session, buyer_id: int, seller_id: str, kind: CaseKind = CaseKind.QUESTION
) -> Case | None:
    """The buyer's open case of ``kind`` with this seller (there is at most one)."""
    params = {"buyer_id": buyer_id, "seller_id": seller_id, "kind": kind}
    return session.scalars(_OPEN_CASE, params).one_or_none()


#: Asked on every buyer message: built once (see :mod:`storage.repo._sql`).
_OPEN_CASE = select(Case).where(
    Case.buyer_id == bindparam("buyer_id"),
    Case.seller_id == bindparam("seller_id"),
    _IS_OPEN,
    Case.kind == bindparam("kind"),
)


def open_case(
    session: Session,
    *,
    buyer_id: int,
    seller_id: str,
    subject: str | None = None,
    lang: str | None = None,
    offer_id: str | None = None,
    order_numbers: Iterable[str] = (),
    actor: str = "buyer",
    kind: CaseKind = CaseKind.QUESTION,
    staff_chat_id: int | None = None,
    start_reply_clock: bool = False,
    buyer_chat_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Case, bool]:
    """Open a numbered case for the buyer with the seller, or return the one already open.

    A new case is placed in ``staff_chat_id`` (see :func:`set_topic`) and, with
    ``start_reply_clock``, has its reply clock running from ``now`` (see
    :func:`start_reply_clock`): written with the row, not by UPDATEs after it.

    Returns:
        ``(case, created)``; ``created`` is False when an open case existed (the
        buyer's new message belongs to it).
    """
    existing = find_open_case(session, buyer_id, seller_id, kind)
    if existing is not None:
        return existing, False
    now = now or utcnow()
    number = next_case_number(session, seller_id, now)
    values = {
        "seller_id": seller_id,
        "number": number,
        "buyer_id": buyer_id,
        "status": CaseStatus.OPEN,
        "kind": kind,
        "subject": clip(subject, SUBJECT_LEN),
        "lang": clip(lang, LANG_LEN),
        "offer_id": clip(offer_id, OFFER_ID_LEN),
        "order_numbers": list(order_numbers),
        "staff_chat_id": staff_chat_id,
        "opened_at": now,
        "awaiting_reply_since": now if start_reply_clock else None,
        "buyer_chat_id": buyer_chat_id,
        **_NEW_CASE_EMPTY,
    }
    # Race-safe without a savepoint: if another transaction opened the case first,
    # the partial unique index of open cases makes this insert do nothing.
    case = insert_ignore_object(session, Case, values)
    if case is None:
        existing = find_open_case(session, buyer_id, seller_id, kind)
        if existing is None:
            raise IntegrityError("INSERT INTO cases", values, Exception("case not inserted"))
        if existing.number != number:  # (on other backends the insert may be ours)
            give_back_case_number(session, seller_id, number)
            return existing, False
        case = existing
    add_event(session, case.id, CaseEventKind.OPENED, actor=actor, now=now)
    return case, True


#: The columns of a new case that start empty (an inserted row is not read back).
_NEW_CASE_EMPTY: dict[str, Any] = dict.fromkeys(
    (
        "thread_id",
        "claimed_by",
        "claimed_at",
        "first_staff_reply_at",
        "last_buyer_message_at",
        "last_staff_message_at",
        "closed_at",
        "escalated_at",
        "admin_id",
        "rating",
        "rating_comment",
        "rated_at",
        "first_answer",
    )
)


def find_case_by_thread(session: Session, chat_id: int, thread_id: int) -> Case | None:
    """The case whose forum topic is ``thread_id`` in the staff chat ``chat_id``."""
    stmt = select(Case).where(Case.staff_chat_id == chat_id, Case.thread_id == thread_id)
    return session.scalars(stmt).one_or_none()


def find_case_by_staff_message(session: Session, chat_id: int, message_id: int) -> Case | None:
    """The case a message in the staff chat belongs to (a relayed copy or the bot's card).

    Plain-group mode has no topics: staff answer by replying, and the replied-to
    message leads to the case.
    """
    stmt = (
        select(Case)
        .join(CaseMessage, CaseMessage.case_id == Case.id)
        .where(CaseMessage.staff_chat_id == chat_id, CaseMessage.staff_message_id == message_id)
    )
    return session.scalars(stmt).one_or_none()


def find_case_by_buyer_message(session: Session, chat_id: int, message_id: int) -> Case | None:
    """The case a message in the buyer's chat belongs to (the buyer replied to it)."""
    stmt = (
        select(Case)
        .join(CaseMessage, CaseMessage.case_id == Case.id)
        .where(CaseMessage.buyer_chat_id == chat_id, CaseMessage.buyer_message_id == message_id)
    )
    return session.scalars(stmt).one_or_none()


def list_buyer_cases(
    session: Session,
    buyer_id: int,
    *,
    seller_id: str | None = None,
    limit: int = DEFAULT_HISTORY_LIMIT,
) -> list[Case]:
    """The buyer's cases, newest first, optionally with one seller only."""
    stmt = select(Case).where(Case.buyer_id == buyer_id)
    if seller_id is not None:
        stmt = stmt.where(Case.seller_id == seller_id)
    stmt = stmt.order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def list_open_cases(session: Session, seller_id: str | None = None) -> list[Case]:
    """Open cases, oldest first (the order staff should work through them)."""
    stmt = select(Case).where(_IS_OPEN)
    if seller_id is not None:
        stmt = stmt.where(Case.seller_id == seller_id)
    return list(session.scalars(stmt.order_by(Case.opened_at, Case.id)))


def open_cases_by_chat(session: Session, seller_id: str, chat_ids: Iterable[int]) -> dict[int, int]:
    """How many of the seller's cases are open in each of ``chat_ids`` (0 left out)."""
    stmt = (
        select(Case.staff_chat_id, func.count())
        .where(_IS_OPEN, Case.seller_id == seller_id, Case.staff_chat_id.in_(list(chat_ids)))
        .group_by(Case.staff_chat_id)
    )
    return {chat: count for chat, count in session.execute(stmt).all() if chat is not None}


def set_buyer_chat(session: Session, case: Case, chat_id: int | None) -> None:
    """Write the case's buyer side to ``chat_id`` from now on (None: the bot's chat)."""
    if case.buyer_chat_id != chat_id:
        _update(session, case.id, {"buyer_chat_id": chat_id})
        case.buyer_chat_id = chat_id


def set_topic(session: Session, case_id: int, staff_chat_id: int, thread_id: int | None) -> None:
    """Attach the case to its staff chat and forum topic (thread None in plain-group mode).

    Called again with a new thread id when a deleted topic is recreated.
    """
    _update(session, case_id, {"staff_chat_id": staff_chat_id, "thread_id": thread_id})


def update_details(
    session: Session,
    case_id: int,
    *,
    subject: str | None = None,
    offer_id: str | None = None,
    add_order_number: str | None = None,
) -> Case:
    """Fill in what the desk learnt about the case later; None leaves a field as it is."""
    case = session.get_one(Case, case_id)
    if subject is not None:
        case.subject = subject[:SUBJECT_LEN]
    if offer_id is not None:
        case.offer_id = offer_id[:OFFER_ID_LEN]
    if add_order_number is not None and add_order_number not in case.order_numbers:
        # A new list, not an in-place append: plain JSON columns do not track mutation.
        case.order_numbers = [*case.order_numbers, add_order_number]
    session.flush()
    return case


def claim_case(
    session: Session,
    case_id: int,
    user_id: int,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> bool:
    """Make staff member ``user_id`` the case's owner; True if they own it now.

    Without ``force`` only an unclaimed (or already theirs) case can be claimed, so
    two people pressing "take" at once get one winner. ``force`` is the admin's
    takeover.
    """
    now = now or utcnow()
    conditions = [_IS_OPEN]
    if not force:
        conditions.append(or_(Case.claimed_by.is_(None), Case.claimed_by == user_id))
    claimed = _update(session, case_id, {"claimed_by": user_id, "claimed_at": now}, *conditions)
    if claimed:
        add_event(session, case_id, CaseEventKind.CLAIMED, actor=f"staff:{user_id}", now=now)
    return claimed


def unclaim_case(
    session: Session, case_id: int, *, actor: str, now: datetime | None = None
) -> bool:
    """Give the case back to the team; True if it had an owner."""
    unclaimed = _update(
        session, case_id, {"claimed_by": None, "claimed_at": None}, Case.claimed_by.is_not(None)
    )
    if unclaimed:
        add_event(session, case_id, CaseEventKind.UNCLAIMED, actor=actor, now=now)
    return unclaimed


def close_case(session: Session, case_id: int, *, actor: str, now: datetime | None = None) -> bool:
    """Close an open case: stop its clock and cancel its reminders. True if it was open."""
    now = now or utcnow()
    values = {"status": CaseStatus.CLOSED, "closed_at": now, "awaiting_reply_since": None}
    if not _update(session, case_id, values, _IS_OPEN):
        return False
    reminders.cancel_for_case(session, case_id, now=now)
    add_event(session, case_id, CaseEventKind.CLOSED, actor=actor, now=now)
    return True


def reopen_case(session: Session, case_id: int, *, actor: str, now: datetime | None = None) -> bool:
    """Reopen a closed case; False if it is open already or the buyer has another open
    case with the seller (only one may be open)."""
    now = now or utcnow()
    values = {"status": CaseStatus.OPEN, "closed_at": None}
    try:
        with session.begin_nested():
            reopened = _update(session, case_id, values, _IS_CLOSED)
    except IntegrityError:
        return False
    if reopened:
        add_event(session, case_id, CaseEventKind.REOPENED, actor=actor, now=now)
    return reopened


def start_reply_clock(session: Session, case_id: int, now: datetime | None = None) -> bool:
    """Start the reply clock at ``now`` unless it is already running; True if started.

    Only the call that starts the clock should schedule reminders: the conditional
    UPDATE makes that exactly one call even when buyer messages arrive concurrently.
    """
    return _update(
        session,
        case_id,
        {"awaiting_reply_since": now or utcnow()},
        _IS_OPEN,
        Case.awaiting_reply_since.is_(None),
    )


def clear_reply_clock(session: Session, case_id: int, now: datetime | None = None) -> bool:
    """Stop the reply clock and cancel the reminders it scheduled; True if it was running."""
    was_running = _update(
        session, case_id, {"awaiting_reply_since": None}, Case.awaiting_reply_since.is_not(None)
    )
    reminders.cancel_for_case(session, case_id, now=now)
    return was_running


def record_buyer_message(session: Session, case_id: int, now: datetime | None = None) -> bool:
    """Note a buyer message on the case; True if it started the reply clock.

    When True the caller schedules the deadline reminders (their offsets are policy,
    which lives in the bot).
    """
    now = now or utcnow()
    session.flush()  # as the ORM's own UPDATE would: pending changes go first
    row = session.execute(_NOTE_BUYER_MESSAGE, {"noted_case": case_id, "noted_at": now}).first()
    cached = session.identity_map.get(identity_key(Case, case_id))
    if cached is not None:  # a copy loaded in this session re-reads what changed
        session.expire(cached, ["last_buyer_message_at"])
    if row is None or row.status is not CaseStatus.OPEN or row.awaiting_reply_since is not None:
        # Closed, or the clock runs already. The UPDATE holds the row until this
        # transaction ends, so neither can change before it: nothing more to write.
        return False
    return start_reply_clock(session, case_id, now)


#: Every message relayed to staff notes itself with this, built once (see
#: :mod:`storage.repo._sql`); it returns what decides whether the reply clock starts.
_CASES = table_of(Case)
_NOTE_BUYER_MESSAGE = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("noted_case"))
    .values(last_buyer_message_at=bindparam("noted_at"))
    .returning(_CASES.c.status, _CASES.c.awaiting_reply_since)
)


def note_staff_message(session: Session, case_id: int, now: datetime | None = None) -> None:
    """Note a staff message without stopping the clock (a return awaiting its decision)."""
    _update(session, case_id, {"last_staff_message_at": now or utcnow()})


def record_staff_reply(session: Session, case_id: int, now: datetime | None = None) -> bool:
    """Note a staff reply: stops the clock, cancels reminders; True if it was the first reply.

    The first reply's time is kept for the time-to-first-response statistic.
    """
    now = now or utcnow()
    first = _update(
        session, case_id, {"first_staff_reply_at": now}, Case.first_staff_reply_at.is_(None)
    )
    _update(session, case_id, {"last_staff_message_at": now})
    clear_reply_clock(session, case_id, now)
    return first


def rate_case(
    session: Session,
    case_id: int,
    rating: int,
    comment: str | None = None,
    now: datetime | None = None,
) -> None:
    """Store the buyer's rating (1-5) and optional comment; a later rating replaces it.

    Raises:
        ValueError: if ``rating`` is outside 1-5.
    """
    if not 1 <= rating <= 5:
        raise ValueError(f"rating must be 1-5, got {rating}")
    now = now or utcnow()
    case = session.get_one(Case, case_id)
    case.rating = rating
    if comment is not None:
        case.rating_comment = comment
    case.rated_at = now
    add_event(
        session, case_id, CaseEventKind.RATED, actor="buyer", data={"rating": rating}, now=now
    )


def add_event(
    session: Session,
    case_id: int,
    kind: str,
    *,
    actor: str | None = None,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """Append an entry to the case's history. ``data`` must be JSON-serialisable.

    Raises:
        ValueError: if ``kind`` is longer than its column (kinds are made by code).
    """
    if len(kind) > KIND_LEN:
        raise ValueError(f"event kind longer than {KIND_LEN} characters: {kind!r}")
    values = {
        "case_id": case_id,
        "kind": kind,
        "actor": clip(actor, ACTOR_LEN),
        "data": dict(data or {}),
        "at": now or utcnow(),
    }
    session.flush()  # as the ORM's own INSERT would: pending changes go first
    return insert_returning_object(session, CaseEvent, _INSERT_EVENT, values)


_EVENTS = table_of(CaseEvent)
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)


def list_events(session: Session, case_id: int) -> list[CaseEvent]:
    """The case's history, oldest first."""
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id)
    return list(session.scalars(stmt.order_by(CaseEvent.at, CaseEvent.id)))


def mark_escalated(session: Session, case_id: int, now: datetime | None = None) -> bool:
    """Note that the case reached the platform admins; True the first time only, so a
    complaint after a missed deadline is recognised as a repeat."""
    return _update(session, case_id, {"escalated_at": now or utcnow()}, Case.escalated_at.is_(None))


def take_over(
    session: Session, case_id: int, admin_id: int, *, now: datetime | None = None
) -> bool:
    """Make platform admin ``admin_id`` speak for the open case; True if they hold it now.

    Another admin's takeover is replaced: admins coordinate among themselves, and the
    last one to act is the one the buyer hears.
    """
    now = now or utcnow()
    taken = _update(session, case_id, {"admin_id": admin_id}, _IS_OPEN)
    if taken:
        add_event(session, case_id, CaseEventKind.TAKEN_OVER, actor=f"admin:{admin_id}", now=now)
    return taken


def hand_back(session: Session, case_id: int, *, actor: str, now: datetime | None = None) -> bool:
    """Return a taken-over case to the seller's staff; True if an admin held it."""
    handed = _update(session, case_id, {"admin_id": None}, Case.admin_id.is_not(None))
    if handed:
        add_event(session, case_id, CaseEventKind.HANDED_BACK, actor=actor, now=now)
    return handed


def list_admin_cases(session: Session, admin_id: int) -> list[Case]:
    """Open cases admin ``admin_id`` has taken over, oldest first."""
    stmt = select(Case).where(Case.admin_id == admin_id, _IS_OPEN)
    return list(session.scalars(stmt.order_by(Case.opened_at, Case.id)))


def clear_rating_comments(session: Session, older_than: datetime) -> int:
    """Forget rating comments given before ``older_than`` (the ratings stay); returns
    how many."""
    changed = update_rows(
        session,
        Case.id,
        {"rating_comment": None},
        Case.rated_at < older_than,
        Case.rating_comment.is_not(None),
    )
    return len(changed)
