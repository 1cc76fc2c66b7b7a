"""Long polling killed with SIGKILL at random moments, or with its database gone for a
while: every update is handled once, none lost, none twice.

Each of many buyers opens the shop and asks a question the FAQ answers, so every
update has exactly one visible effect: one message from the bot to that buyer. Lost
updates show as missing replies, doubled ones as extra replies.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from sellerdesk.bot.telegram_io import polling
from sellerdesk.storage.db import make_engine, session_factory
from sellerdesk.storage.models import InboxUpdate, ProcessedUpdate
from sellerdesk.storage.repo import updates
from testing.botapi import BotApiDouble
from testing.postgres import pg_schema
from testing.processes import start_crash_runner
from testing.runner_settings import UNPACED_ENV
from testing.tcp_proxy import TcpProxy
from tests.e2e.harness import DEMO, Desk, run_desk, settings_for

ROOT = Path(__file__).resolve().parents[3]
QUESTION = "Сколько идет доставка?"
BUYERS = 100
FIRST_BUYER = 810_000_000
START_TIMEOUT_S = 30
SETTLE_TIMEOUT_S = 60
LEASE_S = 2.0
OUTAGE_S = 20.0


def _start(api: BotApiDouble, db_url: str) -> subprocess.Popen[str]:
    return start_crash_runner(api.url, api.token, db_url, DEMO, LEASE_S, UNPACED_ENV)


def _count(db_url: str, model: type[ProcessedUpdate] | type[InboxUpdate]) -> int:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.1)


def _replies(api: BotApiDouble, buyers: list[int]) -> dict[int, int]:
    return {b: len(api.messages_in(b, from_bot=True)) for b in buyers}


def test_sigkill_at_random_moments_loses_and_doubles_nothing(
    api: BotApiDouble, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    buyers = [FIRST_BUYER + n for n in range(BUYERS)]
    for buyer in buyers:
        api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
    rng = random.Random(7)
    proc = _start(api, db_url)
    try:
        for buyer in buyers:
            api.user_sends_text(buyer, "/start lotus-wear")
            api.user_sends_text(buyer, QUESTION)
        sent = 2 * BUYERS
        # Two kills at random moments while the burst is being handled.
        for _ in range(2):
            time.sleep(rng.uniform(0.05, 0.6))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            proc = _start(api, db_url)
        _wait(lambda: _count(db_url, ProcessedUpdate) >= sent, SETTLE_TIMEOUT_S, "handled")
        _wait(lambda: min(_replies(api, buyers).values()) >= 2, SETTLE_TIMEOUT_S, "replies")
        _wait(lambda: _count(db_url, InboxUpdate) == 0, SETTLE_TIMEOUT_S, "inbox emptied")
        time.sleep(1.0)  # anything doubled would have arrived by now
        replies = _replies(api, buyers)
        assert _count(db_url, ProcessedUpdate) == sent
        assert sorted(set(replies.values())) == [2], {b: n for b, n in replies.items() if n != 2}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_updates_wait_while_the_database_cannot_store_them(
    api: BotApiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inbox refuses writes for a while (an outage, a full disk): the batch is not
    confirmed to Telegram, and once the database is back every message is answered once."""
    monkeypatch.setattr(polling, "FIRST_PAUSE_S", 0.05)
    real_store = updates.store_fetched
    refusals = {"left": 4}

    def failing_store(*args: Any, **kwargs: Any) -> int:
        if refusals["left"] > 0:
            refusals["left"] -= 1
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))
        return real_store(*args, **kwargs)

    monkeypatch.setattr(updates, "store_fetched", failing_store)

    async def scenario(desk: Desk) -> None:
        greeting = desk.buyer_says("/start lotus-wear")
        question = desk.buyer_says(QUESTION)
        replies = await desk.buyer_gets(count=2)
        assert greeting.message_id < question.message_id
        assert refusals["left"] == 0
        await asyncio.sleep(0.5)
        assert len(desk.buyer_messages()) == 2 and replies is not None

    run_desk(api, settings_for(api, tmp_path), scenario)


def test_a_postgresql_outage_delays_updates_and_loses_none(api: BotApiDouble) -> None:
    """The real server behind a proxy that is cut for a while (every connection closed,
    new ones refused) while buyers write: once it is back each message is answered once."""
    buyers = [FIRST_BUYER + 500 + n for n in range(40)]
    for buyer in buyers:
        api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
    with pg_schema("sdoutage") as url, TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        db_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        proc = _start(api, db_url)
        try:
            for buyer in buyers:
                api.user_sends_text(buyer, "/start lotus-wear")
            _wait(lambda: min(_replies(api, buyers).values()) >= 1, SETTLE_TIMEOUT_S, "greetings")
            proxy.cut()
            for buyer in buyers:
                api.user_sends_text(buyer, QUESTION)
            # Longer than the desk's own tries of an update (about 15 s).
            time.sleep(OUTAGE_S)
            # Nothing could be stored, so nothing was answered or confirmed meanwhile.
            assert max(_replies(api, buyers).values()) == 1
            assert proxy.refused > 0
            proxy.restore()
            _wait(lambda: min(_replies(api, buyers).values()) >= 2, SETTLE_TIMEOUT_S, "answers")
            _wait(lambda: _count(db_url, InboxUpdate) == 0, SETTLE_TIMEOUT_S, "inbox emptied")
            time.sleep(1.0)  # anything doubled would have arrived by now
            replies = _replies(api, buyers)
            wrong = {b: n for b, n in replies.items() if n != 2}
            assert not wrong
            assert _count(db_url, ProcessedUpdate) == 2 * len(buyers)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
