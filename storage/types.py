"""Column types shared by the models: one datetime type that behaves the same on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC: the only kind of datetime the storage accepts."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC on SQLite and PostgreSQL alike.

    PostgreSQL keeps ``timestamptz`` natively, but SQLite stores text and drops the
    offset, so a value written in one zone and compared in another would sort wrong.
    Every value is therefore converted to UTC on the way in (naive values are refused:
    they are nearly always a bug, and guessing their zone hides it) and comes back
    tz-aware UTC on both backends.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: storage needs timezone-aware values")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite compares datetimes as text: a single fixed zone and no offset
            # suffix keep text order equal to time order.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
