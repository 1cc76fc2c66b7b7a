"""The daily digest: once a day, at the seller's local hour, their staff chat gets the
state of the desk, the day's resolution figures (first reply in calendar and working
time, CSAT, reopened cases, the FAQ answers of the day before judged) and the questions
the FAQ could not answer, grouped, so staff see which FAQ entries to add.

Runs on the deadline sweep's tick. Each digest is claimed by a row for (seller,
local day) in the same transaction as its outbox message, so it goes out once per
day whichever process (or restart) gets there first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import text
from sellerdesk.bot.reports.resolution import (
    ResolutionFigures,
    duration,
    percentile,
    resolution_figures,
    share,
)
from sellerdesk.bot.reports.unanswered import find_gaps
from sellerdesk.bot.schedule.deadlines import case_sla, deadline
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import sellers, stats
from sellerdesk.storage.repo.stats import RESOLUTION_WINDOW, Resolution
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: The digest covers the day before it: the last 24 hours.
PERIOD = timedelta(days=1)
#: Groups of unanswered questions listed (the biggest); the rest are counted.
GAPS_LISTED = 10
#: Characters of an example question in the list.
GAP_CHARS = 120


@dataclass(frozen=True)
class Figures:
    """What a digest reports."""

    open_cases: int
    overdue: int
    closed: int
    rating: float | None
    rated: int
    gaps: list[tuple[str, int]]
    unanswered: int
    #: Reopened cases, first reply (working time), CSAT and rating offers of the day.
    resolution: ResolutionFigures | None = None
    #: Median and p90 of the first staff reply in calendar time, cases opened that day.
    first_reply_median_s: float | None = None
    first_reply_p90_s: float | None = None
    #: The FAQ answers of the day before the digest's day, judged now: their window for
    #: asking a person has passed, so none is pending (the day's own answers would
    #: nearly all be).
    answers: Resolution | None = None


def digest_due(seller: Seller, now: datetime) -> tuple[date, datetime]:
    """The seller-local day of ``now`` and when that day's digest is due (UTC)."""
    zone = ZoneInfo(seller.timezone)
    day = now.astimezone(zone).date()
    due = datetime.combine(day, time(hour=seller.digest_hour), tzinfo=zone)
    return day, due.astimezone(UTC)


def digest_day(seller: Seller, now: datetime, first_seen: datetime | None) -> date | None:
    """The seller-local day whose digest is due at ``now``, if any: today once the local
    clock has passed ``digest_hour`` (a bot down at that hour sends it when back).

    Not on the day the desk started serving the seller after that hour: the digest
    would report a day the desk did not see (and every fresh start would send one).
    """
    day, due = digest_due(seller, now)
    if now < due or first_seen is None or first_seen > due:
        return None
    return day


def figures(session: Session, seller: Seller, now: datetime) -> Figures:
    since = now - PERIOD
    counted = stats.case_figures(session, seller.id, since, now)
    open_cases = cases_repo.list_open_cases(session, seller.id)
    overdue = sum(
        1
        for case in open_cases
        if case.awaiting_reply_since is not None
        and deadline(case.awaiting_reply_since, case_sla(case, seller)) < now
    )
    rated = sum(counted.ratings.values())
    total = sum(rating * n for rating, n in counted.ratings.items())
    found = find_gaps(session, seller.id, since, now, taken_ids=[e.id for e in seller.entries])
    gaps = [(draft.example, draft.count) for draft in found.drafts]
    resolution = resolution_figures(
        session,
        seller.id,
        since,
        now,
        now=now,
        hours=seller.hours,
        first_reply_times=counted.first_reply_times,
        ratings=counted.ratings,
    )
    waits = counted.first_reply_seconds
    answered_since = since - RESOLUTION_WINDOW
    return Figures(
        open_cases=len(open_cases),
        overdue=overdue,
        closed=counted.closed,
        rating=total / rated if rated else None,
        rated=rated,
        gaps=gaps,
        unanswered=found.unanswered,
        resolution=resolution,
        first_reply_median_s=percentile(waits, 0.5),
        first_reply_p90_s=percentile(waits, 0.9),
        answers=stats.faq_resolution(session, seller.id, answered_since, since, now=now),
    )


def digest_text(seller: Seller, day: date, found: Figures) -> str:
    lang = cases.staff_lang(seller)
    rating = f"{found.rating:.1f} ({found.rated})" if found.rating is not None else "—"
    lines = [
        text("digest_title", lang, shop=seller.name, day=day.strftime("%d.%m.%Y")),
        text("digest_open", lang, n=str(found.open_cases)),
        text("digest_overdue", lang, n=str(found.overdue)),
        text("digest_closed", lang, n=str(found.closed)),
        text("digest_rating", lang, rating=rating),
        *_resolution_lines(found, lang),
        "",
    ]
    if not found.gaps:
        lines.append(text("digest_no_gaps", lang))
    else:
        lines.append(text("digest_gaps", lang, n=str(found.unanswered)))
        for example, count in found.gaps[:GAPS_LISTED]:
            lines.append(f"• {cases.clip(example, GAP_CHARS)} ×{count}")
        if len(found.gaps) > GAPS_LISTED:
            lines.append(text("digest_more_gaps", lang, n=str(len(found.gaps) - GAPS_LISTED)))
    return "\n".join(lines)


def _resolution_lines(found: Figures, lang: str) -> list[str]:
    """The digest's lines on reply times, CSAT, reopened cases and FAQ answers."""
    lines = []
    figures = found.resolution
    if figures is not None:
        lines += [
            text(
                "digest_first_reply",
                lang,
                median=duration(found.first_reply_median_s),
                p90=duration(found.first_reply_p90_s),
                work_median=duration(figures.first_reply_working_median_s),
                work_p90=duration(figures.first_reply_working_p90_s),
            ),
            text(
                "digest_csat",
                lang,
                csat=share(figures.csat),
                response=share(figures.offers.response_rate),
                rated=str(figures.offers.rated),
                offered=str(figures.offers.offered),
            ),
            text("digest_reopened", lang, n=str(figures.reopens.cases)),
        ]
    answers = found.answers
    if answers is not None and answers.settled:
        lines.append(
            text(
                "digest_faq_resolution",
                lang,
                rate=share(answers.rate),
                settled=str(answers.settled),
                confirmed=str(answers.confirmed),
                assumed=str(answers.assumed),
                not_resolved=str(answers.not_resolved),
            )
        )
    return lines


class DigestSweep:
    """Sends each seller's digest once a day (blocking; run off the event loop)."""

    def __init__(
        self, db: Database, ctx: DeskContext, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.ctx = ctx
        self.clock = clock

    def tick(self, now: datetime | None = None) -> int:
        """Queue every digest due at ``now`` not yet claimed; returns how many."""
        now = now or self.clock()
        sent = 0
        for seller in self.ctx.content.sellers.values():
            with self.db.transaction() as session:
                day = digest_day(seller, now, sellers.first_seen(session, seller.id))
                if day is None:
                    continue
                if not sellers.claim_digest(session, seller.id, day.isoformat(), now):
                    continue
                body = digest_text(seller, day, figures(session, seller, now))
                # Every staff group of the seller gets the whole shop's figures.
                for chat_id in self.ctx.staff_groups(seller):
                    key = f"digest:{seller.id}:{day.isoformat()}"
                    outgoing.send_text(
                        session,
                        chat_id=chat_id,
                        text=body,
                        side=Side.STAFF,
                        later=outgoing.Urgency.DIGEST,
                        dedupe_key=key if chat_id == seller.support_chat_id else f"{key}:{chat_id}",
                        now=now,
                    )
                sent += 1
        return sent
