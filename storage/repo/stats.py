"""Case statistics per seller: counts, times to the first staff reply, ratings, the
resolution of FAQ answers, reopened cases and rating offers, and the same per UTC day
for charts.

Raw figures only; percentiles and rates are computed by the caller, so the queries
stay portable (no percentile functions, which SQLite lacks).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import (
    OZON_CHAT_BASE,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseStatus,
    FaqQuestionLog,
    QuestionOutcome,
)
from sellerdesk.storage.repo.questions import ANSWER_ACTION, HANDOFF_ACTION, UtcDay
from sellerdesk.storage.types import utcnow


@dataclass(frozen=True)
class CaseFigures:
    """What happened to one seller's cases in a period."""

    opened: int
    closed: int
    #: Open right now, whenever they were opened.
    open_now: int
    #: Seconds from opening to the first staff reply, for cases opened in the period.
    first_reply_seconds: list[float] = field(default_factory=list)
    #: Rating (1-5) -> how many cases got it in the period.
    ratings: dict[int, int] = field(default_factory=dict)
    #: ``(opened_at, first_staff_reply_at)`` of the same cases, in the same order: for
    #: times counted in the seller's working hours.
    first_reply_times: list[tuple[datetime, datetime]] = field(default_factory=list)


def _count(session: Session, *conditions: ColumnElement[bool]) -> int:
    stmt = select(func.count()).select_from(Case).where(*conditions)
    return int(session.execute(stmt).scalar_one())


def case_figures(session: Session, seller_id: str, since: datetime, until: datetime) -> CaseFigures:
    """The seller's case figures over ``[since, until)``."""
    opened = _count(
        session, Case.seller_id == seller_id, Case.opened_at >= since, Case.opened_at < until
    )
    closed = _count(
        session,
        Case.seller_id == seller_id,
        Case.status == CaseStatus.CLOSED,
        Case.closed_at >= since,
        Case.closed_at < until,
    )
    open_now = _count(session, Case.seller_id == seller_id, Case.status == CaseStatus.OPEN)
    replies = session.execute(
        select(Case.opened_at, Case.first_staff_reply_at).where(
            Case.seller_id == seller_id,
            Case.opened_at >= since,
            Case.opened_at < until,
            Case.first_staff_reply_at.is_not(None),
        )
    )
    times = sorted(
        ((opened_at, replied) for opened_at, replied in replies if replied),
        key=lambda pair: pair[1] - pair[0],
    )
    seconds = [(replied - opened_at).total_seconds() for opened_at, replied in times]
    return CaseFigures(
        opened, closed, open_now, seconds, ratings(session, seller_id, since, until), times
    )


# ---------------------------------------------------------------------- per-day series


@dataclass(frozen=True)
class DayCount:
    """How many of something fell on one UTC day."""

    day: date
    count: int


@dataclass(frozen=True)
class QuestionDayCount:
    """Questions of one UTC day with one matcher action and one buyer verdict."""

    day: date
    action: str
    #: The buyer's "helped?" answer; None when they gave none.
    outcome: QuestionOutcome | None
    count: int


@dataclass(frozen=True)
class FirstReply:
    """One case's wait for its first staff reply, by the UTC day it was opened."""

    day: date
    seconds: float


def cases_opened_per_day(
    session: Session, seller_id: str, since: datetime, until: datetime
) -> list[DayCount]:
    """The seller's cases opened per UTC day in ``[since, until)``, days without any left out."""
    day = UtcDay(Case.opened_at)
    stmt = (
        select(day, func.count())
        .where(Case.seller_id == seller_id, Case.opened_at >= since, Case.opened_at < until)
        .group_by(day)
        .order_by(day)
    )
    return [DayCount(_as_date(d), int(n)) for d, n in session.execute(stmt)]


def questions_per_day(
    session: Session, seller_id: str, since: datetime, until: datetime
) -> list[QuestionDayCount]:
    """The seller's logged questions per UTC day, action and outcome in ``[since, until)``."""
    day = UtcDay(FaqQuestionLog.at)
    stmt = (
        select(day, FaqQuestionLog.action, FaqQuestionLog.outcome, func.count())
        .where(
            FaqQuestionLog.seller_id == seller_id,
            FaqQuestionLog.at >= since,
            FaqQuestionLog.at < until,
        )
        .group_by(day, FaqQuestionLog.action, FaqQuestionLog.outcome)
        .order_by(day, FaqQuestionLog.action)
    )
    return [
        QuestionDayCount(_as_date(d), action, outcome, int(n))
        for d, action, outcome, n in session.execute(stmt)
    ]


def first_replies(
    session: Session, seller_id: str, since: datetime, until: datetime
) -> list[FirstReply]:
    """Time to the first staff reply of each case opened in ``[since, until)`` that got
    one, by the UTC day it was opened, in the order cases were opened."""
    stmt = (
        select(Case.opened_at, Case.first_staff_reply_at)
        .where(
            Case.seller_id == seller_id,
            Case.opened_at >= since,
            Case.opened_at < until,
            Case.first_staff_reply_at.is_not(None),
        )
        .order_by(Case.opened_at, Case.id)
    )
    return [
        FirstReply(opened.astimezone(UTC).date(), (replied - opened).total_seconds())
        for opened, replied in session.execute(stmt)
        if replied is not None
    ]


