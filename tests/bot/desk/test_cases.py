"""Pure parts of the case desk: topic names, order numbers, the card's escaping, what a
buyer handed to staff outside working hours is told."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.cases import (
    TOPIC_NAME_CHARS,
    away_note,
    card_text,
    deadline_text,
    order_numbers,
    topic_name,
)
from sellerdesk.faq.content.hours import WorkingHours
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Seller, Sla
from sellerdesk.storage.models import Case

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"


def _case(subject: str | None) -> Case:
    return Case(
        id=7,
        number=12,
        seller_id="lotus-wear",
        subject=subject,
        lang="ru",
        order_numbers=["12345678-0001"],
        opened_at=datetime(2025, 3, 1, tzinfo=UTC),
    )


def test_topic_name_has_number_alias_and_a_short_subject() -> None:
    assert topic_name(_case("Где   мой\nзаказ?"), "A7F3") == "#12 · Buyer #A7F3 · Где мой заказ?"
    assert topic_name(_case(None), "A7F3", closed=True) == "✅ #12 · Buyer #A7F3"
    long = topic_name(_case("слово " * 100), "A7F3")
    assert len(long) <= TOPIC_NAME_CHARS and long.endswith("…")


def test_order_numbers_in_ozon_formats() -> None:
    found = order_numbers("заказы 12345678-0001 и 12345678-0001-1, не 123-45 и 12345678-0001")
    assert found == ["12345678-0001", "12345678-0001-1"]


def test_card_escapes_what_buyers_wrote() -> None:
    content = load_content(DEMO)
    seller = content.sellers["lotus-wear"]
    card = card_text(_case("<script>&amp;</script>"), seller, "A7F3", FaqAnswers(content))
    assert "&lt;script&gt;&amp;amp;&lt;/script&gt;" in card
    assert "<script>" not in card
    assert "12345678-0001" in card and "Buyer #A7F3" in card


MOSCOW = ZoneInfo("Europe/Moscow")
#: mon-fri 09:00-18:00 in Moscow, closed 31 December to 8 January.
OFFICE = WorkingHours(
    week=(((540, 1080),),) * 5 + ((), ()),
    timezone="Europe/Moscow",
    holidays=((date(2026, 12, 31), date(2027, 1, 8)),),
)


def _seller(**changes: object) -> Seller:
    seller = Seller(
        id="shop",
        name="Shop",
        support_chat_id=-1001,
        languages=("ru", "en", "zh"),
        timezone="Europe/Moscow",
        hours=OFFICE,
        away={"ru": "Мы ответим в рабочее время.", "en": "We answer in working hours."},
    )
    return replace(seller, **changes)  # type: ignore[arg-type]


def test_within_hours_a_handoff_says_nothing_more() -> None:
    tuesday_noon = datetime(2026, 12, 8, 12, 0, tzinfo=MOSCOW)
    assert away_note(_seller(), "ru", tuesday_noon) == ""
    # No hours given: staff count as always at work.
    assert away_note(_seller(hours=None), "ru", datetime(2026, 12, 13, 3, 0, tzinfo=UTC)) == ""


def test_outside_hours_the_buyer_hears_when_staff_are_back() -> None:
    saturday = datetime(2026, 12, 12, 15, 0, tzinfo=MOSCOW)
    seller = _seller()
    assert away_note(seller, "ru", saturday) == (
        "Мы ответим в рабочее время. "
        "Сотрудники снова на связи в понедельник в 09:00 (время Europe/Moscow)."
    )
    assert away_note(seller, "en", saturday) == (
        "We answer in working hours. Staff are back Monday 09:00 (Europe/Moscow time)."
    )
    # No Chinese away text: the seller's first language's, the sentence in Chinese.
    assert away_note(seller, "zh", saturday) == (
        "Мы ответим в рабочее время. 客服将于周一 09:00（Europe/Moscow时间）回来。"
    )
    # Friday night in UTC is already Saturday in Moscow: the seller's clock decides.
    friday_night = datetime(2026, 12, 11, 22, 30, tzinfo=UTC)
    assert away_note(seller, "en", friday_night).endswith("Monday 09:00 (Europe/Moscow time).")
    # Without away texts, the sentence alone.
    assert away_note(_seller(away={}), "en", saturday) == (
        "Staff are back Monday 09:00 (Europe/Moscow time)."
    )


def test_holidays_count_as_closed_and_a_far_return_names_the_date() -> None:
    new_year = datetime(2026, 12, 31, 11, 0, tzinfo=MOSCOW)  # a Thursday, a holiday
    assert away_note(_seller(), "en", new_year) == (
        "We answer in working hours. Staff are back Monday 11.01.2027 09:00 (Europe/Moscow time)."
    )
    assert away_note(_seller(), "ru", new_year).endswith(
        "снова на связи в понедельник, 11.01.2027, в 09:00 (время Europe/Moscow)."
    )


def test_the_deadline_the_buyer_reads_follows_the_business_clock() -> None:
    case = _case("вопрос")
    case.opened_at = datetime(2026, 12, 11, 16, 0, tzinfo=MOSCOW)  # Friday
    business = _seller(sla=Sla(first_reply=4 * timedelta(hours=1), clock="business"))
    assert deadline_text(case, business) == "14.12.2026 11:00 (Moscow)"
    wall = _seller(sla=Sla(first_reply=4 * timedelta(hours=1)))
    assert deadline_text(case, wall) == "11.12.2026 20:00 (Moscow)"
