"""Working hours of a seller's staff (seller.yaml ``hours`` and ``holidays``): when they
are at work, and time counted only while they are.

Pure: no files, Telegram or database. :class:`WorkingHours` answers in UTC-aware
datetimes and computes in the seller's time zone (zoneinfo), so a day keeps its local
hours over a DST change: 09:00-18:00 is nine working hours on the Sunday clocks go
forward too, and a day open around the clock has 23 hours that Sunday.

The text formats (docs/content-format.md, "Working hours"):

- a day key: ``mon`` .. ``sun``, or a range ``mon-fri``; a range may wrap over the
  week's end (``fri-mon`` is fri, sat, sun, mon);
- a day value: ``HH:MM-HH:MM``, several separated by commas
  (``09:00-13:00, 14:00-18:00``), or ``closed``; ``24:00`` is allowed as an end.
  A range ends after it starts on the same day: a night shift is written as two days
  (``fri: 22:00-24:00`` and ``sat: 00:00-02:00``), which count as one stretch;
- a holiday: an ISO date ``2026-03-08`` or an inclusive range
  ``2026-01-01..2026-01-08``, in the seller's time zone: closed all day.

The parse functions raise :class:`HoursError` with a message for the file's reader;
the seller file adds the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

#: Weekday keys, Monday first (``datetime.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The value of a day staff do not work.
CLOSED = "closed"
#: Minutes in a day: ``24:00`` as an end.
DAY_MINUTES = 24 * 60
#: How far ahead :meth:`WorkingHours.next_open` and :meth:`WorkingHours.add_working`
#: look, in days: a year (holidays may close a few weeks; nothing closes longer).
MAX_SEARCH_DAYS = 366

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Minutes from local midnight: (start, end), end > start, end at most 24:00.
Span = tuple[int, int]


class HoursError(ValueError):
    """A value of ``hours`` or ``holidays`` that cannot be read; the message says why."""


# ---------------------------------------------------------------------------- parsing


def parse_days(key: str) -> tuple[int, ...]:
    """The weekdays (0 = Monday) a day key names: ``wed`` or ``mon-fri``; a range
    wraps over the week's end (``sat-mon``: 5, 6, 0)."""
    parts = key.split("-")
    if len(parts) <= 2 and all(p.lower() in WEEKDAYS for p in parts) and key != key.lower():
        raise HoursError(f"write weekdays in lower case: {key.lower()!r}, not {key!r}")
    if len(parts) > 2 or any(p not in WEEKDAYS for p in parts):
        raise HoursError(
            f"{key!r} is not a weekday: use mon, tue, wed, thu, fri, sat, sun, "
            "or a range such as mon-fri"
        )
    first = WEEKDAYS.index(parts[0])
    last = WEEKDAYS.index(parts[-1])
    count = (last - first) % 7 + 1
    return tuple((first + i) % 7 for i in range(count))