def ratings(session: Session, seller_id: str, since: datetime, until: datetime) -> dict[int, int]:
    """Rating (1-5) -> how many of the seller's cases were rated so in ``[since, until)``."""
    rows = session.execute(
        select(Case.rating, func.count())
        .where(
            Case.seller_id == seller_id,
            Case.rating.is_not(None),
            Case.rated_at >= since,
            Case.rated_at < until,
        )
        .group_by(Case.rating)
    )
    return {int(rating): int(count) for rating, count in rows if rating is not None}


def _as_date(value: date | str) -> date:
    """A day as the driver returns it: a date, or ISO text (SQLite's ``date()``)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


# ------------------------------------------------------------- resolution of FAQ answers

#: How long after an FAQ answer a request for a person still counts against it; an
#: answer younger than this that nothing has settled yet is pending.
RESOLUTION_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Resolution:
    """What became of the FAQ's answers in a period (see :func:`faq_resolution`)."""

    #: The buyer pressed "Helped".
    confirmed: int = 0
    #: No "Helped", and the buyer did not ask for a person within the window.
    assumed: int = 0
    #: The buyer pressed "Talk to a person", or asked for a person within the window.
    not_resolved: int = 0
    #: Younger than the window and settled neither way yet.
    pending: int = 0
    #: Given while the buyer had a case open with staff (staff saw the question too):
    #: not judged.
    in_case: int = 0
    #: Given to a buyer the log does not know (Ozon product questions): not judged.
    untracked: int = 0

    @property
    def judged(self) -> int:
        """Answers split into confirmed, assumed, not resolved and pending."""
        return self.confirmed + self.assumed + self.not_resolved + self.pending

    @property
    def resolved(self) -> int:
        return self.confirmed + self.assumed

    @property
    def settled(self) -> int:
        return self.resolved + self.not_resolved

    @property
    def rate(self) -> float | None:
        """Resolved answers among the settled ones, in [0, 1]; None when none is settled."""
        return self.resolved / self.settled if self.settled else None


def faq_resolution(
    session: Session,
    seller_id: str,
    since: datetime,
    until: datetime,
    *,
    now: datetime | None = None,
    window: timedelta = RESOLUTION_WINDOW,
) -> Resolution:
    """The seller's FAQ answers (action ``answer``) given in ``[since, until)``, judged
    at ``now``.

    An answer is *confirmed* when the buyer pressed "Helped" on it; else *not
    resolved* when they pressed "Talk to a person" on it or asked for a person within
    ``window`` after it (the same buyer, the same seller, in any channel: a question
    case opened, a question of theirs handed off, a closed case of theirs reopened by
    their reply); else *pending* while younger than ``window``; else *assumed*
    resolved. Answers given while the buyer had a question case open, and answers to
    no known buyer, are counted apart. Three queries, whatever the number of answers.
    """
    now = now or utcnow()
    answers = session.execute(
        select(FaqQuestionLog.buyer_id, FaqQuestionLog.at, FaqQuestionLog.outcome).where(
            FaqQuestionLog.seller_id == seller_id,
            FaqQuestionLog.action == ANSWER_ACTION,
            FaqQuestionLog.at >= since,
            FaqQuestionLog.at < until,
        )
    ).all()
    # Whom the period's answers went to: the other queries look at these buyers only.
    answered = (
        select(FaqQuestionLog.buyer_id)
        .where(
            FaqQuestionLog.seller_id == seller_id,
            FaqQuestionLog.action == ANSWER_ACTION,
            FaqQuestionLog.at >= since,
            FaqQuestionLog.at < until,
            FaqQuestionLog.buyer_id.is_not(None),
        )
        .distinct()
        .scalar_subquery()
    )
    horizon = until + window
    # The history of the question cases of those buyers that may matter: open at some
    # time from ``since`` on, or opened by the horizon.
    history = session.execute(
        select(Case.buyer_id, CaseEvent.case_id, CaseEvent.kind, CaseEvent.actor, CaseEvent.at)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            Case.seller_id == seller_id,
            Case.kind == CaseKind.QUESTION,
            Case.buyer_id.in_(answered),
            Case.opened_at <= horizon,
            or_(Case.closed_at.is_(None), Case.closed_at > since),
            CaseEvent.kind.in_(_SPAN_EVENTS),
            CaseEvent.at <= horizon,
        )
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    ).all()
    handoffs = session.execute(
        select(FaqQuestionLog.buyer_id, FaqQuestionLog.at).where(
            FaqQuestionLog.seller_id == seller_id,
            FaqQuestionLog.action == HANDOFF_ACTION,
            FaqQuestionLog.buyer_id.in_(answered),
            FaqQuestionLog.at > since,
            FaqQuestionLog.at <= horizon,
        )
    ).all()
    asked: dict[int, list[datetime]] = defaultdict(list)
    for buyer_id, at in handoffs:
        if buyer_id is not None:
            asked[buyer_id].append(at)
    # Each case's open stretches, from its events in order (opened or reopened, closed).
    open_spans: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    open_since: dict[int, tuple[int, datetime]] = {}
    for buyer_id, case_id, kind, actor, at in history:
        if kind == CaseEventKind.OPENED or (kind == CaseEventKind.REOPENED and actor == "buyer"):
            asked[buyer_id].append(at)
        if kind != CaseEventKind.CLOSED:
            open_since.setdefault(case_id, (buyer_id, at))
        elif case_id in open_since:
            open_spans[buyer_id].append((open_since.pop(case_id)[1], at))
    for buyer_id, at in open_since.values():
        open_spans[buyer_id].append((at, None))
    for times in asked.values():
        times.sort()
    counts = dict.fromkeys(("confirmed", "assumed", "not_resolved", "pending"), 0)
    in_case = untracked = 0
    for buyer_id, at, outcome in answers:
        if outcome == QuestionOutcome.HELPED:
            counts["confirmed"] += 1
        elif buyer_id is None:
            untracked += 1
        elif _open_at(open_spans.get(buyer_id, ()), at):
            in_case += 1
        elif outcome == QuestionOutcome.NOT_HELPED or _any_within(
            asked.get(buyer_id, []), at, at + window
        ):
            counts["not_resolved"] += 1
        elif now < at + window:
            counts["pending"] += 1
        else:
            counts["assumed"] += 1
    return Resolution(**counts, in_case=in_case, untracked=untracked)


