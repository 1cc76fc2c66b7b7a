"""Reply-deadline policy: which reminders a reply clock gets, when the reply is due,
and durations as staff read them. Pure arithmetic plus one write (the schedule), so
opening a case can start its clock without knowing about the sweep.

With ``sla.clock: business`` the seller's offsets (``first_reply``, ``remind_after``,
``escalate_after``, ``returns.decide_within``) count only the seller's working
``hours``: :func:`on_wall` turns them into calendar offsets from the clock's start,
and everything after that (the schedule rows, the Ozon window cap, "time left" in a
reminder) works on calendar time as with ``wall``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sellerdesk.bot.i18n.texts import text
from sellerdesk.faq.content.hours import WorkingHours
from sellerdesk.faq.content.model import Seller, Sla
from sellerdesk.storage.models import Case, CaseKind, Reminder, ReminderKind
from sellerdesk.storage.repo import channels, reminders
from sellerdesk.storage.types import utcnow

#: Units of a duration as staff read it, largest first.
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
#: Units shown at most ("1 d 3 h", not "1 d 3 h 12 min 5 s"): precise enough for a
#: deadline, short enough to read at a glance.
DURATION_PARTS = 2


def schedule_steps(sla: Sla) -> list[tuple[ReminderKind, timedelta]]:
    """The schedule of one reply clock: a reminder at each ``remind_after`` offset
    before the escalation, then the escalation at ``escalate_after``.

    Reminders at or past the escalation are dropped (the admins are told by then;
    another nudge would only repeat it), as are duplicates and offsets below zero.
    """
    offsets = sorted({o for o in sla.remind_after if timedelta(0) <= o < sla.escalate_after})
    steps = [(ReminderKind.REMINDER, offset) for offset in offsets]
    steps.append((ReminderKind.ESCALATION, sla.escalate_after))
    return steps


def business_hours(seller: Seller) -> WorkingHours | None:
    """The hours the seller's deadlines count, None when they run on calendar time
    (``sla.clock: wall``, the default)."""
    if seller.sla.clock == "business" and seller.hours is not None:
        return seller.hours
    return None


def due_at(start: datetime, offset: timedelta, hours: WorkingHours | None) -> datetime:
    """``offset`` after ``start``: on calendar time, or counting only ``hours``. When
    the working time does not pass within a year (holidays all year), calendar time."""
    if hours is None:
        return start + offset
    try:
        return hours.add_working(start, offset)
    except ValueError:
        return start + offset


def on_wall(sla: Sla, start: datetime, hours: WorkingHours | None) -> Sla:
    """``sla`` with every offset in calendar time from ``start``: the same policy when
    ``hours`` is None, else each offset stretched over the closed time it spans."""
    if hours is None:
        return sla

    def wall(offset: timedelta) -> timedelta:
        return due_at(start, offset, hours) - start

    return Sla(
        first_reply=wall(sla.first_reply),
        remind_after=tuple(wall(o) for o in sla.remind_after),
        escalate_after=wall(sla.escalate_after),
    )


def return_sla(seller: Seller) -> Sla:
    """The decision deadline of a return as a reply deadline: due at
    ``returns.decide_within``, reminded at the seller's ``sla`` offsets that fall
    before it, escalated when it passes (the marketplace decides by then)."""
    within = seller.returns.decide_within
    return Sla(
        first_reply=within,
        remind_after=tuple(o for o in seller.sla.remind_after if o < within),
        escalate_after=within,
    )


#: An Ozon chat can be answered for 48 hours after the buyer's message (FBO; FBS chats
#: may stay open longer: the shorter window is kept).
OZON_WINDOW = timedelta(hours=48)
#: An Ozon chat case is due, and escalated, this long before its window closes at the
#: latest: the seller's own deadlines stand when they are earlier.
OZON_WINDOW_MARGIN = timedelta(hours=6)


def ozon_sla(sla: Sla) -> Sla:
    """The deadline policy of an Ozon chat case: the seller's, pulled inside the chat's
    reply window (due and escalated :data:`OZON_WINDOW_MARGIN` before it closes, with
    the reminders that fall before that)."""
    last_call = OZON_WINDOW - OZON_WINDOW_MARGIN
    escalate = min(sla.escalate_after, last_call)
    return Sla(
        first_reply=min(sla.first_reply, last_call),
        remind_after=tuple(o for o in sla.remind_after if o < escalate),
        escalate_after=escalate,
    )


def case_sla(case: Case, seller: Seller, start: datetime | None = None) -> Sla:
    """The deadline policy of ``case``'s reply clock started at ``start`` (default: the
    case's ``awaiting_reply_since``), in calendar time: its return decision, an Ozon
    chat's window, or the seller's replies.

    Under ``sla.clock: business`` the offsets are stretched over closed time first
    (:func:`on_wall`); the Ozon window stays calendar time and caps them after.
    """
    start = start or case.awaiting_reply_since
    hours = business_hours(seller) if start is not None else None
    if case.kind is CaseKind.RETURN:
        return return_sla(seller) if start is None else on_wall(return_sla(seller), start, hours)
    sla = seller.sla if start is None else on_wall(seller.sla, start, hours)
    if case.buyer_chat_id is not None and channels.is_ozon_chat(case.buyer_chat_id):
        return ozon_sla(sla)
    return sla


def deadline(start: datetime, sla: Sla) -> datetime:
    """When the reply is due for a clock started at ``start``."""
    return start + sla.first_reply


def format_duration(value: timedelta, lang: str) -> str:
    """``value`` in the largest :data:`DURATION_PARTS` units, in ``lang`` ("2 ч 5 мин").

    Rounded down to whole seconds; zero and below read as "0 s".
    """
    seconds = max(0, int(value.total_seconds()))
    parts: list[str] = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count and len(parts) < DURATION_PARTS:
            parts.append(text(f"unit_{unit}", lang, n=str(count)))
        elif parts:
            break  # the next unit down would be a gap ("1 d 5 s" reads as a typo)
    return " ".join(parts) if parts else text("unit_s", lang, n="0")


def start_clock(
    session: Session, case: Case, seller: Seller, start: datetime | None = None
) -> list[Reminder]:
    """Schedule the reminders and the escalation of ``case``'s reply clock started at
    ``start`` (replacing any earlier schedule of the case)."""
    start = start or utcnow()
    steps = schedule_steps(case_sla(case, seller, start))
    return reminders.schedule(session, case.id, start, steps, now=start)
