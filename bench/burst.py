"""Burst benchmark: buyers writing short lines in quick succession, under Telegram's
limits; with folding (the desk) and without (baseline).

    python -m bench.burst [--buyers 5] [--lines 10] [--spread 3] [--no-baseline]
    python -m bench.burst --new-cases [--buyers 20] [--lines 3] [--spread 60]
    python -m bench.burst --flood 1000 [--flood-rate 100] [--no-baseline]

``--new-cases``: every buyer starts without a case; the first line opens it (the card
carries it) and the rest follow within ``--spread`` seconds, buyers starting at random
moments of it. Run with one staff group and with two (seller.yaml ``support_chats``,
cases shared by load), each with and without folding: the table has the four side by
side, sends counting topics, cards, copies and folded messages.

Not part of ``make test`` (``tests/e2e/conversations/test_telegram_limits.py`` runs one
burst). The bot runs as its own process (``testing.crash_runner``: polling, SQLite, the
demo seller) with Telegram's pacing; the Bot API double answers 429 over 20 messages a
minute into a group, 4 a second into a chat and 30 a second for the bot (the table
counts them). First every buyer opens a case (not measured); then each writes
``--lines`` short lines within ``--spread`` seconds, all at once. For each line: the
time from the buyer's message to the moment it shows in the staff group (as a copy, or
as a line of a folded message). "sends" counts messages into the group for the bursts.
The baseline (``SELLERDESK_NO_FOLDING=1``) copies every line on its own, as the desk
did before folding. Loopback only.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.load import Recorder
from testing.botapi import BotApiDouble
from testing.processes import start_crash_runner

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "sellers"
SUPPORT = -1001000000001
STAFF = 700000101
ADMIN_CHAT = -1009000000009
CASE_QUESTION = "Вы можете сшить платье по моим меркам?"
FIRST_BUYER = 850_000_000
SETTLE_S = 600.0
#: The second staff group of the --new-cases runs with two groups.
SECOND_GROUP = -1001000000002


def _line(buyer: int, n: int) -> str:
    return f"и ещё {buyer % 1000}-{n}"


def _in_parallel(write: Callable[[int, int], None], buyers: list[int]) -> None:
    """``write(buyer, n)`` for every buyer at once, each in its own thread."""
    threads = [threading.Thread(target=write, args=(buyer, n)) for n, buyer in enumerate(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _percentiles(waits: list[float]) -> dict[str, float]:
    """p50, p95 and max of sorted ``waits`` (NaN when there are none)."""
    if not waits:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    return {
        "p50": statistics.median(waits),
        "p95": waits[int(0.95 * (len(waits) - 1))],
        "max": waits[-1],
    }


def run(args: argparse.Namespace, folding: bool) -> dict[str, float]:
    """One run; the figures of its bursts."""
    with BotApiDouble() as api, tempfile.TemporaryDirectory() as folder:
        buyers = [FIRST_BUYER + n for n in range(args.buyers)]
        for buyer in buyers:
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        api.add_group(SUPPORT, "Lotus Wear support", is_forum=True, members=[STAFF])
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        limits = api.telegram_limits()
        rec = Recorder(api)
        env = {} if folding else {"SELLERDESK_NO_FOLDING": "1"}
        db_url = f"sqlite:///{Path(folder) / 'desk.db'}"
        proc = start_crash_runner(api.url, api.token, db_url, DEMO, 60.0, env)
        try:
            for buyer in buyers:
                api.user_sends_text(buyer, "/start lotus-wear")
                api.user_sends_text(buyer, CASE_QUESTION)
            api.wait_for(
                lambda: (
                    sum(1 for m in api.messages_in(SUPPORT) if CASE_QUESTION in (m.text or ""))
                    == len(buyers)
                ),
                SETTLE_S,
                "every case's card",
            )
            mark = rec.mark()
            sent_at: dict[str, float] = {}

            def burst(buyer: int, seed: int) -> None:
                rng = random.Random(seed)
                due = sorted(rng.uniform(0, args.spread) for _ in range(args.lines))
                start = time.monotonic()
                for n, offset in enumerate(due):
                    pause = start + offset - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    text = _line(buyer, n)
                    sent_at[text] = time.monotonic()
                    api.user_sends_text(buyer, text)

            _in_parallel(burst, buyers)
            expected = set(sent_at)
            shown: dict[str, float] = {}
            sends = 0
            deadline = time.monotonic() + SETTLE_S
            seen = mark
            while len(shown) < len(expected) and time.monotonic() < deadline:
                new = rec.since(seen)
                seen += len(new)
                for when, message in new:
                    if message.chat.id != SUPPORT:
                        continue
                    found = [
                        line.split(" · ", 1)[-1]
                        for line in (message.text or "").split("\n")
                        if line.split(" · ", 1)[-1] in expected
                    ]
                    if found:
                        sends += 1
                    for text in found:
                        shown.setdefault(text, when)
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    waits = sorted(shown[t] - sent_at[t] for t in shown)
    return {
        "lines": len(expected),
        "shown": len(shown),
        "sends": sends,
        **_percentiles(waits),
        "429": sum(limit.hits for limit in limits),
    }


def _content(folder: Path, groups: int) -> Path:
    """The demo seller, with a second staff group sharing the cases when ``groups`` is 2."""
    root = folder / "sellers"
    shutil.copytree(DEMO, root)
    if groups == 2:
        seller_file = root / "lotus-wear" / "seller.yaml"
        extra = f"support_chats:\n  - chat_id: {SECOND_GROUP}\n"
        seller_file.write_text(seller_file.read_text("utf-8") + extra, "utf-8")
    return root


def run_new_cases(args: argparse.Namespace, folding: bool, groups: int) -> dict[str, float]:
    """New cases: each buyer's first line opens one, the rest follow; every line timed
    from the buyer's message to its first showing in a staff group."""
    chats = [SUPPORT, SECOND_GROUP][:groups]
    with BotApiDouble() as api, tempfile.TemporaryDirectory() as folder:
        buyers = [FIRST_BUYER + n for n in range(args.buyers)]
        for buyer in buyers:
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        for chat in chats:
            api.add_group(chat, f"Lotus Wear support {chat}", is_forum=True, members=[STAFF])
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        limits = api.telegram_limits()
        rec = Recorder(api)
        env = {} if folding else {"SELLERDESK_NO_FOLDING": "1"}
        db_url = f"sqlite:///{Path(folder) / 'desk.db'}"
        content = _content(Path(folder), groups)
        proc = start_crash_runner(api.url, api.token, db_url, content, 60.0, env)
        try:
            for buyer in buyers:
                api.user_sends_text(buyer, "/start lotus-wear")
            api.wait_for(lambda: all(api.messages_in(b) for b in buyers), SETTLE_S, "greetings")
            mark = rec.mark()
            calls_before = len(api.calls)
            sent_at: dict[str, float] = {}
            lock = threading.Lock()

            def write(buyer: int, seed: int) -> None:
                rng = random.Random(seed)
                start_at = rng.uniform(0, args.spread / 2)
                due = sorted(rng.uniform(start_at, args.spread) for _ in range(args.lines - 1))
                texts = [f"{CASE_QUESTION} {buyer % 1000:03d}"]
                texts += [f"вопрос {buyer % 1000:03d}/{n:02d}." for n in range(1, args.lines)]
                start = time.monotonic()
                for offset, text in zip([start_at, *due], texts, strict=True):
                    pause = start + offset - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    with lock:
                        sent_at[text] = time.monotonic()
                    api.user_sends_text(buyer, text)

            _in_parallel(write, buyers)
            expected = set(sent_at)
            shown: dict[str, float] = {}
            deadline = time.monotonic() + SETTLE_S
            seen = mark
            while len(shown) < len(expected) and time.monotonic() < deadline:
                new = rec.since(seen)
                seen += len(new)
                for when, message in new:
                    if message.chat.id not in chats:
                        continue
                    body = message.text or message.caption or ""
                    for text in expected:
                        if text in body:
                            shown.setdefault(text, when)
                time.sleep(0.05)
            into_groups = [
                method
                for method, params in api.calls[calls_before:]
                if params.get("chat_id") in chats
                and method in ("sendMessage", "copyMessage", "copyMessages", "createForumTopic")
            ]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    waits = sorted(shown[t] - sent_at[t] for t in shown)
    return {
        "lines": len(expected),
        "shown": len(shown),
        "sends": len(into_groups),
        **_percentiles(waits),
        "429": sum(limit.hits for limit in limits),
    }


