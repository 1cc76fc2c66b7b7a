"""The health report: reachability, and how delivery keeps up."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import cast

from telegram import Bot

from sellerdesk.bot.database import Database
from sellerdesk.bot.telegram_io.health import MAX_CONNECTIONS, HealthServer, health_report
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
        "inbox": {"waiting": 0, "parked": 0},
    }
    assert body["telegram"] == {"ok": True, "username": "desk_bot"}
    db.dispose()


class Counting(Reachable):
    def __init__(self) -> None:
        self.calls = 0

    async def get_me(self) -> SimpleNamespace:
        self.calls += 1
        await asyncio.sleep(0.05)
        return await super().get_me()


def test_a_flood_of_probes_costs_one_check_and_idle_connections_are_capped() -> None:
    db = Database("sqlite://")
    db.prepare()
    bot = Counting()

    async def probe(port: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return answer

    async def main() -> None:
        server = HealthServer(db, cast(Bot, bot), "127.0.0.1", 0)
        await server.start()
        assert server._server is not None
        port = server._server.sockets[0].getsockname()[1]
        try:
            answers = []
            for _ in range(5):  # waves within the connection cap
                answers += await asyncio.gather(*(probe(port) for _ in range(MAX_CONNECTIONS)))
            assert all(a.startswith(b"HTTP/1.1 200") for a in answers)
            assert bot.calls == 1
            # Idle connections beyond the cap are closed at once, unanswered.
            idle = [
                await asyncio.open_connection("127.0.0.1", port) for _ in range(MAX_CONNECTIONS)
            ]
            reader, _ = await asyncio.open_connection("127.0.0.1", port)
            assert await asyncio.wait_for(reader.read(), 2) == b""
            for _, writer in idle:
                writer.close()
                await writer.wait_closed()
            await asyncio.sleep(0.1)
        finally:
            await server.stop()

    asyncio.run(main())
    db.dispose()
