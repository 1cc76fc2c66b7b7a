"""The health endpoint: is this process able to serve? Database and Telegram, as JSON.

A separate tiny HTTP server (stdlib asyncio, no framework) rather than a route in
PTB's webhook server: that server belongs to PTB and answers only its own path, and
a health check must work the same in polling mode. ``GET /health`` answers 200 when
both checks pass and 503 otherwise, so nginx, systemd watchdogs or a load balancer
can take a process out of rotation without parsing anything.

With the database reachable, the body also says how delivery keeps up, for
monitoring rather than rotation (a backlog is shared by every process, so taking
this one out would not help): messages due and not sent yet, how long the oldest of
them has been due, and how many senders (processes) share Telegram's limits.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

from telegram import Bot

from sellerdesk.bot.database import Database
from sellerdesk.bot.telegram_io.outbox import HEARTBEAT_LIVE_S
from sellerdesk.storage.db import ping
from sellerdesk.storage.repo import outbox, senders, updates
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: Seconds each check may take: a health probe must answer quickly even when the
#: database or Telegram hangs, or the prober gives up and learns nothing.
CHECK_TIMEOUT_S = 5.0
#: Bytes of request head read at most; anything longer is not a health probe.
MAX_REQUEST_BYTES = 8192
#: A report is reused this long: probes more often (a flood) cost no query and no
#: Telegram call, and never slow the desk down.
CACHE_S = 2.0
#: Connections served at once; more are closed unanswered.
MAX_CONNECTIONS = 32


async def _check_database(db: Database) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with db.transaction() as session:
            ping(session)
            now = utcnow()
            due, oldest = outbox.backlog(session, now)
            running = senders.count_live(session, timedelta(seconds=HEARTBEAT_LIVE_S), now)
            waiting = updates.waiting_count(session)
            parked = updates.parked_count(session)
        return {
            "delivery": {
                "unsent_due": due,
                "oldest_due_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
                "senders": running,
            },
            # Polled updates stored and not handled yet; parked: handling kept failing.
            "inbox": {"waiting": waiting, "parked": parked},
        }

    try:
        figures = await asyncio.wait_for(db.run(work), CHECK_TIMEOUT_S)
    except Exception as error:  # any failure means "not reachable"; say which kind
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, **figures}


async def _check_telegram(bot: Bot) -> dict[str, Any]:
    try:
        me = await asyncio.wait_for(bot.get_me(), CHECK_TIMEOUT_S)
    except Exception as error:  # the error text could contain the URL, hence the token
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "username": me.username}


async def health_report(db: Database, bot: Bot) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of one health check (both checks run at once)."""
    database, telegram = await asyncio.gather(_check_database(db), _check_telegram(bot))
    ok = bool(database["ok"] and telegram["ok"])
    return (200 if ok else 503), {"ok": ok, "database": database, "telegram": telegram}


class HealthServer:
    """Serves ``GET /health`` on ``host:port`` until :meth:`stop`.

    Each connection is a bare protocol (no stream objects, no task while the report is
    fresh): the answer's bytes are built once per report and written as they are, so a
    flood of probes costs the event loop, which also serves buyers, as little as it can.
    """

    def __init__(self, db: Database, bot: Bot, host: str, port: int) -> None:
        self.db = db
        self.bot = bot
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._lock = asyncio.Lock()
        self._cached: tuple[float, int, dict[str, Any]] | None = None
        #: The last report as a whole HTTP answer, and when it was made.
        self._answer: tuple[float, bytes] | None = None
        self._open = 0

    async def report(self) -> tuple[int, dict[str, Any]]:
        """The last report if it is fresh, else a new one (one at a time)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            if self._cached is not None and loop.time() - self._cached[0] < CACHE_S:
                return self._cached[1], self._cached[2]
            status, body = await health_report(self.db, self.bot)
            self._cached = (loop.time(), status, body)
            self._answer = (loop.time(), _http(status, body))
            return status, body

    def fresh_answer(self) -> bytes | None:
        """The last report's HTTP answer while it is fresh."""
        if self._answer is None:
            return None
        made, answer = self._answer
        return answer if asyncio.get_running_loop().time() - made < CACHE_S else None

    async def answer(self) -> bytes:
        await self.report()
        assert self._answer is not None
        return self._answer[1]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Probe(self), self.host, self.port)
        log.info("health endpoint on http://%s:%d/health", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


NOT_FOUND = {"error": "not found; try GET /health"}


def _http(status: int, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


class _Probe(asyncio.Protocol):
    """One connection: read the request head, answer, close. Over the connection cap,
    closed at once; a head that does not arrive in ``CHECK_TIMEOUT_S``, or is longer
    than ``MAX_REQUEST_BYTES``, gets nothing."""

    def __init__(self, server: HealthServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.timer: asyncio.TimerHandle | None = None
        self.counted = False
        self.answered = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if self.server._open >= MAX_CONNECTIONS:
            transport.close()
            return
        self.server._open += 1
        self.counted = True
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(CHECK_TIMEOUT_S, transport.close)

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.answered:
            return
        self.head += data
        if b"\r\n\r\n" not in self.head:
            if len(self.head) > MAX_REQUEST_BYTES:
                self.transport.close()
            return
        parts = self.head[:MAX_REQUEST_BYTES].split(b"\r\n", 1)[0].split()
        self.answered = True  # later bytes are ignored
        if not (len(parts) >= 2 and parts[0] == b"GET" and parts[1].split(b"?")[0] == b"/health"):
            self._send(_http(404, NOT_FOUND))
        elif (answer := self.server.fresh_answer()) is not None:
            self._send(answer)
        else:
            task = asyncio.get_running_loop().create_task(self.server.answer())
            task.add_done_callback(self._answered)

    def _answered(self, task: asyncio.Task[bytes]) -> None:
        if not task.cancelled() and task.exception() is None:
            self._send(task.result())
        elif self.transport is not None:
            self.transport.close()

    def _send(self, answer: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.counted:
            self.counted = False
            self.server._open -= 1
