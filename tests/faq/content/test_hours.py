"""Working hours: reading seller.yaml's ``hours``, ``holidays``, ``away`` and
``sla.clock`` (every mistake named with its line), and :class:`WorkingHours`' clock
arithmetic (open or closed, the next opening, working time between two moments and
after one), over nights, weekends, holidays and DST changes."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sellerdesk.faq.content.errors import ContentError, Problem
from sellerdesk.faq.content.hours import (
    DAY_MINUTES,
    HoursError,
    WorkingHours,
    parse_days,
    parse_holiday,
    parse_spans,
)
from sellerdesk.faq.content.loader import load_seller
from sellerdesk.faq.content.seller_file import load_seller_file

H = timedelta(hours=1)
MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_SIX = ((9 * 60, 18 * 60),)
#: mon-fri 09:00-18:00, sat 10:00-14:00, sun closed.
OFFICE = (*(NINE_TO_SIX,) * 5, ((10 * 60, 14 * 60),), ())


def moscow(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MOSCOW)


def office(**kwargs: object) -> WorkingHours:
    return WorkingHours(week=OFFICE, timezone="Europe/Moscow", **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ the formats


@pytest.mark.parametrize(
    ("key", "days"),
    [
        ("wed", (2,)),
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("sat-mon", (5, 6, 0)),  # wraps over the week's end
        ("sun-sun", (6,)),
    ],
)
def test_day_keys(key: str, days: tuple[int, ...]) -> None:
    assert parse_days(key) == days


@pytest.mark.parametrize("key", ["monday", "mon-", "mon-fri-sun", "пн", "Mon"])
def test_day_keys_refused(key: str) -> None:
    with pytest.raises(HoursError):
        parse_days(key)


def test_day_values() -> None:
    assert parse_spans("09:00-18:00") == ((540, 1080),)
    assert parse_spans("14:00-18:00, 9:00-13:00") == ((540, 780), (840, 1080))
    assert parse_spans("09:00-13:00,13:00-24:00") == ((540, 780), (780, DAY_MINUTES))
    assert parse_spans("closed") == ()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("25:00-26:00", "not a time of day"),
        ("09:60-10:00", "not a time of day"),
        ("09:00-08:00", "ends before it starts"),
        ("22:00-02:00", "split a night shift over two days"),
        ("09:00-09:00", "ends before it starts"),
        ("24:00-24:00", "24:00 can only end a range"),
        ("09:00-13:00, 12:00-18:00", "overlap"),
        ("9-18", "not a time"),
        ("09:00", "not a range"),
        ("always", "not a range"),
    ],
)
def test_day_values_refused(value: str, says: str) -> None:
    with pytest.raises(HoursError, match=says):
        parse_spans(value)


def test_holidays() -> None:
    assert parse_holiday("2026-03-08") == (date(2026, 3, 8), date(2026, 3, 8))
    assert parse_holiday("2026-01-01..2026-01-08") == (date(2026, 1, 1), date(2026, 1, 8))
    for bad in ("2026-02-30", "08.03.2026", "2026-01-08..2026-01-01", "2026-01-01..", "soon"):
        with pytest.raises(HoursError):
            parse_holiday(bad)


# ----------------------------------------------------------------------- seller.yaml

SELLER = "name: Shop\nsupport_chat_id: -1001\nlanguages: [ru, en]\ntimezone: Europe/Moscow\n"


def _load(tmp_path: Path, extra: str) -> tuple[dict[str, object], list[Problem]]:
    path = tmp_path / "seller.yaml"
    path.write_text(SELLER + extra, encoding="utf-8")
    return load_seller_file(path, "shop")


def test_the_contracts_example_loads(tmp_path: Path) -> None:
    fields, problems = _load(
        tmp_path,
        "sla:\n  clock: business\n"
        'hours:\n  mon-fri: "09:00-18:00"\n  sat: "10:00-14:00"\n  sun: closed\n'
        "holidays: [2026-01-01..2026-01-08, 2026-03-08]\n"
        "away:\n  ru: Мы ответим в рабочее время.\n",
    )
    assert problems == []
    hours = fields["hours"]
    assert isinstance(hours, WorkingHours)
    assert hours.week == OFFICE and hours.timezone == "Europe/Moscow"
    assert hours.holidays == (
        (date(2026, 1, 1), date(2026, 1, 8)),
        (date(2026, 3, 8), date(2026, 3, 8)),
    )
    assert fields["away"] == {"ru": "Мы ответим в рабочее время."}
    assert fields["sla"].clock == "business"  # type: ignore[attr-defined]


def test_without_the_keys_nothing_changes(tmp_path: Path) -> None:
    fields, problems = _load(tmp_path, "")
    assert problems == [] and "hours" not in fields and "away" not in fields


def test_holidays_alone_close_only_those_days(tmp_path: Path) -> None:
    fields, problems = _load(tmp_path, "holidays: [2026-03-08]\n")
    assert problems == []
    hours = fields["hours"]
    assert isinstance(hours, WorkingHours)
    assert hours.is_open(moscow(2026, 3, 7, 3, 0))
    assert not hours.is_open(moscow(2026, 3, 8, 12, 0))


#: Each mistake, the line the message must name, and a piece of the message.
MISTAKES = [
    ("hours:\n  mon-fri: 25:00-26:00\n", 6, "hours.mon-fri: '25:00' is not a time of day"),
    ("hours:\n  mon: 09:00-08:00\n", 6, "hours.mon: '09:00-08:00' ends before it starts"),
    ("hours:\n  fri: 22:00-02:00\n", 6, "split a night shift"),
    ("hours:\n  tue: 09:00-13:00, 12:00-18:00\n", 6, "09:00-13:00 and 12:00-18:00 overlap"),
    (
        "hours:\n  mon-fri: 09:00-18:00\n  wed: 17:00-19:00\n",
        7,
        "17:00-19:00 on wed overlaps 09:00-18:00 of mon-fri (line 6)",
    ),
    ("hours:\n  mon-fri: 09:00-18:00\n  wed: closed\n", 7, "wed is open by mon-fri (line 6)"),
    ("hours:\n  sun: closed\n  sat-sun: 10:00-12:00\n", 7, "sun is closed by sun (line 6)"),
    ("hours:\n  mon: 09:00-18:00\n  funday: 10:00-12:00\n", 7, "'funday' is not a weekday"),
    ("hours:\n  Mon: 09:00-18:00\n", 6, "write weekdays in lower case: 'mon'"),
    ("hours:\n  mon: 9\n", 6, "hours.mon: '9' is not a range"),
    ("hours:\n  mon-sun: closed\n", 5, "every day is closed"),
    ("hours: 09:00-18:00\n", 5, "expected weekdays and their hours"),
    ("hours: {}\n", 5, "expected weekdays and their hours"),
    ("holidays: [2026-01-01, 2026-02-30]\n", 5, "'2026-02-30' is not a date"),
    ("holidays:\n  - 2026-01-08..2026-01-01\n", 6, "ends before it starts"),
    ("holidays: 2026-01-01\n", 5, "holidays: expected a list"),
    (
        "hours:\n  mon: 09:00-18:00\naway:\n  ru: Ждите\n  zh: 请稍候\n",
        9,
        "away.zh: 'zh' is not one of the seller's languages (ru, en)",
    ),
    ("away: Ждите\n", 5, "away: is told to buyers outside hours: add hours"),
    ("sla:\n  clock: office\n", 6, "sla.clock: expected wall (calendar time) or business"),
    ("sla:\n  first_reply: 2h\n  clock: business\n", 7, "sla.clock: business counts only"),
    ("timezone2: x\n", 5, "unknown key"),
]


@pytest.mark.parametrize(("extra", "line", "says"), MISTAKES)
def test_every_mistake_is_named_with_its_line(
    tmp_path: Path, extra: str, line: int, says: str
) -> None:
    _, problems = _load(tmp_path, extra)
    assert any(p.line == line and says in str(p) for p in problems), [str(p) for p in problems]
    assert all(str(p).startswith(str(tmp_path / "seller.yaml")) for p in problems)


def test_an_unknown_time_zone_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "seller.yaml"
    path.write_text(
        "name: Shop\nsupport_chat_id: -1001\nlanguages: [ru]\n"
        "timezone: Europe/Moskow\nhours:\n  mon: 09:00-18:00\n",
        encoding="utf-8",
    )
    _, problems = load_seller_file(path, "shop")
    assert [(p.line, p.key) for p in problems] == [(4, "timezone")]
    assert "unknown time zone 'Europe/Moskow'" in str(problems[0])


def test_a_broken_seller_does_not_load_and_nothing_crashes(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "faq.yaml").write_text("entries: []\n", encoding="utf-8")
    for extra, _, _ in MISTAKES:
        (folder / "seller.yaml").write_text(SELLER + extra, encoding="utf-8")
        with pytest.raises(ContentError):
            load_seller(folder)


# ------------------------------------------------------------------------ the clock


def test_open_and_closed() -> None:
    hours = office()
    assert hours.is_open(moscow(2026, 12, 7, 9, 0))  # Monday, the opening minute
    assert hours.is_open(moscow(2026, 12, 7, 17, 59))
    assert not hours.is_open(moscow(2026, 12, 7, 18, 0))  # closing time is closed
    assert not hours.is_open(moscow(2026, 12, 7, 8, 59))
    assert hours.is_open(moscow(2026, 12, 12, 13, 0))  # Saturday
    assert not hours.is_open(moscow(2026, 12, 13, 12, 0))  # Sunday
    # Any time zone in, the seller's hours apply: 06:30 UTC is 09:30 in Moscow.
    assert hours.is_open(datetime(2026, 12, 7, 6, 30, tzinfo=UTC))


def test_next_open_across_the_weekend() -> None:
    hours = office()
    saturday_evening = moscow(2026, 12, 12, 15, 0)
    back = hours.next_open(saturday_evening)
    assert back == moscow(2026, 12, 14, 9, 0) and back is not None
    assert back.tzinfo is UTC
    assert hours.next_open(moscow(2026, 12, 7, 10, 0)) == moscow(2026, 12, 7, 10, 0)
    assert hours.next_open(moscow(2026, 12, 7, 6, 0)) == moscow(2026, 12, 7, 9, 0)


def test_next_open_across_a_holiday_range() -> None:
    hours = office(holidays=((date(2026, 12, 31), date(2027, 1, 8)),))
    # Wednesday 30 December after work: the holidays run to Friday 8 January.
    assert hours.next_open(moscow(2026, 12, 30, 19, 0)) == moscow(2027, 1, 9, 10, 0)
    assert not hours.is_open(moscow(2027, 1, 4, 12, 0))  # a Monday inside them


def test_a_week_without_hours_ends_at_once() -> None:
    never = WorkingHours(timezone="Europe/Moscow")
    holidays_all_year = office(holidays=((date(2026, 1, 1), date(2030, 1, 1)),))
    started = time.perf_counter()
    assert not never.is_open(moscow(2026, 12, 7, 12, 0))
    assert never.next_open(moscow(2026, 12, 7, 12, 0)) is None
    assert never.working_seconds(moscow(2026, 1, 1), moscow(2027, 1, 1)) == 0.0
    with pytest.raises(ValueError, match="within a year"):
        never.add_working(moscow(2026, 12, 7), H)
    assert holidays_all_year.next_open(moscow(2026, 6, 1)) is None
    with pytest.raises(ValueError, match="within a year"):
        holidays_all_year.add_working(moscow(2026, 6, 1), H)
    assert time.perf_counter() - started < 2


def test_working_seconds_over_nights_and_the_weekend() -> None:
    hours = office()
    friday_17 = moscow(2026, 12, 11, 17, 0)
    monday_10 = moscow(2026, 12, 14, 10, 0)
    # Friday 1 h, Saturday 4 h, Monday 1 h.
    assert hours.working_seconds(friday_17, monday_10) == 6 * 3600
    assert hours.working_seconds(monday_10, friday_17) == 0.0
    night = hours.working_seconds(moscow(2026, 12, 7, 18, 0), moscow(2026, 12, 8, 9, 0))
    assert night == 0.0
    assert hours.working_seconds(moscow(2026, 12, 7, 12, 0), moscow(2026, 12, 7, 12, 30)) == 1800
    # A whole week: five days of nine hours and a Saturday of four.
    week = hours.working_seconds(moscow(2026, 12, 7), moscow(2026, 12, 14))
    assert week == (5 * 9 + 4) * 3600


def test_working_seconds_over_dst_changes() -> None:
    berlin = WorkingHours(week=(((0, DAY_MINUTES),),) * 7, timezone="Europe/Berlin")
    # The last Sunday of March 2026: clocks go from 02:00 to 03:00, a 23-hour day.
    spring = (datetime(2026, 3, 29, tzinfo=BERLIN), datetime(2026, 3, 30, tzinfo=BERLIN))
    assert berlin.working_seconds(*spring) == 23 * 3600
    autumn = (datetime(2026, 10, 25, tzinfo=BERLIN), datetime(2026, 10, 26, tzinfo=BERLIN))
    assert berlin.working_seconds(*autumn) == 25 * 3600
    # Office hours keep their local times on either side of the change.
    office_berlin = WorkingHours(week=(NINE_TO_SIX,) * 7, timezone="Europe/Berlin")
    saturday, monday = datetime(2026, 3, 28, tzinfo=BERLIN), datetime(2026, 3, 30, tzinfo=BERLIN)
    assert office_berlin.working_seconds(saturday, monday) == 2 * 9 * 3600
    assert office_berlin.next_open(datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )  # 09:00 CEST
    assert office_berlin.next_open(datetime(2026, 3, 28, 19, 0, tzinfo=BERLIN)) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )
    assert office_berlin.is_open(datetime(2026, 3, 27, 8, 30, tzinfo=UTC))  # 09:30 CET


def test_add_working() -> None:
    hours = office()
    friday_17 = moscow(2026, 12, 11, 17, 0)
    # 1 h on Friday, 4 h on Saturday, the last 3 h on Monday.
    due = hours.add_working(friday_17, 8 * H)
    assert due == moscow(2026, 12, 14, 12, 0) and due.tzinfo is UTC
    assert hours.working_seconds(friday_17, due) == 8 * 3600
    # From a closed moment, the time starts at the next opening.
    assert hours.add_working(moscow(2026, 12, 13, 12, 0), 2 * H) == moscow(2026, 12, 14, 11, 0)
    # Used up exactly at closing: due at closing, not at the next opening.
    assert hours.add_working(moscow(2026, 12, 7, 9, 0), 9 * H) == moscow(2026, 12, 7, 18, 0)
    assert hours.add_working(friday_17, timedelta(0)) == friday_17
    # Holidays do not count.
    closed_monday = office(holidays=((date(2026, 12, 14), date(2026, 12, 14)),))
    assert closed_monday.add_working(friday_17, 8 * H) == moscow(2026, 12, 15, 12, 0)


def test_a_night_shift_over_midnight_counts_as_one_stretch() -> None:
    night = ((), (), (), (), ((22 * 60, DAY_MINUTES),), ((0, 2 * 60),), ())
    hours = WorkingHours(week=night, timezone="Europe/Moscow")
    assert hours.is_open(moscow(2026, 12, 11, 23, 59))
    assert hours.is_open(moscow(2026, 12, 12, 0, 0))
    assert hours.next_open(moscow(2026, 12, 11, 23, 0)) == moscow(2026, 12, 11, 23, 0)
    assert hours.add_working(moscow(2026, 12, 11, 23, 0), 2 * H) == moscow(2026, 12, 12, 1, 0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        office().is_open(datetime(2026, 12, 7, 12, 0))
