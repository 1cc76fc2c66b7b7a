"""``sellerdesk stats`` and ``/stats``: per seller, what the desk did in a period.

Cases opened and closed, questions the FAQ settled without a person (the deflection
rate), the median and 90th-percentile time to the first staff reply, and ratings, with
the resolution figures of :mod:`bot.reports.resolution` (FAQ answers resolved, cases
reopened, the first reply in working time, CSAT); the same per UTC day for the chart
(:mod:`bot.reports.charts`), which staff and admins ask for in Telegram with ``/stats``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import Bot, ReplyParameters
from telegram.error import TelegramError

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.cases import DeskContext, staff_lang
from sellerdesk.bot.desk.inbound import Incoming
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import text
from sellerdesk.bot.reports.charts import ChartData, DayFigures, rating_mean, render_chart
from sellerdesk.bot.reports.resolution import (
    ResolutionFigures,
    duration,
    percentile,
    resolution_figures,
)
from sellerdesk.bot.telegram_io.pacing import Pacer
from sellerdesk.faq.content.hours import WorkingHours
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.models import QuestionOutcome
from sellerdesk.storage.repo import outbox, questions, updates
from sellerdesk.storage.repo import stats as stats_repo
from sellerdesk.storage.repo.stats import case_figures

log = logging.getLogger(__name__)

#: Days a chart covers unless asked otherwise.
DEFAULT_CHART_DAYS = 30
#: Longest period a chart covers: a year of daily bars is still readable.
MAX_CHART_DAYS = 365


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
    #: Channel -> (questions, settled by the FAQ), when buyers asked anywhere but the
    #: bot's own chat (an Ozon chat).
    channels: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: FAQ answers resolved, reopened cases, working-time first reply, CSAT.
    resolution: ResolutionFigures | None = None

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_mean(self) -> float | None:
        return rating_mean(self.ratings)

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
            "channels": {
                name: {"questions": asked, "deflected": settled}
                for name, (asked, settled) in sorted(self.channels.items())
            },
            **(self.resolution.as_json() if self.resolution is not None else {}),
        }


def seller_stats(
    session: Session,
    seller_id: str,
    since: datetime,
    until: datetime,
    *,
    hours: WorkingHours | None = None,
    now: datetime | None = None,
) -> SellerStats:
    """The figures of one seller over ``[since, until)``, judged at ``now`` (default
    ``until``); ``hours``: the seller's working hours (None: calendar time)."""
    figures = case_figures(session, seller_id, since, until)
    deflection = questions.deflection(session, since, until, seller_id)
    per_channel = questions.deflection_by_channel(session, since, until, seller_id)
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
        channels=(
            {name: (d.total, d.deflected) for name, d in per_channel.items()}
            if set(per_channel) - {questions.TELEGRAM}
            else {}
        ),
        resolution=resolution_figures(
            session,
            seller_id,
            since,
            until,
            now=now or until,
            hours=hours,
            first_reply_times=figures.first_reply_times,
            ratings=figures.ratings,
        ),
    )


#: How ``sellerdesk stats`` names each channel.
CHANNEL_NAMES = {
    "telegram": "bot chat",
    "ozon_chat": "Ozon chats",
    "tg_business": "shop's Telegram account",
    "ozon_question": "Ozon product questions",
}


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
            *(
                f"    {CHANNEL_NAMES.get(name, name)}: {asked} questions, {settled} settled"
                for name, (asked, settled) in sorted(stats.channels.items())
            ),
            f"  first staff reply: median {duration(stats.first_reply_median_s)}, "
            f"p90 {duration(stats.first_reply_p90_s)} ({stats.first_replies} cases)",
            f"  ratings: {stats.rating_count}"
            + (f", mean {mean:.2f} ({ratings})" if mean is not None else ""),
            *(stats.resolution.lines() if stats.resolution is not None else []),
        ]
    )


# ---------------------------------------------------------------------- the chart's data


def chart_period(days: int, now: datetime) -> tuple[datetime, datetime]:
    """``[since, until)`` of the last ``days`` UTC calendar days, today (up to ``now``)
    included."""
    first_day = now.astimezone(UTC).date() - timedelta(days=days - 1)
    return datetime.combine(first_day, time(), tzinfo=UTC), now


