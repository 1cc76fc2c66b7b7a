"""Crash benchmark of long polling: many buyers' updates, the bot process killed with
SIGKILL at random moments, restarted on the same SQLite file; counts what was lost and
what was handled twice.

    python -m bench.crash [--updates 1000] [--kills 5] [--seed 7] [--baseline]

Not part of ``make test`` (``tests/e2e/processes/test_durable_polling.py`` runs a small
version). Each buyer opens the demo shop and asks a question the FAQ answers, so each
update has exactly one visible effect, a message from the bot to that buyer: a missing
one is a lost update, an extra one a doubled update. ``--baseline`` runs the same with
python-telegram-bot's own polling (the runner's ``SELLERDESK_PTB_POLLING=1``), which
confirms a batch before handling it. Loopback only; the Bot API double runs in this
process.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from sellerdesk.storage.db import make_engine, session_factory
from sellerdesk.storage.models import ProcessedUpdate
from testing.botapi import BotApiDouble
from testing.processes import start_crash_runner

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "sellers"
QUESTION = "Сколько идет доставка?"
FIRST_BUYER = 820_000_000
SETTLE_S = 120.0
FAST_PACING_ENV = {
    "TELEGRAM_GLOBAL_RATE": "100000",
    "TELEGRAM_CHAT_RATE": "10000",
    "TELEGRAM_CHAT_BURST": "1000",
    "TELEGRAM_GROUP_RATE": "600000",
    "TELEGRAM_GROUP_BURST": "1000",
}


def _start(api: BotApiDouble, db_url: str, baseline: bool) -> subprocess.Popen[str]:
    env = {**FAST_PACING_ENV, **({"SELLERDESK_PTB_POLLING": "1"} if baseline else {})}
    return start_crash_runner(api.url, api.token, db_url, DEMO, 2.0, env)


def _handled(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0)
    finally:
        engine.dispose()


def run(updates: int, kills: int, seed: int, baseline: bool) -> tuple[int, int, float]:
    """One run; returns (lost, doubled, seconds until every reply arrived or gave up)."""
    rng = random.Random(seed)
    buyers = [FIRST_BUYER + n for n in range(updates // 2)]
    with tempfile.TemporaryDirectory() as tmp, BotApiDouble() as api:
        db_url = f"sqlite:///{Path(tmp) / 'desk.db'}"
        for buyer in buyers:
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        proc = _start(api, db_url, baseline)
        started = time.monotonic()
        try:
            for buyer in buyers:
                api.user_sends_text(buyer, "/start lotus-wear")
                api.user_sends_text(buyer, QUESTION)
            for _ in range(kills):
                time.sleep(rng.uniform(0.05, 1.0))
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                proc = _start(api, db_url, baseline)
            deadline = time.monotonic() + SETTLE_S
            while time.monotonic() < deadline and _handled(db_url) < 2 * len(buyers):
                time.sleep(0.2)
            time.sleep(1.0)
            elapsed = time.monotonic() - started
            replies = [len(api.messages_in(b, from_bot=True)) for b in buyers]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    lost = sum(max(0, 2 - n) for n in replies)
    doubled = sum(max(0, n - 2) for n in replies)
    return lost, doubled, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=1000, help="updates per run (1000)")
    parser.add_argument("--kills", type=int, default=1, help="SIGKILLs per run (1)")
    parser.add_argument("--runs", type=int, default=5, help="runs, each its own seed (5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", action="store_true", help="also PTB's own polling")
    args = parser.parse_args()
    kinds = [("durable polling", False)] + ([("PTB polling", True)] if args.baseline else [])
    print("| polling | run | updates | kills | lost | doubled | seconds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, baseline in kinds:
        for n in range(args.runs):
            lost, doubled, elapsed = run(args.updates, args.kills, args.seed + n, baseline)
            row = f"| {name} | {n + 1} | {args.updates} | {args.kills} | {lost} | {doubled} |"
            print(f"{row} {elapsed:.1f} |", flush=True)


if __name__ == "__main__":
    main()
