"""Resolution figures of a seller's period: what became of the FAQ's answers, cases
reopened, the time to the first staff reply in working time, and CSAT.

The database gives raw rows and counts (``storage.repo.stats``); the shares and
percentiles are computed here, in Python (SQLite has no percentile functions). The
definitions are written out for admins in docs/admin-tools.md, "How the figures are
defined". Also the number helpers every report shares: :func:`percentile` and
:func:`duration`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sellerdesk.bot.i18n.texts import text
from sellerdesk.faq.content.hours import WorkingHours
from sellerdesk.storage.repo import stats as stats_repo
from sellerdesk.storage.repo.stats import RatingOffers, Reopens, Resolution

#: Ratings that count as satisfied in CSAT (of 1-5).
SATISFIED_RATINGS = (4, 5)


def percentile(sorted_values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in [0, 1]) of ascending values; None if empty.

    Nearest rank, not interpolation: the figure is a time some case really took.
    """
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def duration(seconds: float | None) -> str:
    """``95`` -> ``1m35s``; ``None`` -> ``-``."""
    if seconds is None:
        return "-"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def share(value: float | None, none: str = "-") -> str:
    """``0.756`` -> ``76%``; ``None`` -> ``none``."""
    return none if value is None else f"{value:.0%}"


def working_seconds(hours: WorkingHours | None, start: datetime, end: datetime) -> float:
    """Seconds from ``start`` to ``end`` counted in the seller's working ``hours``;
    calendar seconds when the seller has none."""
    if hours is None:
        return (end - start).total_seconds()
    return hours.working_seconds(start, end)


@dataclass(frozen=True)
class ResolutionFigures:
    """A seller's resolution figures over one period."""

    faq: Resolution
    reopens: Reopens
    #: Time to the first staff reply in the seller's working hours (calendar time when
    #: they have none), for the cases opened in the period that got a reply.
    first_reply_working_median_s: float | None
    first_reply_working_p90_s: float | None
    #: Ratings given in the period, and how many of them were 4 or 5.
    rated: int
    satisfied: int
    offers: RatingOffers
    #: Whether the working-time figures used the seller's hours (False: calendar time).
    working_hours: bool = False

    @property
    def csat(self) -> float | None:
        """Share of 4-5 among the ratings given, in [0, 1]; None without ratings."""
        return self.satisfied / self.rated if self.rated else None

    def as_json(self) -> dict[str, Any]:
        faq = self.faq
        return {
            "faq_answered": faq.judged,
            "faq_confirmed": faq.confirmed,
            "faq_assumed_resolved": faq.assumed,
            "faq_not_resolved": faq.not_resolved,
            "faq_pending": faq.pending,
            "faq_resolved": faq.resolved,
            "faq_resolution_rate": _rounded(faq.rate),
            "faq_answered_in_case": faq.in_case,
            "faq_answered_untracked": faq.untracked,
            "cases_reopened": self.reopens.cases,
            "cases_reopened_by_buyer": self.reopens.by_buyer,
            "first_reply_working_median_s": self.first_reply_working_median_s,
            "first_reply_working_p90_s": self.first_reply_working_p90_s,
            "first_reply_working_hours": self.working_hours,
            "csat": _rounded(self.csat),
            "csat_ratings": self.rated,
            "csat_satisfied": self.satisfied,
            "rating_offers": self.offers.offered,
            "rating_offers_rated": self.offers.rated,
            "rating_response_rate": _rounded(self.offers.response_rate),
        }

    def lines(self) -> list[str]:
        """The figures as ``sellerdesk stats`` prints them, under the seller's counts."""
        faq = self.faq
        apart = f"; not judged: {faq.in_case} in an open case, {faq.untracked} untracked"
        clock = "working hours" if self.working_hours else "no working hours: calendar time"
        return [
            f"  FAQ answers: {faq.judged}, resolved {share(faq.rate)} of {faq.settled} settled "
            f"({faq.confirmed} confirmed, {faq.assumed} assumed, "
            f"{faq.not_resolved} not resolved; {faq.pending} pending{apart})",
            f"  reopened: {self.reopens.cases} case(s), {self.reopens.by_buyer} by the buyer",
            f"  first staff reply in working time ({clock}): "
            f"median {duration(self.first_reply_working_median_s)}, "
            f"p90 {duration(self.first_reply_working_p90_s)}",
            f"  CSAT: {share(self.csat)} of {self.rated} rating(s) were 4-5; "
            f"response rate {share(self.offers.response_rate)} "
            f"({self.offers.rated} of {self.offers.offered} asked)",
        ]

    def caption(self, lang: str) -> str:
        """The figures under the ``/stats`` chart, in ``lang``."""
        faq = self.faq
        return text(
            "stats_caption_resolution",
            lang,
            resolution=share(faq.rate),
            confirmed=str(faq.confirmed),
            assumed=str(faq.assumed),
            not_resolved=str(faq.not_resolved),
            pending=str(faq.pending),
            reopened=str(self.reopens.cases),
            median=duration(self.first_reply_working_median_s),
            p90=duration(self.first_reply_working_p90_s),
            csat=share(self.csat),
            response=share(self.offers.response_rate),
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def working_first_replies(
    hours: WorkingHours | None, times: Sequence[tuple[datetime, datetime]]
) -> list[float]:
    """Ascending working-time waits of ``(opened_at, first_staff_reply_at)`` pairs."""
    return sorted(working_seconds(hours, opened, replied) for opened, replied in times)


def resolution_figures(
    session: Session,
    seller_id: str,
    since: datetime,
    until: datetime,
    *,
    now: datetime,
    hours: WorkingHours | None,
    first_reply_times: Sequence[tuple[datetime, datetime]],
    ratings: dict[int, int],
) -> ResolutionFigures:
    """The seller's resolution figures over ``[since, until)``, judged at ``now``.

    ``first_reply_times`` and ``ratings``: the period's, as ``case_figures`` read them
    (not read again).
    """
    waits = working_first_replies(hours, first_reply_times)
    return ResolutionFigures(
        faq=stats_repo.faq_resolution(session, seller_id, since, until, now=now),
        reopens=stats_repo.reopened_cases(session, seller_id, since, until),
        first_reply_working_median_s=percentile(waits, 0.5),
        first_reply_working_p90_s=percentile(waits, 0.9),
        rated=sum(ratings.values()),
        satisfied=sum(n for rating, n in ratings.items() if rating in SATISFIED_RATINGS),
        offers=stats_repo.rating_offers(session, seller_id, since, until),
        working_hours=hours is not None,
    )
