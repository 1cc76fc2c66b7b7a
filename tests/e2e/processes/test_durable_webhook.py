"""Webhook mode killed with SIGKILL at random moments, or with its PostgreSQL database
gone for a while: Telegram posts each update again until it is answered 200, and every
update is handled once, none lost, none twice.

Each buyer opens the shop and asks a question the FAQ answers: every update has exactly
one visible effect, a message from the bot to that buyer.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from testing.botapi import BotApiDouble
from testing.botapi.webhook import ChatOrderedDelivery
from testing.postgres import pg_schema
from testing.processes import free_port, start_webhook_process
from testing.runner_settings import webhook_env
from testing.tcp_proxy import TcpProxy
from tests.e2e.harness import DEMO

QUESTION = "Сколько идет доставка?"
SECRET = "durable-webhook-Secret-0123456789abcdef"
PATH = "/telegram"
FIRST_BUYER = 830_000_000
SETTLE_TIMEOUT_S = 60
OUTAGE_S = 20.0
FAST_PACING_ENV = {
    "TELEGRAM_GLOBAL_RATE": "100000",
    "TELEGRAM_CHAT_RATE": "10000",
    "TELEGRAM_CHAT_BURST": "1000",
    "TELEGRAM_GROUP_RATE": "600000",
    "TELEGRAM_GROUP_BURST": "1000",
}


class WebhookBot:
    """A ``sellerdesk run --webhook`` process that can be killed and started again on
    the same ports and database."""

    def __init__(self, api: BotApiDouble, db_url: str) -> None:
        self.port, self.health_port = free_port(), free_port()
        self.settings = {
            **webhook_env(
                api.url, api.token, db_url, DEMO, self.port, self.health_port, SECRET, PATH
            ),
            "MATCHER": "fuzzy",
            "SECRET_KEY": "durable-webhook-key",
            # Rows a killed process had claimed are sent again after this (default 60 s).
            "OUTBOX_LEASE_SECONDS": "2",
        }
        self.url = f"http://127.0.0.1:{self.port}{PATH}"
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return start_webhook_process(self.settings, self.port, self.health_port, FAST_PACING_ENV)

    def kill_and_restart(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = self._start()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def _desk(api: BotApiDouble, db_url: str) -> Iterator[tuple[WebhookBot, ChatOrderedDelivery]]:
    bot = WebhookBot(api, db_url)
    delivery = ChatOrderedDelivery(api, bot.url, SECRET, give_up_s=SETTLE_TIMEOUT_S)
    try:
        yield bot, delivery
    finally:
        given_up = delivery.close()
        bot.stop()
    assert given_up == 0


def _buyers(api: BotApiDouble, first: int, count: int) -> list[int]:
    buyers = [first + n for n in range(count)]
    for buyer in buyers:
        api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
    return buyers


def _send(api: BotApiDouble, delivery: ChatOrderedDelivery, buyer: int, text: str) -> None:
    message = api.user_sends_text(buyer, text)
    assert message.update_id is not None
    delivery.add(buyer, message.update_id)


def _replies(api: BotApiDouble, buyers: list[int]) -> dict[int, int]:
    return {b: len(api.messages_in(b, from_bot=True)) for b in buyers}


def _wait(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.1)


def _assert_each_answered_once(api: BotApiDouble, buyers: list[int]) -> None:
    _wait(lambda: min(_replies(api, buyers).values()) >= 2, "answers")
    time.sleep(1.0)  # anything doubled would have arrived by now
    replies = _replies(api, buyers)
    assert sorted(set(replies.values())) == [2], {b: n for b, n in replies.items() if n != 2}


def test_webhook_killed_at_random_moments_loses_and_doubles_nothing(
    api: BotApiDouble, tmp_path: Path
) -> None:
    buyers = _buyers(api, FIRST_BUYER, 60)
    rng = random.Random(11)
    with _desk(api, f"sqlite:///{tmp_path / 'desk.db'}") as (bot, delivery):
        for buyer in buyers:
            _send(api, delivery, buyer, "/start lotus-wear")
            _send(api, delivery, buyer, QUESTION)
        for _ in range(2):
            time.sleep(rng.uniform(0.05, 0.6))
            bot.kill_and_restart()
        _assert_each_answered_once(api, buyers)
        assert delivery.retries > 0  # the kills were felt: some POSTs went unanswered


def test_webhook_across_a_postgresql_outage_loses_and_doubles_nothing(api: BotApiDouble) -> None:
    buyers = _buyers(api, FIRST_BUYER + 1_000, 30)
    with (
        pg_schema("sdwhoutage") as url,
        TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy,
    ):
        db_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        with _desk(api, db_url) as (_bot, delivery):
            for buyer in buyers:
                _send(api, delivery, buyer, "/start lotus-wear")
            _wait(lambda: min(_replies(api, buyers).values()) >= 1, "greetings")
            proxy.cut()
            for buyer in buyers:
                _send(api, delivery, buyer, QUESTION)
            # Longer than the desk's own tries of an update (about 15 s): the POSTs
            # held meanwhile are answered 503 and Telegram posts them again.
            time.sleep(OUTAGE_S)
            assert max(_replies(api, buyers).values()) == 1  # nothing could be handled
            proxy.restore()
            _assert_each_answered_once(api, buyers)
            assert delivery.retries > 0
