"""Per-day statistics series for the stats chart, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from sellerdesk.bot.reports.stats import chart_period, day_figures, seller_chart
from sellerdesk.storage.models import QuestionOutcome
from sellerdesk.storage.repo import cases, questions
from sellerdesk.storage.repo import stats as stats_repo
from sellerdesk.storage.repo.stats import DayCount, FirstReply, QuestionDayCount
from tests.storage.factories import case

HOUR = timedelta(hours=1)
#: The period of these tests: 1 to 4 March 2025 (UTC), four whole days.
SINCE = datetime(2025, 3, 1, tzinfo=UTC)
UNTIL = datetime(2025, 3, 5, tzinfo=UTC)
DAY1, DAY2, DAY3, DAY4 = (date(2025, 3, d) for d in (1, 2, 3, 4))


def at(day: date, hour: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + hour * HOUR


def opened(session: Session, when: datetime, reply_after_h: float | None, buyer: int) -> int:
    """A case of "shop" opened at ``when``, answered ``reply_after_h`` hours later."""
    opened_case = case(session, telegram_id=buyer, now=when)
    if reply_after_h is not None:
        cases.record_staff_reply(session, opened_case.id, when + reply_after_h * HOUR)
    return opened_case.id


def ask(
    session: Session, when: datetime, action: str, outcome: QuestionOutcome | None = None
) -> None:
    row = questions.log_question(session, seller_id="shop", question="q", action=action, now=when)
    if outcome is not None:
        questions.record_outcome(session, row.id, outcome)


def seed(session: Session, backend: str) -> None:
    """Day 1: ten cases answered after 1..10 h, and four questions; day 2: nothing;
    day 3: one case at 23:30 UTC (already 4 March in Moscow) never answered and one
    question; day 4: a rating. Around them: another seller, and a case before the period."""
    day1 = [
        opened(session, at(DAY1, 0.5 + index), reply_after_h=index + 1, buyer=1000 + index)
        for index in range(10)
    ]
    late = opened(session, at(DAY3, 23.5), reply_after_h=None, buyer=2000)
    cases.rate_case(session, late, 2, now=at(DAY4, 10))
    cases.rate_case(session, day1[0], 5, now=at(DAY4, 11))
    cases.rate_case(session, day1[1], 5, now=at(DAY1, 20))
    ask(session, at(DAY1, 9), "answer", QuestionOutcome.HELPED)
    ask(session, at(DAY1, 9), "answer", QuestionOutcome.NOT_HELPED)
    ask(session, at(DAY1, 10), "answer")
    ask(session, at(DAY1, 11), "handoff")
    ask(session, at(DAY3, 23.9), "suggest")
    case(session, telegram_id=3000, seller_id="other", now=at(DAY2, 12))
    questions.log_question(
        session, seller_id="other", question="q", action="answer", now=at(DAY2, 12)
    )
    opened(session, SINCE - HOUR, reply_after_h=1, buyer=3001)
    session.commit()
    if backend == "postgresql":
        # Days are UTC days, whatever the connection's time zone.
        session.execute(text("SET LOCAL TIME ZONE 'Europe/Moscow'"))


def test_cases_opened_per_utc_day(session: Session, backend: str) -> None:
    seed(session, backend)
    assert stats_repo.cases_opened_per_day(session, "shop", SINCE, UNTIL) == [
        DayCount(DAY1, 10),
        DayCount(DAY3, 1),
    ]
    assert stats_repo.cases_opened_per_day(session, "other", SINCE, UNTIL) == [DayCount(DAY2, 1)]


def test_questions_per_day_by_action_and_outcome(session: Session, backend: str) -> None:
    seed(session, backend)
    rows = stats_repo.questions_per_day(session, "shop", SINCE, UNTIL)
    assert sorted(rows, key=lambda r: (r.day, r.action, r.outcome or "")) == [
        QuestionDayCount(DAY1, "answer", None, 1),
        QuestionDayCount(DAY1, "answer", QuestionOutcome.HELPED, 1),
        QuestionDayCount(DAY1, "answer", QuestionOutcome.NOT_HELPED, 1),
        QuestionDayCount(DAY1, "handoff", None, 1),
        QuestionDayCount(DAY3, "suggest", None, 1),
    ]


def test_first_replies_by_the_day_a_case_opened(session: Session, backend: str) -> None:
    seed(session, backend)
    replies = stats_repo.first_replies(session, "shop", SINCE, UNTIL)
    assert replies == [FirstReply(DAY1, (i + 1) * 3600.0) for i in range(10)]


def test_ratings_in_the_period(session: Session, backend: str) -> None:
    seed(session, backend)
    assert stats_repo.ratings(session, "shop", SINCE, UNTIL) == {2: 1, 5: 2}
    assert stats_repo.ratings(session, "shop", at(DAY4, 0), UNTIL) == {2: 1, 5: 1}


def test_day_figures_cover_every_day(session: Session, backend: str) -> None:
    seed(session, backend)
    days = day_figures(session, "shop", SINCE, UNTIL)
    assert [d.day for d in days] == [DAY1, DAY2, DAY3, DAY4]
    first, second, third, fourth = days
    assert (first.cases_opened, first.questions, first.deflected) == (10, 4, 2)
    assert first.deflection_share == 0.5
    # Ten waits of 1..10 h: nearest-rank median 5 h, 90th percentile 9 h.
    assert (first.first_reply_median_s, first.first_reply_p90_s) == (5 * 3600.0, 9 * 3600.0)
    for empty in (second, fourth):
        assert (empty.cases_opened, empty.questions, empty.deflection_share) == (0, 0, None)
        assert (empty.first_reply_median_s, empty.first_reply_p90_s) == (None, None)
    assert (third.cases_opened, third.questions, third.deflected) == (1, 1, 1)
    assert third.first_reply_median_s is None


def test_seller_chart_over_the_last_days(session: Session, backend: str) -> None:
    seed(session, backend)
    now = at(DAY4, 15)
    assert chart_period(3, now) == (datetime(2025, 3, 2, tzinfo=UTC), now)
    chart = seller_chart(
        session, "shop", shop="Shop", first_reply_deadline_s=86400.0, days=3, now=now
    )
    assert [d.day for d in chart.data.days] == [DAY2, DAY3, DAY4]
    assert [d.cases_opened for d in chart.data.days] == [0, 1, 0]
    assert chart.data.ratings == {2: 1, 5: 1}
    assert (chart.stats.cases_opened, chart.stats.questions, chart.days) == (1, 1, 3)
    assert chart.data.first_reply_deadline_s == 86400.0 and chart.data.shop == "Shop"
