"""Flood benchmark: does one buyer writing 1,000 messages, or a flood of ``/health``
probes, slow other buyers' FAQ answers, or push the bot over Telegram's limits?

    python -m bench.flood [--runs 3] [--seconds 20] [--rate 10] [--flood 1000]
                          [--flood-rate 50] [--probers 8]

Not part of ``make test``. The bot runs as its own process (``testing.crash_runner``:
polling, SQLite, the demo seller, the health endpoint on) with Telegram's pacing, the
real one, not the load benchmark's raised one. The Bot API double here enforces the limits the
desk is built for: at most 20 messages a minute into a group and 4 a second into any
one chat (a private chat allows short bursts at about one a second); a call over them
is answered 429, and the table counts those. The largest number of messages the bot
sent in any one second is counted too (Telegram: about 30).

Phases, each ``--seconds`` long, other buyers asking FAQ questions at ``--rate`` a
second (Poisson arrivals, many distinct buyers):

1. quiet: nothing else (the baseline of this run);
2. flooding buyer: one buyer with an open case sends ``--flood`` messages at
   ``--flood-rate`` a second (50: faster than Telegram lets a person's account send for
   long; 0: as fast as the double takes them, which in this process also takes the
   double's own threads' time, so the first answers after it measure the benchmark
   as much as the bot);
3. health flood: ``--probers`` threads call ``GET /health`` back to back;
4. both at once.

"p99 ×" is the phase's FAQ p99 over the same run's quiet phase's; the last table gives
each figure's median over the runs. Target: under 2×, no 429. On a 2-core machine the
probers (Python threads in this process) take about a core themselves, so the health
flood measures the machine running short of CPU as much as the bot.
Loopback only.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.load import Recorder
from testing.botapi import BotApiDouble
from testing.processes import free_port, start_crash_runner

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "sellers"
SUPPORT = -1001000000001  # the demo seller's support group
STAFF = 700000101
ADMIN_CHAT = -1009000000009
SELLER = "lotus-wear"
FAQ_QUESTION = "Сколько идет доставка из Китая?"
CASE_QUESTION = "Вы можете сшить платье по моим меркам?"
FIRST_BUYER = 840_000_000
FLOODER = 849_999_999
#: Distinct buyers asking FAQ questions (each asks every few seconds at most).
FAQ_BUYERS = 120
#: Seconds after a phase's last question to wait for its answer.
SETTLE_S = 30.0


@dataclass
class Phase:
    name: str
    asked: int
    latencies_ms: list[float]
    health_calls: int = 0
    flood_sent: int = 0

    def p(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(q) - 1]


class Background:
    """A load running in threads until stopped: the flooding buyer or the probers."""

    def __init__(self, work: Callable[[threading.Event], int], threads: int) -> None:
        self.stop_event = threading.Event()
        self.counts: list[int] = []
        self.lock = threading.Lock()

        def run() -> None:
            done = work(self.stop_event)
            with self.lock:
                self.counts.append(done)

        self.threads = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def stop(self) -> int:
        self.stop_event.set()
        for thread in self.threads:
            thread.join()
        return sum(self.counts)


def _flooder(api: BotApiDouble, total: int, rate: float) -> Callable[[threading.Event], int]:
    def work(stop: threading.Event) -> int:
        sent = 0
        start = time.monotonic()
        while sent < total and not stop.is_set():
            if rate > 0 and (pause := start + sent / rate - time.monotonic()) > 0:
                time.sleep(pause)
            api.user_sends_text(FLOODER, f"и ещё {sent + 1}")
            sent += 1
        return sent

    return work


def _prober(port: int) -> Callable[[threading.Event], int]:
    def work(stop: threading.Event) -> int:
        calls = 0
        while not stop.is_set():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
                    r.read()
            except OSError:
                pass
            calls += 1
        return calls

    return work


def _ask(
    api: BotApiDouble, rec: Recorder, buyers: list[int], rate: float, seconds: float, seed: int
) -> list[float]:
    """FAQ questions at ``rate`` a second for ``seconds``; each one's answer time (ms)."""
    rng = random.Random(seed)
    mark = rec.mark()
    sent: dict[tuple[int, int], float] = {}
    start = time.monotonic()
    due, n = 0.0, 0
    while (due := due + rng.expovariate(rate)) <= seconds:
        pause = start + due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        buyer = buyers[n % len(buyers)]
        message = api.user_sends_text(buyer, FAQ_QUESTION)
        sent[(buyer, message.message_id)] = time.monotonic()
        n += 1
    deadline = time.monotonic() + SETTLE_S
    answered: dict[tuple[int, int], float] = {}
    while len(answered) < len(sent) and time.monotonic() < deadline:
        for when, message in rec.since(mark):
            key = (message.chat.id, message.reply_to or 0)
            if key in sent:
                answered.setdefault(key, when)
        time.sleep(0.01)
    return [(answered[k] - t) * 1000 if k in answered else SETTLE_S * 1000 for k, t in sent.items()]