def _minutes(value: str, *, end: bool) -> int:
    match = _TIME.match(value.strip())
    if not match:
        raise HoursError(f"{value.strip()!r} is not a time: write HH:MM, such as 09:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        if not end:
            raise HoursError("24:00 can only end a range (a day starts at 00:00)")
        return DAY_MINUTES
    if hour > 23 or minute > 59:
        raise HoursError(f"{value.strip()!r} is not a time of day: 00:00 to 23:59, or 24:00")
    return hour * 60 + minute


def format_minutes(value: int) -> str:
    """``540`` -> ``09:00``."""
    return f"{value // 60:02d}:{value % 60:02d}"


def parse_spans(value: str) -> tuple[Span, ...]:
    """A day's value: ``closed`` -> (); ``09:00-13:00, 14:00-18:00`` -> the ranges in
    minutes, sorted. Ranges of one value may touch but not overlap."""
    text = value.strip()
    if text == CLOSED:
        return ()
    spans: list[Span] = []
    for part in text.split(","):
        pieces = part.split("-")
        if len(pieces) != 2:
            raise HoursError(
                f"{part.strip()!r} is not a range: write HH:MM-HH:MM (09:00-18:00), "
                "several separated by commas, or closed"
            )
        start, end = _minutes(pieces[0], end=False), _minutes(pieces[1], end=True)
        if end <= start:
            raise HoursError(
                f"{part.strip()!r} ends before it starts: a range ends the same day "
                "(24:00 at the latest); split a night shift over two days "
                "(22:00-24:00, then 00:00-02:00 the next day)"
            )
        spans.append((start, end))
    spans.sort()
    clash = overlap(spans)
    if clash is not None:
        raise HoursError(f"{span_text(clash[0])} and {span_text(clash[1])} overlap")
    return tuple(spans)


def overlap(spans: list[Span]) -> tuple[Span, Span] | None:
    """Two of ``spans`` (sorted) that overlap, None when none do (touching is fine)."""
    for before, after in pairwise(spans):
        if after[0] < before[1]:
            return before, after
    return None


def span_text(span: Span) -> str:
    return f"{format_minutes(span[0])}-{format_minutes(span[1])}"


def _date(value: str) -> date:
    text = value.strip()
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise HoursError(
            f"{text!r} is not a date: write YYYY-MM-DD (2026-03-08), or a range "
            "2026-01-01..2026-01-08"
        ) from None


def parse_holiday(value: str) -> tuple[date, date]:
    """``2026-03-08`` or ``2026-01-01..2026-01-08`` (inclusive) -> (first, last)."""
    if ".." in value:
        first_text, last_text = value.split("..", 1)
        first, last = _date(first_text), _date(last_text)
        if last < first:
            raise HoursError(f"{value.strip()!r} ends before it starts")
        return first, last
    day = _date(value)
    return day, day


# ------------------------------------------------------------------------------ model


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: working hours need timezone-aware values")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class WorkingHours:
    """When a seller's staff are at work: weekly hours in ``timezone``, minus holidays.

    Every method takes timezone-aware datetimes and returns UTC-aware ones.
    """

    #: Open ranges per weekday, Monday first, in minutes from local midnight.
    week: tuple[tuple[Span, ...], ...] = ((),) * 7
    #: IANA time zone the hours and holidays are in.
    timezone: str = "UTC"
    #: Closed days: inclusive (first, last) local dates.
    holidays: tuple[tuple[date, date], ...] = ()

    @classmethod
    def around_the_clock(
        cls, timezone: str = "UTC", holidays: tuple[tuple[date, date], ...] = ()
    ) -> WorkingHours:
        """Open all day every day but ``holidays`` (``holidays`` given without ``hours``)."""
        return cls(week=(((0, DAY_MINUTES),),) * 7, timezone=timezone, holidays=holidays)

    @property
    def has_hours(self) -> bool:
        """Whether any weekday has open time (else the shop is never open)."""
        return any(self.week)

    def is_holiday(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.holidays)

    def spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open stretches of the local date ``day``, in UTC, in order."""
        if self.is_holiday(day):
            return []
        zone = ZoneInfo(self.timezone)
        midnight = datetime.combine(day, time())
        spans = []
        for start, end in self.week[day.weekday()]:
            # Local wall times, as zoneinfo reads them (fold 0 where DST skips or
            # repeats an hour); a range that DST leaves empty counts as nothing.
            first = (midnight + timedelta(minutes=start)).replace(tzinfo=zone).astimezone(UTC)
            last = (midnight + timedelta(minutes=end)).replace(tzinfo=zone).astimezone(UTC)
            if last > first:
                spans.append((first, last))
        return spans

    def _days_from(self, at: datetime, days: int) -> Iterator[tuple[datetime, datetime]]:
        """Open stretches from the local day before ``at`` on, ``days`` days at most."""
        day = at.astimezone(ZoneInfo(self.timezone)).date() - timedelta(days=1)
        for offset in range(days + 1):
            yield from self.spans_on(day + timedelta(days=offset))

    def is_open(self, at: datetime) -> bool:
        """Whether staff are at work at ``at`` (a range's end is already closed)."""
        moment = _utc(at)
        return any(first <= moment < last for first, last in self._days_from(moment, 1))

    def next_open(self, at: datetime) -> datetime | None:
        """The first moment at or after ``at`` staff are at work (``at`` itself when
        open); None when no day of the next year is open."""
        moment = _utc(at)
        if not self.has_hours:
            return None
        for first, last in self._days_from(moment, MAX_SEARCH_DAYS + 1):
            if last > moment:
                return max(first, moment)
        return None

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds between ``start`` and ``end`` during which staff were at work
        (0 when ``end`` is not after ``start``)."""
        begin, finish = _utc(start), _utc(end)
        if finish <= begin or not self.has_hours:
            return 0.0
        zone = ZoneInfo(self.timezone)
        days = (finish.astimezone(zone).date() - begin.astimezone(zone).date()).days + 1
        total = 0.0
        for first, last in self._days_from(begin, days):
            if first >= finish:
                break
            seconds = (min(last, finish) - max(first, begin)).total_seconds()
            if seconds > 0:
                total += seconds
        return total

    def add_working(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of working time has passed after ``start`` (``start``
        itself for nothing or less). Ends at a closing time rather than the next
        opening when the amount runs out exactly then.

        Raises:
            ValueError: ``amount`` is not used up within a year of ``start`` (no open
                day, holidays all year, or more than a year's working time).
        """
        moment = _utc(start)
        left = amount
        if left <= timedelta(0):
            return moment
        if self.has_hours:
            for first, last in self._days_from(moment, MAX_SEARCH_DAYS + 1):
                if last <= moment:
                    continue
                begin = max(first, moment)
                if begin + left <= last:
                    return begin + left
                left -= last - begin
        raise ValueError(f"{amount} of working time does not pass within a year")
