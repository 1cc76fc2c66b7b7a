"""Load benchmark of the bot: many buyers at once against the Bot API double.

    python -m bench.load [--buyers 200] [--relays 2] [--timeout 120] [--no-postgres]

Not part of ``make test``. The bot runs as its own OS process (``tests.crash_runner``:
polling, handlers, the outbox sender; the real application), talking over real HTTP
on loopback to the double, which runs in this process. For each database (a SQLite
file; PostgreSQL at ``SELLERDESK_TEST_PG_URL`` in a throwaway schema, skipped when
unreachable) the buyers, all at once:

1. ``/start`` the seller (warm-up, not measured);
2. ask an FAQ question: time from the buyer's message to the bot's answer;
3. ask something the FAQ does not cover: a case opens, a topic is created and the
   message copied there: time to the copy in the topic;
4. send ``--relays`` more messages each: time to each copy in the topic.

Each phase is a burst (every buyer at once), so p99 includes queueing behind the
other buyers; "updates/s" is messages of the phase / (last result - first message).
Times are taken inside the double when it stores the bot's message, so they include
both HTTP hops and the polling delay, not the buyer's network. Peak memory is the bot
process's peak RSS (``VmHWM``), Python and C allocations alike.

Honesty notes: this measures the bot, not Telegram. The double answers in
microseconds and enforces no flood limits here (it can: ``limit_rate``), while
Telegram allows about 30 messages a second per bot and about 20 a minute per group
(all topics of one staff supergroup share it). With real limits, 200 buyers opening
cases in one group would take minutes to relay, by Telegram's rules, whatever the
bot's speed; the outbox queues and paces them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.botapi import BotApiDouble
from tests.botapi.model import StoredMessage

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "sellers"
SUPPORT = -1001000000001
ADMIN_CHAT = -1009000000009
FIRST_BUYER = 100_000
FAQ_QUESTION = "Сколько идет доставка из Китая?"
CASE_QUESTION = "Вы можете сшить платье по моим меркам?"
START_TIMEOUT_S = 60


@dataclass
class Phase:
    name: str
    messages: int
    latencies_ms: list[float]
    wall_s: float
    missing: int

    def row(self, backend: str) -> str:
        lat = sorted(self.latencies_ms)
        p50 = statistics.median(lat) if lat else float("nan")
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan")
        rate = self.messages / self.wall_s if self.wall_s > 0 else float("nan")
        return (
            f"| {backend} | {self.name} | {self.messages} | {rate:.0f} | {p50:.0f} | {p99:.0f} "
            f"| {self.missing} |"
        )


class Recorder:
    """When the double stored each bot message (wraps its private store method)."""

    def __init__(self, api: BotApiDouble) -> None:
        self.lock = threading.Lock()
        self.stored: list[tuple[float, StoredMessage]] = []
        original = api._store_bot_message

        def store(*args: Any, **kwargs: Any) -> StoredMessage:
            message = original(*args, **kwargs)
            with self.lock:
                self.stored.append((time.monotonic(), message))
            return message

        api._store_bot_message = store  # type: ignore[method-assign]

    def since(self, start: int) -> list[tuple[float, StoredMessage]]:
        with self.lock:
            return self.stored[start:]

    def mark(self) -> int:
        with self.lock:
            return len(self.stored)


def _wait(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.01)
    return done()


def _phase(
    name: str,
    api: BotApiDouble,
    rec: Recorder,
    buyers: list[int],
    texts: list[str],
    to_topic: bool,
    timeout: float,
) -> Phase:
    """Every buyer sends ``texts`` (all buyers, one text after another); waits for the
    answer in the buyer's chat (``to_topic`` False) or the copy in the topic."""
    mark = rec.mark()
    sent: dict[tuple[int, int], float] = {}  # (buyer, message id) -> when sent
    first = time.monotonic()
    for text in texts:
        for buyer in buyers:
            message = api.user_sends_text(buyer, text)
            sent[(buyer, message.message_id)] = time.monotonic()

    def results() -> dict[tuple[int, int], float]:
        found: dict[tuple[int, int], float] = {}
        answered: set[int] = set()
        for when, message in rec.since(mark):
            if to_topic:
                key = message.copied_from
                if message.chat.id == SUPPORT and key in sent and key not in found:
                    found[key] = when
            elif message.chat.id not in answered and message.chat.id > 0:
                answered.add(message.chat.id)
                key = next((k for k in sent if k[0] == message.chat.id), None)
                if key is not None:
                    found[key] = when
        return found

    _wait(lambda: len(results()) >= len(sent), timeout)
    found = results()
    last = max(found.values(), default=first)
    latencies = [(found[k] - t0) * 1000 for k, t0 in sent.items() if k in found]
    return Phase(name, len(sent), latencies, last - first, len(sent) - len(found))


