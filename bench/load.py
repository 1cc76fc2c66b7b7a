"""Load benchmark of the bot: many buyers against the Bot API double.

    python -m bench.load [--buyers 200] [--relays 2] [--faq-rate 200] [--relay-rate 100]
                         [--seconds 5] [--step] [--groups 3] [--no-postgres] [--no-sqlite]
                         [--no-baseline] [--profile PATH] [--telegram-pacing]
                         [--matcher fuzzy|hybrid] [--webhooks N]

Not part of ``make test``. The bot runs as its own OS process (``testing.crash_runner``:
polling, handlers, the outbox sender; the real application), talking over real HTTP
on loopback to the double, which runs in this process with the simulated buyers. For
each database (a SQLite file; PostgreSQL at ``SELLERDESK_TEST_PG_URL`` in a throwaway
schema, skipped when unreachable):

Bursts (every buyer at once; p99 is mostly queueing behind the burst):

1. ``/start`` a shop (warm-up, not measured): ``--groups`` copies of the demo seller,
   each with its own staff supergroup, buyers spread over them;
2. ask an FAQ question: time from the buyer's message to the bot's answer;
3. ask something the FAQ does not cover: a case opens, a topic is created and the
   message copied there: time to the copy in the topic;
4. send ``--relays`` more messages each: time to each copy in the topic.

Open loop (what the targets mean): messages offered at a fixed rate for ``--seconds``
with Poisson arrivals, whatever the bot's speed:

5. FAQ questions at ``--faq-rate`` a second from many distinct buyers;
6. relays at ``--relay-rate`` a second spread over the open cases of every group;
7. with ``--step``: FAQ questions at rising rates (``--steps``), each for
   ``--step-seconds``, until p99 reaches ``--p99-ms`` or a message goes missing;
   the highest rate sustained is reported.

Webhooks (``--webhooks N``): instead of one polling process, N ``sellerdesk run
--webhook`` processes on one database, as production runs them behind nginx
(docs/deployment.md); the benchmark posts each update to the next process in turn with the
secret header, as Telegram posts to a balancer. "bot CPU" is then the sum over the
processes (200% = two cores). Several processes need PostgreSQL: SQLite is skipped.

Baseline (``--no-baseline`` skips it): the same FAQ burst and open loop against a bare
PTB bot (``bench.echo_bot``: the desk's HTTP client and polling, a fixed reply, no
database), run first; a last table gives the desk's CPU per answer over the bare
bot's. The machine's speed changes from run to run on shared cores; that ratio
changes far less.

"updates/s" is messages answered / (last answer - first message); "offered/s" is what
the buyers sent. Times are taken inside the double when it stores the bot's message,
so they include both HTTP hops and the polling delay, not the buyer's network. "bot
CPU" is the bot process's user+system CPU over the phase's wall time (100% = one
core) and "CPU ms/msg" that CPU time per message answered: the bot's cost, which
other load on the machine changes little. Peak memory is its peak RSS (``VmHWM``).

Honesty notes: this measures the bot, not Telegram. The double answers in
microseconds and enforces no flood limits here, and the bot runs with its pacing set
far above Telegram's limits (``TELEGRAM_GLOBAL_RATE`` and friends, see
``--telegram-pacing`` to keep the real ones): Telegram allows about 30 messages a
second per bot and about 20 a minute per group, so 100 relays a second need paid
broadcast and at least five staff groups kept under 20 a minute each, whatever the
bot's speed. The double and the buyers share the machine with the bot: on 2 cores
they take much of one.

Longer than ~500 lines on purpose: one benchmark command with its simulated buyers,
processes and report, read top to bottom.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import queue
import random
import shutil
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

from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage
from testing.botapi.webhook import SECRET_HEADER, webhook_update
from testing.runner_settings import UNPACED_ENV

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "sellers" / "lotus-wear"
SELLER = "lotus-wear"
FIRST_SUPPORT = -1001000000001
ADMIN_CHAT = -1009000000009
STAFF_MEMBER = 700000101
FIRST_BUYER = 100_000
FAQ_QUESTION = "Сколько идет доставка из Китая?"
CASE_QUESTION = "Вы можете сшить платье по моим меркам?"
START_TIMEOUT_S = 60
#: Open-loop FAQ questions come from this many buyers, in turn (each asks a few times
#: a minute at most, below the desk's flood notice).
FAQ_POOL = 600
#: Seconds after an open-loop phase's last message that its answers may still arrive
#: (a bot that falls behind works off its backlog before the next phase starts).
DRAIN_S = 60.0

#: What a phase waits for, per message sent: (chat, message id) keys.
Key = tuple[int, int]


@dataclass
class Phase:
    name: str
    messages: int
    latencies_ms: list[float]
    wall_s: float
    missing: int
    offered_per_s: float = float("nan")
    cpu_s: float = float("nan")

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        lat = sorted(self.latencies_ms)
        return lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan")

    @property
    def rate(self) -> float:
        answered = self.messages - self.missing
        return answered / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def cpu_ms(self) -> float:
        """The bot's CPU milliseconds per message answered."""
        answered = self.messages - self.missing
        return 1000 * self.cpu_s / answered if answered else float("nan")

    def row(self, backend: str) -> str:
        return (
            f"| {backend} | {self.name} | {self.messages} | {self.offered_per_s:.0f} "
            f"| {self.rate:.0f} | {self.p50:.0f} | {self.p99:.0f} | {self.missing} "
            f"| {100 * self.cpu_s / self.wall_s:.0f}% | {self.cpu_ms:.1f} |"
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


class Matcher:
    """Finds, among the bot's messages since ``mark``, the result for each message
    sent: ``first`` the first bot message in the buyer's chat, ``answer`` the bot's
    reply to the message, ``topic`` its copy in a staff group."""

    def __init__(self, rec: Recorder, mark: int, how: str, groups: set[int]) -> None:
        self.rec = rec
        self.next = mark
        self.how = how
        self.groups = groups
        self.found: dict[Key, float] = {}
        self.first_in_chat: dict[int, float] = {}

    def update(self) -> None:
        new = self.rec.since(self.next)
        self.next += len(new)
        for when, message in new:
            chat = message.chat.id
            if self.how == "first" and chat > 0:
                self.first_in_chat.setdefault(chat, when)
            elif self.how == "answer" and chat > 0 and message.reply_to is not None:
                self.found.setdefault((chat, message.reply_to), when)
            elif self.how == "topic" and chat in self.groups and message.copied_from:
                key = message.copied_from
                self.found.setdefault((int(key[0]), int(key[1])), when)

    def result(self, key: Key) -> float | None:
        if self.how == "first":
            return self.first_in_chat.get(key[0])
        return self.found.get(key)


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the bot processes so far."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _measure(
    name: str,
    api: BotApiDouble,
    rec: Recorder,
    bots: Bots,
    how: str,
    groups: set[int],
    send: Callable[[Callable[[int, str], None]], None],
    timeout: float,
) -> Phase:
    """Run ``send`` (which calls its argument for each message: buyer, text) and wait
    for every result, at most ``timeout`` seconds after the last message."""
    matcher = Matcher(rec, rec.mark(), how, groups)
    sent: dict[Key, float] = {}

    def one(buyer: int, text: str) -> None:
        message = api.user_sends_text(buyer, text)
        sent[(buyer, message.message_id)] = time.monotonic()
        if bots.deliver is not None:
            bots.deliver(message)

    cpu0 = _cpu_seconds(bots.pids)
    first = time.monotonic()
    send(one)
    offered_s = time.monotonic() - first
    deadline = time.monotonic() + timeout
    while True:
        matcher.update()
        if all(matcher.result(key) is not None for key in sent):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.005)
    results = {key: matcher.result(key) for key in sent}
    done = {key: when for key, when in results.items() if when is not None}
    # With nothing answered, the phase lasted until the wait gave up.
    last = max(done.values(), default=time.monotonic())
    cpu = _cpu_seconds(bots.pids) - cpu0
    wall = max(last - first, 1e-3)
    return Phase(
        name,
        len(sent),
        [(done[key] - t0) * 1000 for key, t0 in sent.items() if key in done],
        wall,
        len(sent) - len(done),
        offered_per_s=len(sent) / offered_s if offered_s > 0 else float("nan"),
        cpu_s=cpu,
    )


