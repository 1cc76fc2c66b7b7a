"""Case statistics per seller: counts, times to the first staff reply, ratings.

Raw figures only; percentiles and rates are computed by the caller, so the queries
stay portable (no percentile functions, which SQLite lacks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from storage.models import Case, CaseStatus


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
    rating_rows = session.execute(
        select(Case.rating, func.count())
        .where(
            Case.seller_id == seller_id,
            Case.rating.is_not(None),
            Case.rated_at >= since,
            Case.rated_at < until,
        )
        .group_by(Case.rating)
    )
    ratings = {int(rating): int(count) for rating, count in rating_rows if rating is not None}
    return CaseFigures(opened, closed, open_now, seconds, ratings)
