"""Resolution figures in ``sellerdesk stats`` and ``/stats``: the first reply in working
time against calendar time, CSAT and the rating response rate, FAQ answers resolved, and
the keys of ``--json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sellerdesk.bot.reports.resolution import working_seconds
from sellerdesk.bot.reports.stats import caption, format_stats, seller_chart, seller_stats
from sellerdesk.cli import main
from sellerdesk.faq.content.hours import WorkingHours
from sellerdesk.storage.db import make_engine, session_factory, unit_of_work
from sellerdesk.storage.models import QuestionOutcome
from sellerdesk.storage.repo import cases, questions
from tests.faq.conftest import SELLER_YAML, WriteSeller
from tests.storage.factories import buyer

H = timedelta(hours=1)
#: 7 March 2025 is a Friday; the period covers the first half of March.
FRIDAY = datetime(2025, 3, 7, tzinfo=UTC)
SATURDAY, MONDAY = FRIDAY + timedelta(days=1), FRIDAY + timedelta(days=3)
SINCE = datetime(2025, 3, 1, tzinfo=UTC)
UNTIL = datetime(2025, 3, 16, tzinfo=UTC)
#: Monday to Friday, 09:00-18:00 UTC.
OFFICE = WorkingHours(week=(((9 * 60, 18 * 60),),) * 5 + ((), ()), timezone="UTC")
HOURS_YAML = 'hours:\n  mon-fri: "09:00-18:00"\n'


def seed(session: Session) -> None:
    """Three cases answered over a weekend or at once, one never answered and reopened
    by its buyer; three of the four rated; three FAQ answers."""
    waits = [
        (FRIDAY + 17 * H, MONDAY + 10 * H),  # 65 h, of which 2 working hours
        (MONDAY + 9 * H, MONDAY + 9.5 * H),  # 30 min, all working time
        (SATURDAY + 12 * H, MONDAY + 9.25 * H),  # 45 h 15 min, of which 15 min
    ]
    ratings = [5, 4, 2]
    for index, (opened_at, replied_at) in enumerate(waits):
        owner = buyer(session, 100 + index)
        opened, _ = cases.open_case(session, buyer_id=owner.id, seller_id="shop", now=opened_at)
        cases.record_staff_reply(session, opened.id, replied_at)
        cases.close_case(session, opened.id, actor="staff:1", now=MONDAY + 12 * H)
        cases.rate_case(session, opened.id, ratings[index], now=MONDAY + 13 * H)
    silent, _ = cases.open_case(
        session, buyer_id=buyer(session, 200).id, seller_id="shop", now=MONDAY + 11 * H
    )
    cases.close_case(session, silent.id, actor="staff:1", now=MONDAY + 12 * H)
    cases.reopen_case(session, silent.id, actor="buyer", now=MONDAY + 14 * H)
    for telegram_id, outcome in ((300, QuestionOutcome.HELPED), (301, None), (302, None)):
        row = questions.log_question_id(
            session,
            seller_id="shop",
            question="q",
            action="answer",
            now=SINCE + H,
            buyer_id=buyer(session, telegram_id).id,
        )
        if outcome is not None:
            questions.record_outcome(session, row, outcome)
    # 302 asked for a person an hour after the answer.
    cases.open_case(session, buyer_id=buyer(session, 302).id, seller_id="shop", now=SINCE + 2 * H)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    assert main(["db", "upgrade", "--url", url]) == 0
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        seed(session)
    engine.dispose()
    yield url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with session_factory(engine)() as opened:
        yield opened
    engine.dispose()


def test_working_seconds_follow_the_hours_or_the_calendar() -> None:
    start, end = FRIDAY + 17 * H, MONDAY + 10 * H
    assert working_seconds(None, start, end) == 65 * 3600.0
    assert working_seconds(OFFICE, start, end) == 2 * 3600.0


def test_first_reply_percentiles_in_working_and_calendar_time(session: Session) -> None:
    stats = seller_stats(session, "shop", SINCE, UNTIL, hours=OFFICE)
    figures = stats.resolution
    assert figures is not None and figures.working_hours
    # Calendar: 30 min, 45 h 15 min, 65 h; working: 15 min, 30 min, 2 h (nearest rank).
    assert (stats.first_reply_median_s, stats.first_reply_p90_s) == (45.25 * 3600, 65 * 3600)
    assert figures.first_reply_working_median_s == 0.5 * 3600
    assert figures.first_reply_working_p90_s == 2 * 3600
    # A seller without hours: working time is calendar time.
    plain = seller_stats(session, "shop", SINCE, UNTIL).resolution
    assert plain is not None and not plain.working_hours
    assert plain.first_reply_working_median_s == 45.25 * 3600
    assert plain.first_reply_working_p90_s == 65 * 3600


def test_csat_share_and_response_rate(session: Session) -> None:
    figures = seller_stats(session, "shop", SINCE, UNTIL).resolution
    assert figures is not None
    # Ratings 5, 4, 2: two of three satisfied; four closings asked, three rated.
    assert (figures.rated, figures.satisfied, figures.csat) == (3, 2, 2 / 3)
    assert (figures.offers.offered, figures.offers.rated) == (4, 3)
    assert figures.offers.response_rate == 0.75
    assert (figures.reopens.cases, figures.reopens.by_buyer) == (1, 1)
    assert (figures.faq.confirmed, figures.faq.assumed, figures.faq.not_resolved) == (1, 1, 1)
    # Nothing rated in a period without closings.
    empty = seller_stats(session, "shop", SINCE, SINCE + H).resolution
    assert empty is not None and (empty.csat, empty.offers.response_rate) == (None, None)


def test_text_and_caption_show_the_figures(session: Session) -> None:
    text = format_stats(seller_stats(session, "shop", SINCE, UNTIL, hours=OFFICE))
    assert "FAQ answers: 3, resolved 67% of 3 settled (1 confirmed, 1 assumed" in text
    assert "reopened: 1 case(s), 1 by the buyer" in text
    assert "first staff reply in working time (working hours): median 30m00s, p90 2h00m" in text
    assert "CSAT: 67% of 3 rating(s) were 4-5; response rate 75% (3 of 4 asked)" in text
    chart = seller_chart(
        session, "shop", shop="Shop", first_reply_deadline_s=None, days=16, now=UNTIL, hours=OFFICE
    )
    body = caption(chart, "en")
    assert "First staff reply: median 45h15m, p90 65h00m" in body
    assert "First reply in working time: median 30m00s, p90 2h00m" in body
    assert "FAQ answers resolved: 67% (1 confirmed, 1 assumed, 1 not resolved, 0 pending)" in body
    assert "Reopened cases: 1" in body and "CSAT: 67%, response rate 75%" in body
    assert "медиана 30m00s" in caption(chart, "ru")
    # The chart itself carries the same figures under its title.
    data = chart.data
    assert data.faq_resolved == pytest.approx(2 / 3) and data.csat == pytest.approx(2 / 3)
    assert (data.rating_response, data.reopened) == (0.75, 1)


def test_json_has_the_resolution_keys(
    db_url: str, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    content = write_seller("shop", seller=SELLER_YAML + HOURS_YAML).parent
    assert main(["stats", "shop", "--url", db_url, "--json", "--content", str(content)]) == 0
    (figures,) = json.loads(capsys.readouterr().out)
    assert figures["first_reply_median_s"] == 45.25 * 3600  # the keys there were stay
    assert figures["first_reply_working_median_s"] == 0.5 * 3600
    assert figures["first_reply_working_p90_s"] == 2 * 3600
    assert figures["first_reply_working_hours"] is True
    assert (figures["csat"], figures["csat_ratings"], figures["csat_satisfied"]) == (
        0.6667,
        3,
        2,
    )
    assert (figures["rating_offers"], figures["rating_offers_rated"]) == (4, 3)
    assert figures["rating_response_rate"] == 0.75
    assert (figures["cases_reopened"], figures["cases_reopened_by_buyer"]) == (1, 1)
    assert {
        key: figures[key]
        for key in (
            "faq_answered",
            "faq_confirmed",
            "faq_assumed_resolved",
            "faq_not_resolved",
            "faq_pending",
            "faq_resolved",
            "faq_resolution_rate",
            "faq_answered_in_case",
            "faq_answered_untracked",
        )
    } == {
        "faq_answered": 3,
        "faq_confirmed": 1,
        "faq_assumed_resolved": 1,
        "faq_not_resolved": 1,
        "faq_pending": 0,
        "faq_resolved": 2,
        "faq_resolution_rate": 0.6667,
        "faq_answered_in_case": 0,
        "faq_answered_untracked": 0,
    }
    # Without the content files: calendar time, said on stderr.
    missing = content.parent / "nowhere"
    assert main(["stats", "shop", "--url", db_url, "--json", "--content", str(missing)]) == 0
    captured = capsys.readouterr()
    (plain,) = json.loads(captured.out)
    assert plain["first_reply_working_median_s"] == 45.25 * 3600
    assert plain["first_reply_working_hours"] is False
    assert "counted in calendar time" in captured.err