def burst(buyers: list[int], texts: Callable[[int], list[str]]) -> Callable[..., None]:
    """Every buyer sends its texts at once (all first texts, then all second ones...)."""

    def send(one: Callable[[int, str], None]) -> None:
        rounds = max(len(texts(b)) for b in buyers)
        for n in range(rounds):
            for buyer in buyers:
                wanted = texts(buyer)
                if n < len(wanted):
                    one(buyer, wanted[n])

    return send


def open_loop(
    buyers: list[int], text: Callable[[int], str], rate: float, seconds: float, seed: int
) -> Callable[..., None]:
    """Messages at ``rate`` a second on average (Poisson arrivals) for ``seconds``,
    buyers in turn, each on schedule whatever the bot does."""

    def send(one: Callable[[int, str], None]) -> None:
        rng = random.Random(seed)
        start = time.monotonic()
        due = 0.0
        n = 0
        while True:
            due += rng.expovariate(rate)
            if due > seconds:
                return
            pause = start + due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            buyer = buyers[n % len(buyers)]
            one(buyer, text(n))
            n += 1

    return send


def content_dir(target: Path, groups: int) -> list[int]:
    """``groups`` copies of the demo seller, each with its own staff supergroup;
    returns the groups' chat ids."""
    chats = []
    for n in range(groups):
        folder = target / (SELLER if n == 0 else f"{SELLER}-{n + 1}")
        shutil.copytree(DEMO, folder)
        chat = FIRST_SUPPORT - n
        seller_yaml = folder / "seller.yaml"
        text = seller_yaml.read_text(encoding="utf-8")
        seller_yaml.write_text(
            text.replace(f"support_chat_id: {FIRST_SUPPORT}", f"support_chat_id: {chat}"),
            encoding="utf-8",
        )
        chats.append(chat)
    return chats


