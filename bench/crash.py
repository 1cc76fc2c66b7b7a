"""Crash benchmark: many buyers' updates while the bot process is killed with SIGKILL at
random moments and restarted, or while its PostgreSQL database is gone for a while;
counts what was lost and what was handled twice.

    python -m bench.crash [--updates 1000] [--kills 1] [--runs 5] [--seed 7] [--baseline]
                          [--mode polling|webhook|both] [--postgres] [--outage SECONDS]

Not part of ``make test`` (``tests/e2e/processes/test_durable_polling.py`` and
``test_durable_webhook.py`` run small versions). Each buyer opens the demo shop and
asks a question the FAQ answers, so each update has exactly one visible effect, a
message from the bot to that buyer: a missing one is a lost update, an extra one a
doubled update.

Polling: the bot process (``testing.crash_runner``) fetches updates itself.
Webhook: a ``sellerdesk run --webhook`` process, and Telegram's part played here: each
chat's updates POSTed in order, chats at once over 40 connections, an update posted
again after growing pauses until it is answered 200 (``ChatOrderedDelivery``).
``--baseline`` adds python-telegram-bot's own polling (the runner's
``SELLERDESK_PTB_POLLING=1``), which confirms a batch before handling it.

``--outage S`` (with ``--postgres``): the database is reached through a TCP proxy on
loopback that is cut for S seconds (every connection closed, new ones refused) at a
random moment in the first second of the burst; ``--kills 0`` for an outage alone.
PostgreSQL is ``SELLERDESK_TEST_PG_URL`` (a throwaway schema per run). Loopback only;
the Bot API double runs in this process.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from testing.botapi import BotApiDouble
from testing.postgres import pg_schema
from testing.processes import RestartableBot
from testing.runner_settings import UNPACED_ENV
from testing.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "sellers"
QUESTION = "Сколько идет доставка?"
FIRST_BUYER = 820_000_000
SETTLE_S = 120.0
LEASE_S = 2.0


@contextmanager
def _database(postgres: bool, outage: bool) -> Iterator[tuple[str, TcpProxy | None]]:
    """A database URL for one run (a SQLite file or a throwaway PostgreSQL schema),
    and the proxy in front of PostgreSQL when an outage is wanted."""
    with ExitStack() as stack:
        if not postgres:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            yield f"sqlite:///{Path(folder) / 'desk.db'}", None
            return
        url = stack.enter_context(pg_schema("sdcrash"))
        if not outage:
            yield url.render_as_string(hide_password=False), None
            return
        proxy = stack.enter_context(TcpProxy(url.host or "127.0.0.1", url.port or 5432))
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        yield proxied.render_as_string(hide_password=False), proxy


def run(
    kind: str, updates: int, kills: int, seed: int, postgres: bool, outage_s: float
) -> tuple[int, int, float]:
    """One run; returns (lost, doubled, seconds until every reply arrived or gave up)."""
    rng = random.Random(seed)
    buyers = [FIRST_BUYER + n for n in range(updates // 2)]
    with BotApiDouble() as api, _database(postgres, outage_s > 0) as (db_url, proxy):
        for buyer in buyers:
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        bot = RestartableBot(
            api, db_url, DEMO, kind, lease_s=LEASE_S, env=UNPACED_ENV, give_up_s=SETTLE_S
        )
        started = time.monotonic()
        outage: threading.Thread | None = None
        try:
            if proxy is not None:
                outage = threading.Thread(target=_cut, args=(proxy, rng.uniform(0, 1), outage_s))
                outage.start()
            for buyer in buyers:
                bot.send(buyer, "/start lotus-wear")
                bot.send(buyer, QUESTION)
            for _ in range(kills):
                time.sleep(rng.uniform(0.05, 1.0))
                bot.kill_and_restart()
            if outage is not None:
                outage.join()
            _until(lambda: min(_replies(api, buyers)) >= 2, SETTLE_S)
            time.sleep(1.0)
            elapsed = time.monotonic() - started
            replies = _replies(api, buyers)
        finally:
            bot.stop()
    lost = sum(max(0, 2 - n) for n in replies)
    doubled = sum(max(0, n - 2) for n in replies)
    return lost, doubled, elapsed


def _cut(proxy: TcpProxy, after_s: float, for_s: float) -> None:
    time.sleep(after_s)
    proxy.cut()
    time.sleep(for_s)
    proxy.restore()


def _replies(api: BotApiDouble, buyers: list[int]) -> list[int]:
    return [len(api.messages_in(b, from_bot=True)) for b in buyers]


def _until(done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done():
        time.sleep(0.2)


KINDS = {"polling": "durable polling", "webhook": "webhook", "ptb": "PTB polling (baseline)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=1000, help="updates per run (1000)")
    parser.add_argument("--kills", type=int, default=1, help="SIGKILLs per run (1)")
    parser.add_argument("--runs", type=int, default=5, help="runs, each its own seed (5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mode", choices=("polling", "webhook", "both"), default="polling")
    parser.add_argument("--baseline", action="store_true", help="also PTB's own polling")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--outage", type=float, default=0.0, help="seconds the database is cut (--postgres)"
    )
    args = parser.parse_args()
    if args.outage and not args.postgres:
        parser.error("--outage needs --postgres")
    kinds = ["polling", "webhook"] if args.mode == "both" else [args.mode]
    kinds += ["ptb"] if args.baseline else []
    database = "PostgreSQL" if args.postgres else "SQLite"
    print("| bot | database | run | updates | kills | outage s | lost | doubled | seconds |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind in kinds:
        for n in range(args.runs):
            lost, doubled, elapsed = run(
                kind, args.updates, args.kills, args.seed + n, args.postgres, args.outage
            )
            given_up = " (gave up waiting)" if elapsed >= SETTLE_S else ""
            print(
                f"| {KINDS[kind]} | {database} | {n + 1} | {args.updates} | {args.kills} "
                f"| {args.outage:.0f} | {lost} | {doubled} | {elapsed:.1f}{given_up} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