def _day_range(since: datetime, until: datetime) -> list[date]:
    """Every UTC day from ``since`` to the last instant before ``until``."""
    first = since.astimezone(UTC).date()
    last = (until - timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def day_figures(
    session: Session, seller_id: str, since: datetime, until: datetime
) -> list[DayFigures]:
    """The seller's figures for every UTC day of ``[since, until)``, days without data
    included (zero cases, no share, no reply times)."""
    opened = {
        row.day: row.count
        for row in stats_repo.cases_opened_per_day(session, seller_id, since, until)
    }
    asked: dict[date, int] = defaultdict(int)
    deflected: dict[date, int] = defaultdict(int)
    for row in stats_repo.questions_per_day(session, seller_id, since, until):
        asked[row.day] += row.count
        if row.action != questions.HANDOFF_ACTION and row.outcome != QuestionOutcome.NOT_HELPED:
            deflected[row.day] += row.count
    waits: dict[date, list[float]] = defaultdict(list)
    for reply in stats_repo.first_replies(session, seller_id, since, until):
        waits[reply.day].append(reply.seconds)
    result = []
    for day in _day_range(since, until):
        times = sorted(waits.get(day, []))
        result.append(
            DayFigures(
                day=day,
                cases_opened=opened.get(day, 0),
                questions=asked.get(day, 0),
                deflected=deflected.get(day, 0),
                first_reply_median_s=percentile(times, 0.5),
                first_reply_p90_s=percentile(times, 0.9),
            )
        )
    return result


@dataclass(frozen=True)
class SellerChart:
    """A seller's chart data and text figures over one period."""

    data: ChartData
    stats: SellerStats
    days: int


def seller_chart(
    session: Session,
    seller_id: str,
    *,
    shop: str,
    first_reply_deadline_s: float | None,
    days: int = DEFAULT_CHART_DAYS,
    now: datetime,
    hours: WorkingHours | None = None,
) -> SellerChart:
    """The chart data and the text figures of the seller's last ``days`` UTC days
    (``hours``: the seller's working hours, for the first reply in working time)."""
    since, until = chart_period(days, now)
    stats = seller_stats(session, seller_id, since, until, hours=hours, now=now)
    data = ChartData(
        shop=shop,
        days=day_figures(session, seller_id, since, until),
        ratings=stats_repo.ratings(session, seller_id, since, until),
        first_reply_deadline_s=first_reply_deadline_s,
        **_headline(stats.resolution),
    )
    return SellerChart(data, stats, days)


def _headline(figures: ResolutionFigures | None) -> dict[str, Any]:
    """The chart's line of resolution figures."""
    if figures is None:
        return {}
    return {
        "faq_resolved": figures.faq.rate,
        "csat": figures.csat,
        "rating_response": figures.offers.response_rate,
        "reopened": figures.reopens.cases,
    }


def caption(chart: SellerChart, lang: str) -> str:
    """The short text figures under the chart, in ``lang``."""
    stats = chart.stats
    mean = stats.rating_mean
    ratings = (
        text("stats_rating_mean", lang, count=str(stats.rating_count), mean=f"{mean:.2f}")
        if mean is not None
        else text("stats_no_ratings", lang)
    )
    body = text(
        "stats_caption",
        lang,
        shop=chart.data.shop,
        days=str(chart.days),
        opened=str(stats.cases_opened),
        closed=str(stats.cases_closed),
        open_now=str(stats.cases_open_now),
        questions=str(stats.questions),
        deflection=f"{stats.deflection_rate:.0%}",
        median=duration(stats.first_reply_median_s),
        p90=duration(stats.first_reply_p90_s),
        ratings=ratings,
    )
    return body if stats.resolution is None else f"{body}\n{stats.resolution.caption(lang)}"


# ---------------------------------------------------------------------- /stats in Telegram


@dataclass(frozen=True)
class StatsRequest:
    """What ``/stats [shop] [days]`` asks for."""

    seller_id: str | None = None
    days: int = DEFAULT_CHART_DAYS


def parse_request(args: str) -> StatsRequest | None:
    """``/stats`` arguments, in either order: a shop id, a number of days (1 to
    :data:`MAX_CHART_DAYS`); None when they are not that."""
    seller_id: str | None = None
    days: int | None = None
    for word in args.split():
        if word.isascii() and word.isdigit():
            if days is not None or not 1 <= int(word) <= MAX_CHART_DAYS:
                return None
            days = int(word)
        elif seller_id is None:
            seller_id = word.lower()
        else:
            return None
    return StatsRequest(seller_id, days or DEFAULT_CHART_DAYS)


@dataclass(frozen=True)
class ChartReply:
    """A rendered chart and where it goes: the chat (and topic) it was asked in."""

    chat_id: int
    thread_id: int | None
    reply_to: int
    png: bytes
    caption: str


#: Telegram's limit on a photo caption, in characters.
CAPTION_LIMIT = 1024


class StatsReports:
    """``/stats`` from seller staff in their support chat, or from platform admins in
    the admin chat: the chart of one seller, or a short answer saying why not.

    The figures are read in one short transaction; the chart is drawn after it, still
    off the event loop (the caller runs these methods in a worker thread).
    """

    def __init__(self, db: Database, ctx: DeskContext) -> None:
        self.db = db
        self.ctx = ctx

    def staff_chart(self, msg: Incoming, *, now: datetime | None = None) -> ChartReply | None:
        """``/stats [shop] [days]`` in a support chat: that chat's seller, staff only."""
        with self.db.transaction() as session:
            if not updates.mark_processed(session, msg.update_id):
                return None
            in_chat = self.ctx.sellers_of_chat(msg.chat_id)
            if not in_chat:
                return None
            allowed = [s for s in in_chat if self.ctx.is_staff(s, msg.user_id, msg.chat_id)]
            if not allowed:
                self._say(
                    session, msg, Side.STAFF, text("stats_staff_only", staff_lang(in_chat[0]))
                )
                return None
            picked = self._pick(session, msg, allowed, Side.STAFF, staff_lang(allowed[0]))
            if picked is None:
                return None
            seller, request = picked
            chart = self._gather(session, seller, request.days, now)
        return self._reply(msg, chart, staff_lang(seller))

    def admin_chart(self, msg: Incoming, *, now: datetime | None = None) -> ChartReply | None:
        """``/stats [shop] [days]`` in the admin chat: any seller, ADMIN_USER_IDS only."""
        with self.db.transaction() as session:
            if not updates.mark_processed(session, msg.update_id):
                return None
            if msg.user_id not in self.ctx.admin_user_ids:
                self._say(session, msg, Side.ADMIN, text("admin_only", self.ctx.admin_language))
                return None
            every = sorted(self.ctx.content.sellers.values(), key=lambda s: s.id)
            picked = self._pick(session, msg, every, Side.ADMIN, self.ctx.admin_language)
            if picked is None:
                return None
            seller, request = picked
            chart = self._gather(session, seller, request.days, now)
        return self._reply(msg, chart, self.ctx.admin_language)

    def _pick(
        self,
        session: Session,
        msg: Incoming,
        sellers: Sequence[Seller],
        side: Side,
        lang: str,
    ) -> tuple[Seller, StatsRequest] | None:
        """The seller and period asked for, among ``sellers``; else says how to ask."""
        request = parse_request(msg.args)
        if request is None:
            self._say(session, msg, side, text("stats_usage", lang, max=str(MAX_CHART_DAYS)))
            return None
        if request.seller_id is not None:
            seller = next((s for s in sellers if s.id == request.seller_id), None)
        else:
            seller = sellers[0] if len(sellers) == 1 else None
        if seller is None:
            known = ", ".join(s.id for s in sellers) or "-"
            self._say(session, msg, side, text("stats_which_seller", lang, known=known))
            return None
        return seller, request

    @staticmethod
    def _say(session: Session, msg: Incoming, side: Side, body: str) -> None:
        outgoing.send_text(
            session,
            chat_id=msg.chat_id,
            text=body,
            side=side,
            reply_to=msg.message_id,
            thread_id=msg.thread_id,
        )

    @staticmethod
    def _gather(session: Session, seller: Seller, days: int, now: datetime | None) -> SellerChart:
        return seller_chart(
            session,
            seller.id,
            shop=seller.name,
            first_reply_deadline_s=seller.sla.first_reply.total_seconds(),
            days=days,
            now=now or datetime.now(UTC),
            hours=seller.hours,
        )

    @staticmethod
    def _reply(msg: Incoming, chart: SellerChart, lang: str) -> ChartReply:
        body = caption(chart, lang)
        if len(body) > CAPTION_LIMIT:
            body = body[: CAPTION_LIMIT - 1] + "…"
        return ChartReply(
            chat_id=msg.chat_id,
            thread_id=msg.thread_id,
            reply_to=msg.message_id,
            png=render_chart(chart.data, lang),
            caption=body,
        )


#: Outbox kind of a chart sent straight away, kept on record (see :func:`send_chart`).
CHART_KIND = "send_photo_direct"


def _record_chart(db: Database, reply: ChartReply, message_id: int) -> None:
    with db.transaction() as session:
        outbox.record_sent_elsewhere(
            session,
            kind=CHART_KIND,
            chat_id=reply.chat_id,
            thread_id=reply.thread_id,
            message_ids=[message_id],
        )


async def send_chart(bot: Bot, db: Database, reply: ChartReply, pacer: Pacer | None = None) -> bool:
    """Upload the chart as a photo (multipart) where it was asked for; False if Telegram
    refused or could not be reached (the figures are there to ask for again).

    Sent at once rather than through the outbox: it answers someone waiting for it, and
    a picture of the moment is worth nothing if it arrives hours later. It still waits
    its turn under the chat's share of Telegram's limits (``pacer``: the sender's), so
    a run of /stats cannot crowd a group.
    """
    if pacer is not None:
        await pacer.acquire(reply.chat_id)
    try:
        sent = await bot.send_photo(
            chat_id=reply.chat_id,
            photo=reply.png,
            filename="stats.png",
            caption=reply.caption,
            message_thread_id=reply.thread_id,
            reply_parameters=ReplyParameters(reply.reply_to, allow_sending_without_reply=True),
        )
    except TelegramError as error:
        log.warning("stats chart to chat %s not sent: %s", reply.chat_id, error)
        return False
    # On record like every message the bot sends: the outbox's check for repeats
    # after a crash must never take the chart for a lost copy of a relayed message.
    await db.run(_record_chart, db, reply, sent.message_id)
    return True