@dataclass
class Bots:
    """The bot processes under load, and how an update reaches them: None when they
    fetch updates themselves (polling), else a call that posts one to their webhooks."""

    pids: list[int]
    deliver: Callable[[StoredMessage], None] | None = None


@contextmanager
def _bots(
    api: BotApiDouble, db_url: str, content: Path, env: dict[str, str], webhooks: int
) -> Iterator[Bots]:
    """One polling bot process (``webhooks`` = 0), or ``webhooks`` ``sellerdesk run
    --webhook`` processes that Telegram's part of the benchmark calls in turn."""
    if not webhooks:
        command = [sys.executable, "-m", "testing.crash_runner", api.url, api.token, db_url]
        command += [str(content), "60"]
        with _process(command, env) as proc:
            yield Bots([proc.pid])
        return
    with _webhook_processes(api, db_url, content, env, webhooks) as (procs, ports):
        delivery = WebhookDelivery(api, ports)
        try:
            yield Bots([proc.pid for proc in procs], delivery.deliver)
        finally:
            failed = delivery.close()
        if failed:
            raise RuntimeError(f"{failed} webhook deliveries failed")


#: The webhook secret of the benchmark's webhook processes.
WEBHOOK_SECRET = "load-bench-Secret-2026-0123456789abcdef"
WEBHOOK_PATH = "/telegram"
#: Webhook requests in flight at once: Telegram's ``max_connections`` default. Each
#: process answers a POST once its update is handled, so this bounds the updates being
#: handled at once, as it does in production.
WEBHOOK_CONNECTIONS = 40


