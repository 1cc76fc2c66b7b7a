"""Deployment settings kept in the database: made once, then the same for every process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import SETTING_NAME_LEN, DeskSetting
from sellerdesk.storage.repo._sql import insert_ignore
from sellerdesk.storage.types import utcnow


def get_setting(session: Session, name: str) -> str | None:
    """The stored value of ``name``, if any."""
    return session.scalars(select(DeskSetting.value).where(DeskSetting.name == name)).one_or_none()


def get_or_create_setting(
    session: Session, name: str, make: Callable[[], str], now: datetime | None = None
) -> str:
    """The value of ``name``, stored from ``make()`` the first time it is asked for.

    Race-safe: when two processes start together, both may call ``make`` but only one
    value is stored, and both return it.

    Raises:
        ValueError: if ``name`` is longer than its column (names are made by code).
    """
    if len(name) > SETTING_NAME_LEN:
        raise ValueError(f"setting name longer than {SETTING_NAME_LEN} characters: {name!r}")
    existing = get_setting(session, name)
    if existing is not None:
        return existing
    insert_ignore(
        session, DeskSetting, {"name": name, "value": make(), "created_at": now or utcnow()}
    )
    value = get_setting(session, name)
    if value is None:  # cannot happen: inserted now or by the winner of the race
        raise RuntimeError(f"setting {name!r} neither inserted nor found")
    return value