#: The case events that open and close a case: its open stretches.
_SPAN_EVENTS = (CaseEventKind.OPENED, CaseEventKind.CLOSED, CaseEventKind.REOPENED)


def _open_at(spans: Iterable[tuple[datetime, datetime | None]], at: datetime) -> bool:
    """Whether one of the cases ``(opened, closed or None)`` was open at ``at``."""
    return any(opened <= at and (closed is None or at < closed) for opened, closed in spans)


def _any_within(sorted_times: list[datetime], after: datetime, until: datetime) -> bool:
    """Whether a time of ``sorted_times`` is in ``(after, until]``."""
    index = bisect_right(sorted_times, after)
    return index < len(sorted_times) and sorted_times[index] <= until


@dataclass(frozen=True)
class Reopens:
    """Cases reopened after closing in a period."""

    #: Distinct cases reopened (by staff's ``/reopen`` or by the buyer's reply).
    cases: int
    #: Of those, cases the buyer reopened by replying.
    by_buyer: int


def reopened_cases(session: Session, seller_id: str, since: datetime, until: datetime) -> Reopens:
    """The seller's cases with a ``reopened`` event in ``[since, until)``."""
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.actor)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            Case.seller_id == seller_id,
            CaseEvent.kind == CaseEventKind.REOPENED,
            CaseEvent.at >= since,
            CaseEvent.at < until,
        )
    ).all()
    every = {case_id for case_id, _ in rows}
    by_buyer = {case_id for case_id, actor in rows if actor == "buyer"}
    return Reopens(len(every), len(by_buyer))


@dataclass(frozen=True)
class RatingOffers:
    """Cases whose buyer was asked for a rating in a period, and how many gave one."""

    offered: int
    #: Of the offered cases, those rated since (whenever).
    rated: int

    @property
    def response_rate(self) -> float | None:
        """Rated among offered, in [0, 1]; None when no rating was asked for."""
        return self.rated / self.offered if self.offered else None


#: Who closes a case without asking its buyer for a rating: forgetting the buyer.
_SILENT_CLOSER = "system"


def rating_offers(
    session: Session, seller_id: str, since: datetime, until: datetime
) -> RatingOffers:
    """The seller's cases asked for a rating in ``[since, until)``.

    Offers are not recorded as such: a case counts as offered when it was closed in the
    period by staff, an admin or the buyer (not by forgetting the buyer), had no rating
    before that closing, and its buyer side is not an Ozon chat (which cannot carry the
    rating buttons): the closings that send the rating request.
    """
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.at, Case.rated_at, Case.buyer_chat_id)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            Case.seller_id == seller_id,
            CaseEvent.kind == CaseEventKind.CLOSED,
            or_(CaseEvent.actor.is_(None), CaseEvent.actor != _SILENT_CLOSER),
            CaseEvent.at >= since,
            CaseEvent.at < until,
        )
    ).all()
    first_close: dict[int, tuple[datetime, datetime | None]] = {}
    for case_id, closed_at, rated_at, buyer_chat in rows:
        if buyer_chat is not None and buyer_chat >= OZON_CHAT_BASE:
            continue
        if case_id not in first_close or closed_at < first_close[case_id][0]:
            first_close[case_id] = (closed_at, rated_at)
    offered = [rated for closed, rated in first_close.values() if rated is None or rated >= closed]
    return RatingOffers(len(offered), sum(1 for rated in offered if rated is not None))
