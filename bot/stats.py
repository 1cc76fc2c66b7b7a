"""``sellerdesk stats``: per seller, what the desk did in a period.

Cases opened and closed, questions the FAQ settled without a person (the deflection
rate), the median and 90th-percentile time to the first staff reply, and ratings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.repo import questions
from storage.repo.stats import case_figures


def percentile(sorted_values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in [0, 1]) of ascending values; None if empty.

    Nearest rank, not interpolation: the figure is a time some case really took.
    """
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class SellerStats:
    seller_id: str
    cases_opened: int
    cases_closed: int
    cases_open_now: int
    questions: int
    deflected: int
    deflection_rate: float
    first_reply_median_s: float | None
    first_reply_p90_s: float | None
    first_replies: int
    ratings: dict[int, int]

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_mean(self) -> float | None:
        count = self.rating_count
        return sum(r * n for r, n in self.ratings.items()) / count if count else None

    def as_json(self) -> dict[str, Any]:
        return {
            "seller": self.seller_id,
            "cases_opened": self.cases_opened,
            "cases_closed": self.cases_closed,
            "cases_open_now": self.cases_open_now,
            "questions": self.questions,
            "deflected": self.deflected,
            "deflection_rate": round(self.deflection_rate, 4),
            "first_reply_median_s": self.first_reply_median_s,
            "first_reply_p90_s": self.first_reply_p90_s,
            "first_replies": self.first_replies,
            "ratings": {str(k): v for k, v in sorted(self.ratings.items())},
            "rating_count": self.rating_count,
            "rating_mean": None if self.rating_mean is None else round(self.rating_mean, 2),
        }


def seller_stats(session: Session, seller_id: str, since: datetime, until: datetime) -> SellerStats:
    """The figures of one seller over ``[since, until)``."""
    figures = case_figures(session, seller_id, since, until)
    deflection = questions.deflection(session, since, until, seller_id)
    times = figures.first_reply_seconds
    return SellerStats(
        seller_id=seller_id,
        cases_opened=figures.opened,
        cases_closed=figures.closed,
        cases_open_now=figures.open_now,
        questions=deflection.total,
        deflected=deflection.deflected,
        deflection_rate=deflection.rate,
        first_reply_median_s=percentile(times, 0.5),
        first_reply_p90_s=percentile(times, 0.9),
        first_replies=len(times),
        ratings=figures.ratings,
    )


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


def format_stats(stats: SellerStats) -> str:
    """The figures as an admin reads them in a terminal."""
    mean = stats.rating_mean
    ratings = " ".join(f"{r}:{n}" for r, n in sorted(stats.ratings.items())) or "-"
    return "\n".join(
        [
            f"{stats.seller_id}",
            f"  cases: {stats.cases_opened} opened, {stats.cases_closed} closed, "
            f"{stats.cases_open_now} open now",
            f"  FAQ: {stats.questions} questions, {stats.deflected} settled without a case "
            f"(deflection {stats.deflection_rate:.0%})",
            f"  first staff reply: median {duration(stats.first_reply_median_s)}, "
            f"p90 {duration(stats.first_reply_p90_s)} ({stats.first_replies} cases)",
            f"  ratings: {stats.rating_count}"
            + (f", mean {mean:.2f} ({ratings})" if mean is not None else ""),
        ]
    )
