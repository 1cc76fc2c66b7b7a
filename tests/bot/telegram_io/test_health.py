"""The health report: reachability, and how delivery keeps up."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import cast

from telegram import Bot

from sellerdesk.bot.database import Database
from sellerdesk.bot.telegram_io.health import health_report
from sellerdesk.storage.models import OutboxKind
from sellerdesk.storage.repo import outbox, senders
from sellerdesk.storage.types import utcnow


class Reachable:
    async def get_me(self) -> SimpleNamespace:
        return SimpleNamespace(username="desk_bot")


def test_the_report_says_how_far_behind_delivery_is() -> None:
    db = Database("sqlite://")
    db.prepare()
    now = utcnow()
    with db.transaction() as session:
        for minutes, chat in ((3, -100), (1, -101), (-5, -102)):  # the last not due yet
            outbox.enqueue(
                session,
                kind=OutboxKind.SEND_TEXT,
                chat_id=chat,
                payload={"text": "x"},
                not_before=now - timedelta(minutes=minutes),
                now=now,
            )
        senders.beat(session, "host:1", timedelta(seconds=15), now=now)
        senders.beat(session, "host:2", timedelta(seconds=15), now=now)
    status, body = asyncio.run(health_report(db, cast(Bot, Reachable())))
    assert status == 200 and body["ok"]
    delivery = body["database"]["delivery"]
    assert delivery["unsent_due"] == 2
    assert 180 <= delivery["oldest_due_seconds"] < 240
    assert delivery["senders"] == 2
    db.dispose()


def test_an_empty_outbox_reports_nothing_due() -> None:
    db = Database("sqlite://")
    db.prepare()
    status, body = asyncio.run(health_report(db, cast(Bot, Reachable())))
    assert status == 200
    assert body["database"] == {
        "ok": True,
        "delivery": {"unsent_due": 0, "oldest_due_seconds": None, "senders": 0},
    }
    assert body["telegram"] == {"ok": True, "username": "desk_bot"}
    db.dispose()
