"""Case statistics per seller: counts, times to the first staff reply, ratings, and the
same per UTC day for charts.

Raw figures only; percentiles and rates are computed by the caller, so the queries
stay portable (no percentile functions, which SQLite lacks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import Case, CaseStatus, FaqQuestionLog, QuestionOutcome
from sellerdesk.storage.repo.questions import UtcDay


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
    seconds = sorted(
        (replied - opened_at).total_seconds() for opened_at, replied in replies if replied
    )
    return CaseFigures(opened, closed, open_now, seconds, ratings(session, seller_id, since, until))


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
