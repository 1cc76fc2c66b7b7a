"""Small builders for test data, so each test states only what it is about."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from sellerdesk.storage.models import Buyer, Case
from sellerdesk.storage.repo import buyers, cases

#: A fixed "now" for tests; deliberately not midnight so day grouping is exercised.
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def buyer(session: Session, telegram_id: int = 1001, now: datetime = T0) -> Buyer:
    return buyers.get_or_create_buyer(session, telegram_id, first_name="Ann", now=now)


def case(
    session: Session,
    telegram_id: int = 1001,
    seller_id: str = "shop",
    now: datetime = T0,
    subject: str | None = "Where is my order?",
) -> Case:
    owner = buyer(session, telegram_id, now)
    opened, _created = cases.open_case(
        session, buyer_id=owner.id, seller_id=seller_id, subject=subject, now=now
    )
    return opened


def run_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` on ``count`` threads started together; re-raise the first error."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
