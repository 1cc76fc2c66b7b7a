"""The deadline arithmetic: which steps a clock gets, durations as staff read them,
topic links."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sellerdesk.bot.desk.escalation import topic_link
from sellerdesk.bot.schedule.deadlines import (
    OZON_WINDOW,
    OZON_WINDOW_MARGIN,
    business_hours,
    case_sla,
    deadline,
    due_at,
    format_duration,
    ozon_sla,
    schedule_steps,
)
from sellerdesk.faq.content.hours import WorkingHours
from sellerdesk.faq.content.model import Returns, Seller, Sla
from sellerdesk.storage.models import OZON_CHAT_BASE, Case, CaseKind, ReminderKind

S = timedelta(seconds=1)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("remind", "escalate", "expected"),
    [
        # The defaults: three reminders, then the escalation.
        ((2 * H, 12 * H, 20 * H), 24 * H, [2 * H, 12 * H, 20 * H, 24 * H]),
        # Unsorted and duplicated offsets: sorted, once each.
        ((3 * S, 1 * S, 3 * S), 5 * S, [1 * S, 3 * S, 5 * S]),
        # A reminder at or after the escalation is dropped.
        ((1 * S, 5 * S, 9 * S), 5 * S, [1 * S, 5 * S]),
        # No reminders: the escalation alone.
        ((), 24 * H, [24 * H]),
    ],
)
def test_schedule_steps(
    remind: tuple[timedelta, ...], escalate: timedelta, expected: list[timedelta]
) -> None:
    steps = schedule_steps(Sla(first_reply=escalate, remind_after=remind, escalate_after=escalate))
    assert [offset for _, offset in steps] == expected
    kinds = [kind for kind, _ in steps]
    assert kinds == [ReminderKind.REMINDER] * (len(expected) - 1) + [ReminderKind.ESCALATION]


def test_deadline_counts_from_the_clock_start() -> None:
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert deadline(start, Sla(first_reply=24 * H)) == start + 24 * H


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (timedelta(seconds=5), "en", "5 s"),
        (timedelta(seconds=65), "en", "1 min 5 s"),
        (timedelta(hours=2, minutes=5, seconds=9), "ru", "2 ч 5 мин"),
        (timedelta(days=1, hours=3), "en", "1 d 3 h"),
        # A gap below the largest unit ends the reading ("1 d 5 s" reads as a typo).
        (timedelta(days=1, seconds=5), "en", "1 d"),
        (timedelta(hours=20), "zh", "20小时"),
        (timedelta(0), "en", "0 s"),
        (timedelta(seconds=-30), "en", "0 s"),
        (timedelta(milliseconds=1500), "en", "1 s"),
    ],
)
def test_format_duration(value: timedelta, lang: str, expected: str) -> None:
    assert format_duration(value, lang) == expected


@pytest.mark.parametrize(
    ("chat_id", "thread_id", "expected"),
    [
        (-1001000000001, 42, "https://t.me/c/1000000001/42"),
        (-1001000000001, None, None),  # plain-group mode: no topic to link
        (-4000001, 42, None),  # a basic group has no t.me/c links
        (None, 42, None),
    ],
)
def test_topic_link(chat_id: int | None, thread_id: int | None, expected: str | None) -> None:
    assert topic_link(chat_id, thread_id) == expected


def test_an_ozon_chat_case_is_due_and_escalated_before_its_reply_window_closes() -> None:
    hours = timedelta(hours=1)
    lax = Sla(
        first_reply=72 * hours,
        remind_after=(12 * hours, 40 * hours, 60 * hours),
        escalate_after=72 * hours,
    )
    inside = ozon_sla(lax)
    assert inside.escalate_after < OZON_WINDOW and inside.first_reply <= inside.escalate_after
    assert inside.remind_after == (12 * hours, 40 * hours)
    steps = schedule_steps(inside)
    assert steps[-1] == (ReminderKind.ESCALATION, inside.escalate_after)
    # A seller's own earlier deadlines stand.
    strict = Sla(first_reply=2 * hours, remind_after=(hours,), escalate_after=4 * hours)
    assert ozon_sla(strict) == strict


# ------------------------------------------------------------------ sla.clock: business

MOSCOW = ZoneInfo("Europe/Moscow")
#: mon-fri 09:00-18:00 in Moscow.
OFFICE = WorkingHours(week=(((540, 1080),),) * 5 + ((), ()), timezone="Europe/Moscow")
BUSINESS = Sla(
    first_reply=4 * H, remind_after=(2 * H, 3 * H), escalate_after=8 * H, clock="business"
)


def _seller(sla: Sla, hours: WorkingHours | None = OFFICE, **kwargs: object) -> Seller:
    return Seller(
        id="shop",
        name="Shop",
        support_chat_id=-1001,
        languages=("ru",),
        sla=sla,
        hours=hours,
        timezone="Europe/Moscow",
        **kwargs,  # type: ignore[arg-type]
    )


def _case(start: datetime, kind: CaseKind = CaseKind.QUESTION, chat: int | None = None) -> Case:
    return Case(kind=kind, buyer_chat_id=chat, awaiting_reply_since=start)


def _due(sla: Sla, start: datetime) -> list[datetime]:
    return [start + offset for _, offset in schedule_steps(sla)]


def test_a_business_clock_counts_only_working_hours() -> None:
    friday_16 = datetime(2026, 12, 11, 16, 0, tzinfo=MOSCOW)
    seller = _seller(BUSINESS)
    sla = case_sla(_case(friday_16), seller)
    monday = datetime(2026, 12, 14, tzinfo=MOSCOW)
    # 2 h left on Friday; the deadline's other 2 h run on Monday morning.
    assert deadline(friday_16, sla) == monday.replace(hour=11)
    reminders_and_escalation = _due(sla, friday_16)
    assert reminders_and_escalation == [
        friday_16.replace(hour=18),  # the reminder at 2 h: at closing on Friday
        monday.replace(hour=10),
        monday.replace(hour=15),  # the escalation after 8 working hours
    ]
    # start_clock's form: the start given, the same policy.
    assert case_sla(_case(friday_16), seller, friday_16) == sla


def test_a_wall_clock_keeps_calendar_time_even_with_hours() -> None:
    friday_16 = datetime(2026, 12, 11, 16, 0, tzinfo=MOSCOW)
    wall = Sla(first_reply=4 * H, remind_after=(2 * H, 3 * H), escalate_after=8 * H)
    seller = _seller(wall)
    assert case_sla(_case(friday_16), seller) == wall
    assert deadline(friday_16, case_sla(_case(friday_16), seller)) == friday_16 + 4 * H
    assert business_hours(seller) is None
    assert due_at(friday_16, 4 * H, None) == friday_16 + 4 * H


def test_return_decisions_follow_the_business_clock() -> None:
    friday_16 = datetime(2026, 12, 11, 16, 0, tzinfo=MOSCOW)
    seller = _seller(BUSINESS, returns=Returns(decide_within=5 * H))
    sla = case_sla(_case(friday_16, CaseKind.RETURN), seller)
    assert deadline(friday_16, sla) == datetime(2026, 12, 14, 12, 0, tzinfo=MOSCOW)
    assert sla.escalate_after == sla.first_reply
    assert _due(sla, friday_16)[:2] == [
        datetime(2026, 12, 11, 18, 0, tzinfo=MOSCOW),
        datetime(2026, 12, 14, 10, 0, tzinfo=MOSCOW),
    ]


def test_the_ozon_window_stays_on_wall_time_and_caps_a_business_deadline() -> None:
    friday_16 = datetime(2026, 12, 11, 16, 0, tzinfo=MOSCOW)
    lax = Sla(first_reply=24 * H, remind_after=(2 * H, 20 * H), escalate_after=24 * H)
    seller = _seller(replace(lax, clock="business"))
    sla = case_sla(_case(friday_16, chat=OZON_CHAT_BASE + 1), seller)
    cap = OZON_WINDOW - OZON_WINDOW_MARGIN
    # 24 working hours would run to Wednesday; the chat's window closes Sunday.
    assert sla.first_reply == cap and sla.escalate_after == cap
    assert deadline(friday_16, sla) == friday_16 + cap
    # The 2 h reminder (Friday 18:00) stands; the 20 h one (Tuesday) is past the cap.
    assert sla.remind_after == (2 * H,)
    # A business deadline inside the window is kept: Monday 16:00 + 4 working hours.
    monday_16 = datetime(2026, 12, 14, 16, 0, tzinfo=MOSCOW)
    strict = case_sla(_case(monday_16, chat=OZON_CHAT_BASE + 1), _seller(BUSINESS))
    assert deadline(monday_16, strict) == datetime(2026, 12, 15, 11, 0, tzinfo=MOSCOW)


def test_a_business_clock_without_working_time_falls_back_to_calendar_time() -> None:
    start = datetime(2026, 12, 11, 16, 0, tzinfo=MOSCOW)
    closed_all_year = replace(OFFICE, holidays=((date(2026, 1, 1), date(2028, 1, 1)),))
    assert due_at(start, 4 * H, closed_all_year) == start + 4 * H