@contextmanager
def _webhook_processes(
    api: BotApiDouble, db_url: str, content: Path, env: dict[str, str], count: int
) -> Iterator[tuple[list[subprocess.Popen[bytes]], list[int]]]:
    """``count`` ``sellerdesk run --webhook`` processes on one database, as production
    runs them behind a balancer; yields them and their webhook ports once each one's
    health endpoint says ok. Terminated at the end."""
    from testing.processes import free_port, wait_ready
    from testing.runner_settings import webhook_env

    ports = [(free_port(), free_port()) for _ in range(count)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port, health_port in ports:
            settings = {
                **webhook_env(
                    api.url,
                    api.token,
                    db_url,
                    content,
                    port,
                    health_port,
                    WEBHOOK_SECRET,
                    WEBHOOK_PATH,
                ),
                "PYTHONPATH": str(ROOT),
                "MATCHER": env.get("SELLERDESK_MATCHER", "fuzzy"),
                "SECRET_KEY": "load-bench-key",
            }
            command = [sys.executable, "-m", "sellerdesk", "run", "--webhook"]
            procs.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env={**os.environ, **env, **settings},
                    stderr=subprocess.DEVNULL,
                )
            )
        for proc, (port, health_port) in zip(procs, ports, strict=True):
            wait_ready(proc, port, health_port)
        yield procs, [port for port, _ in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class WebhookDelivery:
    """Posts updates to the webhook processes in turn (a round-robin balancer, as
    nginx in front of them), from :data:`WEBHOOK_CONNECTIONS` threads that each keep
    a connection open to each process, with the secret header, as Telegram does.
    A refused or failed post is tried again, as Telegram would, up to three times."""

    def __init__(self, api: BotApiDouble, ports: list[int]) -> None:
        self.api = api
        self.ports = ports
        self.turn = itertools.count()
        self.todo: queue.Queue[int | None] = queue.Queue()
        self.failed = 0
        self.threads = [
            threading.Thread(target=self._work, name=f"webhook-{n}", daemon=True)
            for n in range(WEBHOOK_CONNECTIONS)
        ]
        for thread in self.threads:
            thread.start()

    def deliver(self, message: StoredMessage) -> None:
        assert message.update_id is not None
        self.todo.put(message.update_id)

    def close(self) -> int:
        """Stop the threads once every queued update is posted; returns the number of
        updates that could not be delivered."""
        for _ in self.threads:
            self.todo.put(None)
        for thread in self.threads:
            thread.join()
        return self.failed

    def _work(self) -> None:
        connections: dict[int, http.client.HTTPConnection] = {}
        headers = {"Content-Type": "application/json", SECRET_HEADER: WEBHOOK_SECRET}
        while (update_id := self.todo.get()) is not None:
            body = json.dumps(webhook_update(self.api, update_id), ensure_ascii=False).encode()
            port = self.ports[next(self.turn) % len(self.ports)]
            for _attempt in range(3):
                connection = connections.get(port)
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    connections[port] = connection
                try:
                    connection.request("POST", WEBHOOK_PATH, body, headers)
                    response = connection.getresponse()
                    response.read()
                    if response.status == 200:
                        break
                except (OSError, http.client.HTTPException):
                    pass
                connection.close()
                connections.pop(port, None)
            else:
                self.failed += 1
        for connection in connections.values():
            connection.close()


@contextmanager
def _process(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A bot process that prints ``ready`` once it polls; terminated at the end."""
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, **env}
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the bot did not start")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
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


def run_backend(
    backend: str, db_url: str, args: argparse.Namespace
) -> tuple[list[Phase], list[Phase], float]:
    with BotApiDouble() as api, tempfile.TemporaryDirectory() as folder:
        groups = content_dir(Path(folder), args.groups)
        group_set = set(groups)
        case_buyers = [FIRST_BUYER + n for n in range(args.buyers)]
        faq_buyers = [FIRST_BUYER + args.buyers + n for n in range(FAQ_POOL)]
        shop = {b: n % args.groups for n, b in enumerate(case_buyers + faq_buyers)}
        for buyer in case_buyers + faq_buyers:
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        for n, chat in enumerate(groups):
            title = f"Lotus Wear {n + 1} support"
            api.add_group(chat, title, is_forum=True, members=[STAFF_MEMBER])
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        rec = Recorder(api)
        env = {} if args.telegram_pacing else dict(UNPACED_ENV)
        env["SELLERDESK_MATCHER"] = args.matcher
        if args.profile:
            env = {**env, "SELLERDESK_PROFILE": f"{args.profile}.{backend.lower()}"}

        def start_text(buyer: int) -> list[str]:
            n = shop[buyer]
            return [f"/start {SELLER}" if n == 0 else f"/start {SELLER}-{n + 1}"]

        with _bots(api, db_url, Path(folder), env, args.webhooks) as bots:

            def measure(name: str, how: str, send: Callable[..., None], timeout: float) -> Phase:
                return _measure(name, api, rec, bots, how, group_set, send, timeout)

            phases = [
                measure("start (warm-up)", "first", burst(case_buyers, start_text), args.timeout),
                measure("start (warm-up)", "first", burst(faq_buyers, start_text), args.timeout),
                measure(
                    "FAQ answer",
                    "answer",
                    burst(case_buyers, lambda b: [FAQ_QUESTION]),
                    args.timeout,
                ),
                measure(
                    "case opened, copy in topic",
                    "topic",
                    burst(case_buyers, lambda b: [CASE_QUESTION]),
                    args.timeout,
                ),
            ]
            relays = [f"дополнение {n}" for n in range(args.relays)]
            phases.append(
                measure(
                    "relay, copy in topic",
                    "topic",
                    burst(case_buyers, lambda b: relays),
                    args.timeout,
                )
            )
            steady = [
                measure(
                    f"FAQ answer at {args.faq_rate:g}/s",
                    "answer",
                    open_loop(faq_buyers, lambda n: FAQ_QUESTION, args.faq_rate, args.seconds, 1),
                    DRAIN_S,
                ),
                measure(
                    f"relay at {args.relay_rate:g}/s",
                    "topic",
                    open_loop(case_buyers, lambda n: f"ещё {n}", args.relay_rate, args.seconds, 2),
                    DRAIN_S,
                ),
            ]
            if args.step:
                steady += step(measure, faq_buyers, args)
            rss = max(_peak_rss_mib(pid) for pid in bots.pids)
        return phases, steady, rss


def run_baseline(args: argparse.Namespace) -> list[Phase]:
    """The same FAQ load (a burst, then the open loop) against a bare PTB bot that
    answers every message with a fixed reply (``bench.echo_bot``)."""
    with BotApiDouble() as api:
        buyers = [FIRST_BUYER + n for n in range(args.buyers)]
        pool = [FIRST_BUYER + args.buyers + n for n in range(FAQ_POOL)]
        for buyer in buyers + pool:
            api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
        rec = Recorder(api)
        command = [sys.executable, "-m", "bench.echo_bot", api.url, api.token]
        with _process(command, {}) as proc:

            def measure(name: str, send: Callable[..., None], timeout: float) -> Phase:
                bots = Bots([proc.pid])
                return _measure(name, api, rec, bots, "answer", set(), send, timeout)

            question = burst(buyers, lambda b: [FAQ_QUESTION])
            return [
                measure("answer (warm-up)", burst(pool, lambda b: [FAQ_QUESTION]), args.timeout),
                measure("FAQ answer", question, args.timeout),
                measure(
                    f"FAQ answer at {args.faq_rate:g}/s",
                    open_loop(pool, lambda n: FAQ_QUESTION, args.faq_rate, args.seconds, 1),
                    DRAIN_S,
                ),
            ]


def against_baseline(name: str, phases: list[Phase], baseline: list[Phase]) -> list[str]:
    """The desk's CPU per answer over the bare bot's, phase by phase (same names)."""
    bare = {p.name: p for p in baseline}
    lines = []
    for phase in phases:
        base = bare.get(phase.name)
        if base is not None:
            ratio = phase.cpu_ms / base.cpu_ms
            lines.append(
                f"| {name} | {phase.name} | {phase.cpu_ms:.1f} | {base.cpu_ms:.1f} | ×{ratio:.2f} |"
            )
    return lines


def step(
    measure: Callable[[str, str, Callable[..., None], float], Phase],
    buyers: list[int],
    args: argparse.Namespace,
) -> list[Phase]:
    """FAQ questions at rising rates until p99 reaches the limit or one goes missing."""
    phases = []
    for n, rate in enumerate(float(r) for r in args.steps.split(",")):
        phase = measure(
            f"step: FAQ at {rate:g}/s",
            "answer",
            open_loop(buyers, lambda i: FAQ_QUESTION, rate, args.step_seconds, 10 + n),
            DRAIN_S,
        )
        phases.append(phase)
        if phase.missing or phase.p99 >= args.p99_ms:
            break
    return phases


def sustained(phases: list[Phase], p99_ms: float) -> str:
    ok = [p for p in phases if p.name.startswith("step") and not p.missing and p.p99 < p99_ms]
    if not ok:
        return "none of the steps"
    best = max(ok, key=lambda p: p.offered_per_s)
    return f"{best.name.split(' at ')[1]} (answered {best.rate:.0f}/s, p99 {best.p99:.0f} ms)"


HEADER = [
    "| database | phase | messages | offered/s | updates/s | p50 ms | p99 ms | missing | bot CPU "
    "| CPU ms/msg |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--buyers", type=int, default=200, help="buyers of the bursts")
    parser.add_argument("--relays", type=int, default=2, help="follow-up messages per buyer")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per burst at most")
    parser.add_argument("--groups", type=int, default=3, help="shops, one staff group each")
    parser.add_argument("--faq-rate", type=float, default=200, help="open loop, questions/s")
    parser.add_argument("--relay-rate", type=float, default=100, help="open loop, relays/s")
    parser.add_argument("--seconds", type=float, default=5, help="open loop duration")
    parser.add_argument("--step", action="store_true", help="find the highest FAQ rate")
    parser.add_argument("--steps", default="50,100,150,200,250,300,400")
    parser.add_argument("--step-seconds", type=float, default=3)
    parser.add_argument("--p99-ms", type=float, default=100)
    parser.add_argument(
        "--telegram-pacing", action="store_true", help="keep the bot's default pacing"
    )
    parser.add_argument("--profile", help="cProfile the bot into PATH.<database>")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--matcher", choices=("fuzzy", "hybrid"), default="fuzzy", help="the bot's matcher"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare PTB bot")
    parser.add_argument(
        "--webhooks",
        type=int,
        default=0,
        metavar="N",
        help="N `sellerdesk run --webhook` processes called in turn instead of one "
        "polling process (N > 1: PostgreSQL only)",
    )
    args = parser.parse_args(argv)
    if args.webhooks < 0:
        parser.error("--webhooks must be 0 or more")
    if args.webhooks and args.profile:
        parser.error("--profile profiles the polling process only")
    if args.webhooks > 1 and not args.no_sqlite:
        print("SQLite skipped: several processes share PostgreSQL only", file=sys.stderr)
        args.no_sqlite = True

    backends: list[tuple[str, Callable[[], Any]]] = []
    tmp = tempfile.TemporaryDirectory()
    if not args.no_sqlite:
        backends.append(("SQLite", lambda: _nullcontext(f"sqlite:///{tmp.name}/load.db")))
    if not args.no_postgres:
        from testing.postgres import pg_schema, pg_unavailable

        reason = pg_unavailable()
        if reason:
            print(f"PostgreSQL skipped: {reason}", file=sys.stderr)
        else:
            backends.append(("PostgreSQL", lambda: _pg_url(pg_schema)))

    load_before = os.getloadavg()[0]
    bursts = [
        f"Bursts: {args.buyers} buyers at once, {args.relays} follow-ups each, "
        f"{args.groups} shops; then {FAQ_POOL} more buyers start.",
        "",
        *HEADER,
    ]
    steady = [
        f"Open loop: Poisson arrivals for {args.seconds:g} s ({args.step_seconds:g} s a step), "
        f"answers awaited up to {DRAIN_S:g} s after the last message.",
        "",
        *HEADER,
    ]
    notes: list[str] = []
    baseline = [] if args.no_baseline else run_baseline(args)
    bursts += [phase.row("bare PTB") for phase in baseline[1:2]]
    steady += [phase.row("bare PTB") for phase in baseline[2:]]
    ratios = [
        "CPU per answer against the bare PTB bot in the same run (`bench.echo_bot`: same "
        "HTTP client and polling, a fixed reply, no database):",
        "",
        "| database | phase | desk CPU ms/msg | bare PTB CPU ms/msg | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    try:
        for name, url_context in backends:
            with url_context() as url:
                phases, open_phases, rss = run_backend(name, url, args)
            bursts += [phase.row(name) for phase in phases]
            steady += [phase.row(name) for phase in open_phases]
            ratios += against_baseline(name, phases + open_phases, baseline)
            each = " (the largest)" if args.webhooks > 1 else ""
            notes.append(f"{name}: peak RSS of the bot process{each} {rss:.0f} MiB")
            if args.step:
                notes.append(
                    f"{name}: highest FAQ rate with p99 < {args.p99_ms:g} ms: "
                    f"{sustained(open_phases, args.p99_ms)}"
                )
    finally:
        tmp.cleanup()
    pacing = "Telegram's" if args.telegram_pacing else "far above Telegram's (the bot alone)"
    if args.webhooks:
        mode = (
            f"{args.webhooks} `sellerdesk run --webhook` process(es) called in turn "
            f"over {WEBHOOK_CONNECTIONS} connections in all"
        )
    else:
        mode = "bot in its own process, polling"
    print(
        f"Load: {mode}; Bot API double and buyers in another process, loopback, "
        f"{os.cpu_count()} CPU(s), load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after; pacing {pacing}; matcher {args.matcher}."
    )
    comparison = ["", *ratios] if baseline else []
    print("\n".join(["", *bursts, "", *steady, *comparison, "", *notes]))
    return 0


@contextmanager
def _nullcontext(url: str) -> Iterator[str]:
    yield url


@contextmanager
def _pg_url(pg_schema: Callable[[str], Any]) -> Iterator[str]:
    from sellerdesk.bot.database import Database

    with pg_schema("sdload") as url:
        text = url.render_as_string(hide_password=False)
        db = Database(text)
        db.prepare()
        db.dispose()
        yield text


if __name__ == "__main__":
    sys.exit(main())