def _max_per_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best, low = 0, 0
    for high, stamp in enumerate(stamps):
        while stamp - stamps[low] >= window:
            low += 1
        best = max(best, high - low + 1)
    return best


def run(args: argparse.Namespace, seed: int) -> list[Phase]:
    """One run with a fresh bot: its table, and its phases for the summary."""
    with BotApiDouble() as api, tempfile.TemporaryDirectory() as folder:
        faq_buyers = [FIRST_BUYER + n for n in range(FAQ_BUYERS)]
        for buyer in [*faq_buyers, FLOODER]:
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        api.add_group(SUPPORT, "Lotus Wear support", is_forum=True, members=[STAFF])
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        group_limit = api.limit_rate(20, 60.0, chat_id=SUPPORT)
        chat_limit = api.limit_rate(4, 1.0)
        rec = Recorder(api)
        health_port = free_port()
        env = {"SELLERDESK_HEALTH_PORT": str(health_port)}
        db_url = f"sqlite:///{Path(folder) / 'desk.db'}"
        proc = start_crash_runner(api.url, api.token, db_url, DEMO, 60.0, env)
        try:
            for buyer in [*faq_buyers, FLOODER]:
                api.user_sends_text(buyer, f"/start {SELLER}")
            api.user_sends_text(FLOODER, CASE_QUESTION)
            deadline = time.monotonic() + SETTLE_S
            while time.monotonic() < deadline and any(
                not api.messages_in(b, from_bot=True) for b in faq_buyers
            ):
                time.sleep(0.1)
            time.sleep(2.0)  # the case's topic and card
            phases = []
            kinds = [
                ("quiet", False, False),
                ("flooding buyer", True, False),
                ("health flood", False, True),
                ("both", True, True),
            ]
            for n, (name, flood, probe) in enumerate(kinds):
                loads = []
                if flood:
                    flooder = _flooder(api, args.flood, args.flood_rate)
                    loads.append(("flood", Background(flooder, 1)))
                if probe:
                    loads.append(("probe", Background(_prober(health_port), args.probers)))
                latencies = _ask(api, rec, faq_buyers, args.rate, args.seconds, seed + n)
                phase = Phase(name, len(latencies), latencies)
                for kind, load in loads:
                    count = load.stop()
                    if kind == "flood":
                        phase.flood_sent = count
                    else:
                        phase.health_calls = count
                phases.append(phase)
            stamps = [when for when, _ in rec.since(0)]
            to_group = [when for when, m in rec.since(0) if m.chat.id == SUPPORT]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        quiet = phases[0].p(99)
        print("| phase | questions | p50 ms | p99 ms | p99 × quiet | flood msgs | /health calls |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for phase in phases:
            print(
                f"| {phase.name} | {phase.asked} | {phase.p(50):.0f} | {phase.p(99):.0f} "
                f"| {phase.p(99) / quiet:.2f} | {phase.flood_sent} | {phase.health_calls} |"
            )
        print()
        print(
            f"429 answers: group {group_limit.hits}, chats {chat_limit.hits}; "
            f"most bot messages in one second {_max_per_window(stamps, 1.0)} (Telegram ~30); "
            f"most into the staff group in one minute {_max_per_window(to_group, 60.0)} (20)"
        )
        print()
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=10.0, help="FAQ questions a second")
    parser.add_argument("--flood", type=int, default=1000, help="the flooding buyer's messages")
    parser.add_argument(
        "--flood-rate",
        type=float,
        default=50.0,
        help="the flooding buyer's messages a second (0: as fast as the double takes them)",
    )
    parser.add_argument("--probers", type=int, default=8, help="threads calling /health")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="runs, each with a fresh bot")
    args = parser.parse_args()
    runs = [run(args, args.seed + 10 * n) for n in range(args.runs)]
    print(f"Median over {args.runs} runs:")
    print()
    print("| phase | p50 ms | p99 ms | p99 × quiet |")
    print("| --- | ---: | ---: | ---: |")
    for n, first in enumerate(runs[0]):
        phases = [phases[n] for phases in runs]
        ratios = [
            phase.p(99) / phases_[0].p(99) for phase, phases_ in zip(phases, runs, strict=True)
        ]
        print(
            f"| {first.name} | {statistics.median(p.p(50) for p in phases):.0f} "
            f"| {statistics.median(p.p(99) for p in phases):.0f} "
            f"| {statistics.median(ratios):.2f} |"
        )


if __name__ == "__main__":
    main()