@contextmanager
def _bot(api: BotApiDouble, db_url: str) -> Iterator[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "tests.crash_runner", api.url, api.token, db_url]
    command += [str(DEMO), "60"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the bot did not start")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_backend(backend: str, db_url: str, args: argparse.Namespace) -> tuple[list[Phase], float]:
    with BotApiDouble() as api:
        buyers = [FIRST_BUYER + n for n in range(args.buyers)]
        for buyer in buyers:
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        api.add_group(SUPPORT, "Lotus Wear support", is_forum=True, members=[700000101])
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        rec = Recorder(api)
        with _bot(api, db_url) as proc:
            warm = _phase("start (warm-up)", api, rec, buyers, ["/start lotus-wear"], False, 60)
            phases = [warm]
            phases.append(
                _phase("FAQ answer", api, rec, buyers, [FAQ_QUESTION], False, args.timeout)
            )
            phases.append(
                _phase(
                    "case opened, copy in topic",
                    api,
                    rec,
                    buyers,
                    [CASE_QUESTION],
                    True,
                    args.timeout,
                )
            )
            relays = [f"дополнение {n}" for n in range(args.relays)]
            phases.append(
                _phase("relay, copy in topic", api, rec, buyers, relays, True, args.timeout)
            )
            rss = _peak_rss_mib(proc.pid)
        return phases, rss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--relays", type=int, default=2, help="follow-up messages per buyer")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per phase at most")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)

    backends: list[tuple[str, Callable[[], Any]]] = []
    tmp = tempfile.TemporaryDirectory()
    backends.append(("SQLite", lambda: _nullcontext(f"sqlite:///{tmp.name}/load.db")))
    if not args.no_postgres:
        from tests.storage.conftest import pg_schema, pg_unavailable

        reason = pg_unavailable()
        if reason:
            print(f"PostgreSQL skipped: {reason}", file=sys.stderr)
        else:
            backends.append(("PostgreSQL", lambda: _pg_url(pg_schema)))

    lines = [
        f"Load: {args.buyers} buyers at once, {args.relays} follow-ups each, bot in its own "
        f"process, Bot API double on loopback (no flood limits), {os.cpu_count()} CPU(s).",
        "",
        "| database | phase | messages | updates/s | p50 ms | p99 ms | missing |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    memory: list[str] = []
    try:
        for name, url_context in backends:
            with url_context() as url:
                phases, rss = run_backend(name, url, args)
            lines += [phase.row(name) for phase in phases]
            memory.append(f"{name}: peak RSS of the bot process {rss:.0f} MiB")
    finally:
        tmp.cleanup()
    lines += ["", *memory, ""]
    lines.append(
        "Telegram's own limits are not modelled: about 30 messages/s per bot and about "
        "20 messages/min per group (all topics of a staff supergroup share it). These "
        "figures are what the bot can do; real relays to one group are paced by Telegram."
    )
    print("\n".join(lines))
    return 0


@contextmanager
def _nullcontext(url: str) -> Iterator[str]:
    yield url


@contextmanager
def _pg_url(pg_schema: Callable[[str], Any]) -> Iterator[str]:
    from bot.database import Database

    with pg_schema("sdload") as url:
        text = url.render_as_string(hide_password=False)
        db = Database(text)
        db.prepare()
        db.dispose()
        yield text


if __name__ == "__main__":
    sys.exit(main())
