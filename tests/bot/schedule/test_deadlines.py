"""The deadline arithmetic: which steps a clock gets, durations as staff read them,
topic links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sellerdesk.bot.desk.escalation import topic_link
from sellerdesk.bot.schedule.deadlines import (
    OZON_WINDOW,
    deadline,
    format_duration,
    ozon_sla,
    schedule_steps,
)
from sellerdesk.faq.content.model import Sla
from sellerdesk.storage.models import ReminderKind

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
