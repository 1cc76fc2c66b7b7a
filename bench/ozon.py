"""Ozon buyer chats benchmark: buyers' messages answered from the FAQ inside Ozon,
with injected 429 and 5xx and one SIGKILL of the bot.

    python -m bench.ozon [--messages 1000] [--chats 100] [--rate 10] [--poll 1]
                         [--faults] [--kill] [--push]

The bot runs as its own process (``testing.crash_runner``: polling Telegram's double,
SQLite, the fuzzy matcher, the demo seller with an ``ozon`` section) against the Ozon
Seller API double (``testing.ozonapi``). ``--messages`` buyer messages, each a question
the demo FAQ answers, are written into ``--chats`` chats at ``--rate`` a second. With
``--faults`` the double answers 429 (``retry-after`` 0.2 s) or 500 every 2 to 4 s; with
``--kill`` the bot is killed (SIGKILL) halfway and started again. The table: messages,
answered once, lost (no answer), doubled (more sends than the answer's parts), and the
time from the buyer's message to its answer in the chat (p50, p95, max), with the
poll interval as the baseline: an answer cannot come sooner than the next look.
``--push``: the bot serves Ozon's push endpoint and the double pushes each message
(``TYPE_NEW_MESSAGE``) as it is written; with a long ``--poll`` the answers then come
from the pushes.
Loopback only.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sellerdesk.bot.channels.ozon_client import split_text
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.matching.decision import Action
from testing.botapi import BotApiDouble
from testing.ozonapi import OzonApiDouble
from testing.processes import start_crash_runner
from testing.runner_settings import UNPACED_ENV

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "sellers"
SUPPORT = -1001000000001
ADMIN_CHAT = -1009000000009
KEY_VAR = "OZON_KEY_BENCH"
SETTLE_S = 300.0


def _questions(content_dir: Path) -> dict[str, str]:
    """Questions of the demo FAQ the matcher answers, with their answer."""
    content = load_content(content_dir)
    seller = content.sellers["lotus-wear"]
    faq = FaqAnswers(content, "fuzzy")
    found: dict[str, str] = {}
    for entry in seller.entries:
        if entry.handoff:
            continue
        for question in entry.questions.get("ru", ()):
            decision = faq.matcher(seller).decide(question)
            if decision.action is Action.ANSWER and decision.best and not decision.rest:
                lang = decision.lang if decision.lang in seller.languages else "ru"
                found[question] = faq.answer_text(seller, decision.best.target, lang)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(args: argparse.Namespace) -> dict[str, float]:
    with (
        BotApiDouble() as api,
        OzonApiDouble() as ozon,
        tempfile.TemporaryDirectory() as folder,
    ):
        ozon.page_size = 100  # as Ozon: the page is the limit asked for
        api.add_group(SUPPORT, "Lotus Wear support", is_forum=True)
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        root = Path(folder) / "sellers"
        shutil.copytree(DEMO, root)
        seller_file = root / "lotus-wear" / "seller.yaml"
        extra = f'ozon:\n  client_id: "{ozon.client_id}"\n  api_key_env: {KEY_VAR}\n'
        seller_file.write_text(seller_file.read_text("utf-8") + extra, "utf-8")
        questions = _questions(root)
        env = {
            **UNPACED_ENV,
            KEY_VAR: ozon.api_key,
            "OZON_API_URL": ozon.url,
            "OZON_POLL_SECONDS": str(args.poll),
            "OZON_API_RPS": "50",
        }
        if args.push:
            port = _free_port()
            env["OZON_PUSH_PORT"] = str(port)
            ozon.push_url = f"http://127.0.0.1:{port}/ozon/push"
        db_url = f"sqlite:///{Path(folder) / 'desk.db'}"
        proc = start_crash_runner(api.url, api.token, db_url, root, 60.0, env)
        rng = random.Random(7)
        asked: list[tuple[str, str, float]] = []  # chat, question, when
        stop_faults = threading.Event()

        def faults() -> None:
            while not stop_faults.wait(rng.uniform(2.0, 4.0)):
                if rng.random() < 0.5:
                    ozon.fail_next(429, retry_after=0.2)
                else:
                    ozon.fail_next(500)

        injector = threading.Thread(target=faults, daemon=True)
        if args.faults:
            injector.start()
        restarts = 0
        try:
            texts = list(questions)
            start = time.monotonic()
            for n in range(args.messages):
                chat = f"chat-{n % args.chats:04d}"
                question = rng.choice(texts)
                ozon.buyer_writes(chat, question)
                asked.append((chat, question, time.monotonic()))
                if args.kill and n == args.messages // 2:
                    proc.kill()  # SIGKILL: no cleanup, mid-poll
                    proc.wait()
                    proc = start_crash_runner(api.url, api.token, db_url, root, 60.0, env)
                    restarts += 1
                time.sleep(max(0.0, start + (n + 1) / args.rate - time.monotonic()))
            expected = {
                chat: sum(len(split_text(questions[q])) for c, q, _ in asked if c == chat)
                for chat in {c for c, _, _ in asked}
            }

            def done() -> bool:
                return all(len(ozon.sent_in(c)) >= n for c, n in expected.items())

            deadline = time.monotonic() + SETTLE_S
            while not done() and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2 * args.poll)  # room for a late double to show
        finally:
            stop_faults.set()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        # Each chat's answers in order: the i-th question's parts follow the previous.
        waits: list[float] = []
        lost = doubled = answered = 0
        for chat, parts in expected.items():
            sent = [
                (text, at)
                for (c, text), at in zip(ozon.sent, ozon.sent_at, strict=True)
                if c == chat
            ]
            doubled += max(0, len(sent) - parts)
            position = 0
            for c, question, when in asked:
                if c != chat:
                    continue
                want = split_text(questions[question])
                got = [t for t, _ in sent[position : position + len(want)]]
                if got == want:
                    answered += 1
                    waits.append(sent[position + len(want) - 1][1] - when)
                else:
                    lost += 1
                position += len(want)
        waits.sort()
        return {
            "messages": len(asked),
            "answered": answered,
            "lost": lost,
            "doubled": doubled,
            "p50": statistics.median(waits) if waits else float("nan"),
            "p95": waits[int(0.95 * (len(waits) - 1))] if waits else float("nan"),
            "max": waits[-1] if waits else float("nan"),
            "restarts": restarts,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="buyer messages a second")
    parser.add_argument("--poll", type=float, default=1.0, help="OZON_POLL_SECONDS")
    parser.add_argument("--faults", action="store_true", help="inject 429 and 500")
    parser.add_argument("--kill", action="store_true", help="SIGKILL the bot halfway")
    parser.add_argument(
        "--push", action="store_true", help="the double pushes each message to the bot"
    )
    args = parser.parse_args()
    r = run(args)
    print(
        "| messages | chats | poll s | push | faults | kill | answered once | lost | doubled "
        "| p50 s | p95 s | max s |"
    )
    print("| ---: | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {r['messages']:.0f} | {args.chats} | {args.poll:g} | {'yes' if args.push else 'no'} "
        f"| {'yes' if args.faults else 'no'} "
        f"| {'yes' if args.kill else 'no'} | {r['answered']:.0f} | {r['lost']:.0f} "
        f"| {r['doubled']:.0f} | {r['p50']:.2f} | {r['p95']:.2f} | {r['max']:.2f} |"
    )


if __name__ == "__main__":
    main()
