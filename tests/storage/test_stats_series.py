"""Per-day statistics series for the stats chart, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from sellerdesk.bot.reports.stats import chart_period, day_figures, seller_chart
from sellerdesk.storage.models import OZON_CHAT_BASE, QuestionOutcome
from sellerdesk.storage.repo import cases, questions
from sellerdesk.storage.repo import stats as stats_repo
from sellerdesk.storage.repo.stats import DayCount, FirstReply, QuestionDayCount
from tests.storage.factories import buyer, case

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


# ------------------------------------------------------------- resolution of FAQ answers


def answered(
    session: Session,
    telegram_id: int | None,
    when: datetime,
    outcome: QuestionOutcome | None = None,
    *,
    seller_id: str = "shop",
    action: str = "answer",
    channel: str = questions.TELEGRAM,
) -> None:
    """A question of the buyer ``telegram_id`` (None: a buyer the log does not know, as
    in Ozon chats) that the FAQ decided on with ``action`` at ``when``."""
    owner = buyer(session, telegram_id, when) if telegram_id is not None else None
    row = questions.log_question_id(
        session,
        seller_id=seller_id,
        question="q",
        action=action,
        now=when,
        buyer_id=owner.id if owner else None,
        channel=channel,
    )
    if outcome is not None:
        questions.record_outcome(session, row, outcome)


def test_an_answer_is_settled_by_what_the_buyer_did_within_a_day(
    session: Session, backend: str
) -> None:
    t = at(DAY1, 10)
    # 1: asked for a person 23 h after the answer (a case opened): not resolved.
    answered(session, 1, t)
    case(session, telegram_id=1, now=t + 23 * HOUR)
    # 2: the case came 25 h after: too late to count against the answer.
    answered(session, 2, t)
    case(session, telegram_id=2, now=t + 25 * HOUR)
    # 3: pressed "Helped" (a case later does not undo it); 4: pressed "Talk to a person".
    answered(session, 3, t, QuestionOutcome.HELPED)
    case(session, telegram_id=3, now=t + HOUR)
    answered(session, 4, t, QuestionOutcome.NOT_HELPED)
    # 5: another buyer's case and a case of the same buyer with another seller.
    answered(session, 5, t)
    case(session, telegram_id=6, now=t + HOUR)
    case(session, telegram_id=5, seller_id="other", now=t + HOUR)
    # 7: the next question handed off (a case open already took it): not resolved.
    answered(session, 7, t)
    answered(session, 7, t + 5 * HOUR, action="handoff")
    # 8: replied to an old closed case 3 h after the answer, reopening it.
    old = case(session, telegram_id=8, now=SINCE - 10 * HOUR).id
    cases.close_case(session, old, actor="staff:1", now=SINCE - 5 * HOUR)
    answered(session, 8, t)
    cases.reopen_case(session, old, actor="buyer", now=t + 3 * HOUR)
    # 9: answered in the shop's Telegram account, then a case in the bot's chat.
    answered(session, 9, t, channel=questions.TELEGRAM_BUSINESS)
    case(session, telegram_id=9, now=t + 2 * HOUR)
    # 10: answered while a case of theirs was open: staff had the question too.
    case(session, telegram_id=10, now=t - HOUR)
    answered(session, 10, t)
    # An Ozon chat (no buyer known), an answer before the period, another seller's.
    answered(session, None, t, channel=questions.OZON_CHAT)
    answered(session, 2, SINCE - HOUR)
    answered(session, 1, t, seller_id="other")
    session.commit()

    got = stats_repo.faq_resolution(session, "shop", SINCE, UNTIL, now=UNTIL + 48 * HOUR)
    assert got == stats_repo.Resolution(
        confirmed=1, assumed=2, not_resolved=5, pending=0, in_case=1, untracked=1
    )
    assert (got.judged, got.resolved, got.settled, got.rate) == (8, 3, 8, 3 / 8)


def test_a_staff_reopen_is_not_the_buyer_asking(session: Session, backend: str) -> None:
    t = at(DAY1, 10)
    old = case(session, telegram_id=1, now=SINCE - 10 * HOUR).id
    cases.close_case(session, old, actor="staff:1", now=SINCE - 5 * HOUR)
    answered(session, 1, t)
    cases.reopen_case(session, old, actor="staff:2", now=t + 3 * HOUR)
    session.commit()
    got = stats_repo.faq_resolution(session, "shop", SINCE, UNTIL, now=UNTIL + 48 * HOUR)
    assert (got.assumed, got.not_resolved, got.in_case) == (1, 0, 0)


def test_a_young_answer_is_pending_until_its_day_has_passed(session: Session, backend: str) -> None:
    answered(session, 1, UNTIL - 2 * HOUR)
    answered(session, 2, UNTIL - 3 * HOUR, QuestionOutcome.HELPED)
    answered(session, 3, UNTIL - 3 * HOUR)
    case(session, telegram_id=3, now=UNTIL - HOUR)
    session.commit()
    now = stats_repo.faq_resolution(session, "shop", SINCE, UNTIL, now=UNTIL)
    assert (now.pending, now.confirmed, now.not_resolved, now.assumed) == (1, 1, 1, 0)
    assert now.rate == 0.5  # pending answers are not in the rate
    later = stats_repo.faq_resolution(session, "shop", SINCE, UNTIL, now=UNTIL + 23 * HOUR)
    assert (later.pending, later.assumed) == (0, 1)
    empty = stats_repo.faq_resolution(session, "nobody", SINCE, UNTIL, now=UNTIL)
    assert empty.judged == 0 and empty.rate is None


def test_reopened_cases_of_the_period(session: Session, backend: str) -> None:
    by_staff, by_buyer, twice, before = (case(session, telegram_id=i).id for i in (1, 2, 3, 4))
    for case_id in (by_staff, by_buyer, twice, before):
        cases.close_case(session, case_id, actor="staff:1", now=SINCE - HOUR)
    cases.reopen_case(session, before, actor="buyer", now=SINCE - 0.5 * HOUR)
    cases.reopen_case(session, by_staff, actor="staff:1", now=at(DAY1, 9))
    cases.reopen_case(session, by_buyer, actor="buyer", now=at(DAY2, 9))
    cases.reopen_case(session, twice, actor="buyer", now=at(DAY2, 9))
    cases.close_case(session, twice, actor="staff:1", now=at(DAY2, 10))
    cases.reopen_case(session, twice, actor="staff:1", now=at(DAY3, 9))
    other = case(session, telegram_id=5, seller_id="other").id
    cases.close_case(session, other, actor="staff:1", now=SINCE - HOUR)
    cases.reopen_case(session, other, actor="buyer", now=at(DAY1, 9))
    session.commit()
    assert stats_repo.reopened_cases(session, "shop", SINCE, UNTIL) == stats_repo.Reopens(3, 2)


def test_rating_offers_are_the_closings_that_ask_for_one(session: Session, backend: str) -> None:
    t = at(DAY1, 10)
    rated, unrated, forgotten, rated_before, ozon = (
        case(session, telegram_id=i, now=SINCE - HOUR) for i in range(1, 6)
    )
    for closed in (rated, unrated, ozon):
        cases.close_case(session, closed.id, actor="staff:1", now=t)
    cases.rate_case(session, rated.id, 5, now=t + HOUR)
    cases.close_case(session, forgotten.id, actor="system", now=t)  # the buyer was forgotten
    # Rated at a closing before the period, reopened and closed again: not asked again.
    cases.close_case(session, rated_before.id, actor="staff:1", now=SINCE - 0.5 * HOUR)
    cases.rate_case(session, rated_before.id, 4, now=SINCE - 0.25 * HOUR)
    cases.reopen_case(session, rated_before.id, actor="buyer", now=t + 2 * HOUR)
    cases.close_case(session, rated_before.id, actor="staff:1", now=t + 3 * HOUR)
    # An Ozon chat cannot carry the rating buttons.
    cases.set_buyer_chat(session, ozon, OZON_CHAT_BASE + 1)
    session.commit()
    offers = stats_repo.rating_offers(session, "shop", SINCE, UNTIL)
    assert offers == stats_repo.RatingOffers(offered=2, rated=1)
    assert offers.response_rate == 0.5
    assert stats_repo.rating_offers(session, "shop", at(DAY2, 0), UNTIL).response_rate is None