FLOOD_QUESTION = "Можно ли заказать пошив по индивидуальным меркам?"


def run_flood(args: argparse.Namespace, folding: bool) -> dict[str, float]:
    """One buyer floods ``--flood`` lines into an open case; meanwhile another buyer's
    first question opens a new case in the same group: how long until staff see it,
    and does the whole flood arrive."""
    with BotApiDouble() as api, tempfile.TemporaryDirectory() as folder:
        flooder, newcomer = FIRST_BUYER, FIRST_BUYER + 1
        for buyer in (flooder, newcomer):
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        api.add_group(SUPPORT, "Lotus Wear support", is_forum=True, members=[STAFF])
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        limits = api.telegram_limits()
        rec = Recorder(api)
        env = {} if folding else {"SELLERDESK_NO_FOLDING": "1"}
        db_url = f"sqlite:///{Path(folder) / 'desk.db'}"
        proc = start_crash_runner(api.url, api.token, db_url, DEMO, 60.0, env)
        try:
            for buyer in (flooder, newcomer):
                api.user_sends_text(buyer, "/start lotus-wear")
            api.user_sends_text(flooder, CASE_QUESTION)
            api.wait_for(
                lambda: any(CASE_QUESTION in (m.text or "") for m in api.messages_in(SUPPORT)),
                SETTLE_S,
                "the flooder's case",
            )
            time.sleep(5)  # the group's burst allowance back
            mark = rec.mark()
            lines = [f"флуд {n:04d}." for n in range(args.flood)]
            started = time.monotonic()
            asked_at = 0.0
            for n, text in enumerate(lines):
                api.user_sends_text(flooder, text)
                if n == len(lines) // 10:
                    asked_at = time.monotonic()
                    api.user_sends_text(newcomer, FLOOD_QUESTION)
                if args.flood_rate:
                    time.sleep(max(0.0, started + (n + 1) / args.flood_rate - time.monotonic()))
            wanted = set(lines)
            shown: set[str] = set()
            card_at = float("nan")
            sends = 0
            deadline = time.monotonic() + SETTLE_S
            seen = mark
            while (len(shown) < len(wanted) or card_at != card_at) and time.monotonic() < deadline:
                new = rec.since(seen)
                seen += len(new)
                for when, message in new:
                    if message.chat.id != SUPPORT:
                        continue
                    body = message.text or ""
                    if FLOOD_QUESTION in body and card_at != card_at:
                        card_at = when
                    found = {w for w in (line.split(" · ", 1)[-1] for line in body.split("\n"))}
                    found &= wanted
                    if found:
                        sends += 1
                        shown |= found
                time.sleep(0.05)
            all_in = time.monotonic()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    return {
        "lines": len(wanted),
        "shown": len(shown),
        "sends": sends,
        "new_case_s": card_at - asked_at,
        "flood_s": all_in - started,
        "429": sum(limit.hits for limit in limits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=5)
    parser.add_argument("--lines", type=int, default=10, help="lines per buyer's burst")
    parser.add_argument("--spread", type=float, default=3.0, help="seconds a burst takes")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run without folding")
    parser.add_argument(
        "--new-cases", action="store_true", help="buyers without cases, 1 and 2 staff groups"
    )
    parser.add_argument(
        "--flood", type=int, default=0, help="lines one buyer floods while another opens a case"
    )
    parser.add_argument("--flood-rate", type=float, default=100.0, help="flood lines a second")
    args = parser.parse_args()
    kinds = [("folding", True)] + ([] if args.no_baseline else [("no folding", False)])
    if args.flood:
        print("| desk | flood lines | shown | sends for the flood | new case shown after s | 429 |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, folding in kinds:
            r = run_flood(args, folding)
            print(
                f"| {name} | {r['lines']:.0f} | {r['shown']:.0f} | {r['sends']:.0f} "
                f"| {r['new_case_s']:.1f} | {r['429']:.0f} |",
                flush=True,
            )
        return
    if args.new_cases:
        print(
            "| desk | groups | buyers | lines | shown | sends into the groups | sends per case "
            "| p50 s | p95 s | max s | 429 |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for groups in (1, 2):
            for name, folding in kinds:
                r = run_new_cases(args, folding, groups)
                print(
                    f"| {name} | {groups} | {args.buyers} | {r['lines']:.0f} | {r['shown']:.0f} "
                    f"| {r['sends']:.0f} | {r['sends'] / args.buyers:.1f} | {r['p50']:.1f} "
                    f"| {r['p95']:.1f} | {r['max']:.1f} | {r['429']:.0f} |",
                    flush=True,
                )
        return
    print(
        "| desk | buyers | lines | shown | sends into the group | sends per case "
        "| p50 s | p95 s | max s | 429 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, folding in kinds:
        r = run(args, folding)
        print(
            f"| {name} | {args.buyers} | {r['lines']:.0f} | {r['shown']:.0f} | {r['sends']:.0f} "
            f"| {r['sends'] / args.buyers:.1f} | {r['p50']:.1f} | {r['p95']:.1f} "
            f"| {r['max']:.1f} | {r['429']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
