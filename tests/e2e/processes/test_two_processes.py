"""Two real ``sellerdesk run --webhook`` processes behind one round-robin balancer, on
one PostgreSQL database, as production runs them.

Telegram's part is played by the Bot API double (what the bot calls) and by the test
(it posts each update to the balancer's URL with the secret header, as Telegram posts
to a webhook). The balancer sends each request to the next process, and some updates
to both of them at once: Telegram delivering again an update whose answer it did not
get in time. Buyers write in parallel; staff answer in the topics; one case is left
unanswered past its deadline while both processes sweep.

Buyers here write their next message once the previous one was relayed, as people do.
A second test has one buyer write fast, each update to the other process, each posted
once the previous one was answered (as Telegram does for one chat): the topic shows
them in order because a process answers only once the update is handled.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sellerdesk.bot.database import Database
from sellerdesk.storage.models import ProcessedUpdate
from testing.botapi import BotApiDouble, StoredMessage
from testing.botapi.webhook import SECRET_HEADER, post_update, webhook_update
from testing.postgres import pg_schema
from testing.processes import free_port as _free_port
from testing.processes import health as _health
from testing.processes import wait_ready
from testing.runner_settings import webhook_env
from tests.e2e.harness import ADMIN_CHAT, DEMO, STAFF, SUPPORT, shows

ROOT = Path(__file__).resolve().parents[3]
SECRET = "two_processes-Secret-4242-0123456789abcdef"
PATH = "/telegram"
QUESTION = "Можете сшить костюм на заказ для свадьбы?"
#: Buyers of the demo seller, writing at the same time: a question that opens a case,
#: then details; staff answer each case.
BUYERS = [8001 + n for n in range(6)]
DETAILS = 2
#: A second seller whose deadlines pass within seconds; its one case stays unanswered.
FAST_SELLER = "lotus-express"
FAST_SUPPORT = -1001000000002
LATE_BUYER = 8101
#: A buyer whose update comes without the right secret: it must have no effect.
STRANGER = 8201
START_TIMEOUT_S = 60
STEP_TIMEOUT_S = 20
#: After the last effect, how long both processes keep running for a duplicate to
#: show (they sweep deadlines every SLA_TICK_S).
QUIET_S = 1.5
SLA_TICK_S = 0.2
#: Far above what the scenario sends: pacing is not what is tested here.
FAST_PACING_ENV = {
    "TELEGRAM_GLOBAL_RATE": "1000",
    "TELEGRAM_CHAT_RATE": "1000",
    "TELEGRAM_CHAT_BURST": "100",
    "TELEGRAM_GROUP_RATE": "60000",
    "TELEGRAM_GROUP_BURST": "100",
}
#: Request headers a proxy does not pass on as they are.
HOP_HEADERS = frozenset({"host", "content-length", "connection", "keep-alive"})


# ---------------------------------------------------------------------- the balancer


class Balancer:
    """A round-robin HTTP proxy on loopback in front of the bot processes.

    Each POST goes to the next backend with its headers (the secret among them) and
    the backend's status goes back. An update whose id is in :attr:`to_both` goes to
    every backend at once, as when Telegram delivers again an update it got no
    answer for.
    """

    def __init__(self, backend_ports: list[int]) -> None:
        self.backend_ports = backend_ports
        self.to_both: set[int] = set()
        #: (update_id, backend index, status) for every forwarded request.
        self.forwarded: list[tuple[int, int, int]] = []
        self._next = 0
        self._lock = threading.Lock()
        self._server = _BalancerServer(("127.0.0.1", 0), self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def forward(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        update_id = int(json.loads(body).get("update_id", 0))
        with self._lock:
            first = self._next
            self._next = (self._next + 1) % len(self.backend_ports)
            both = update_id in self.to_both
        targets = [(first + n) % len(self.backend_ports) for n in range(2 if both else 1)]
        with ThreadPoolExecutor(len(targets)) as pool:
            statuses = list(pool.map(lambda b: self._send(b, path, body, headers), targets))
        with self._lock:
            self.forwarded += [(update_id, b, s) for b, s in zip(targets, statuses, strict=True)]
        return statuses[0]

    def _send(self, backend: int, path: str, body: bytes, headers: dict[str, str]) -> int:
        url = f"http://127.0.0.1:{self.backend_ports[backend]}{path}"
        try:
            return post_update(url, json.loads(body), None, headers=headers)
        except OSError:
            return 502


class _BalancerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], balancer: Balancer) -> None:
        self.balancer = balancer
        super().__init__(address, _BalancerHandler)


class _BalancerHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        balancer = self.server.balancer  # type: ignore[attr-defined]
        status = balancer.forward(self.path, body, headers)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


# ---------------------------------------------------------------------- the processes


def _content(tmp_path: Path) -> Path:
    """The demo seller, and a copy of it whose deadlines pass within seconds."""
    content = tmp_path / "sellers"
    shutil.copytree(DEMO / "lotus-wear", content / "lotus-wear")
    fast = content / FAST_SELLER
    shutil.copytree(DEMO / "lotus-wear", fast)
    seller = (fast / "seller.yaml").read_text(encoding="utf-8")
    seller = seller.replace("name: Lotus Wear", "name: Lotus Express")
    seller = seller.replace(f"support_chat_id: {SUPPORT}", f"support_chat_id: {FAST_SUPPORT}")
    seller = seller.replace("first_reply: 24h", "first_reply: 3s")
    seller = seller.replace("remind_after: [2h, 12h, 20h]", "remind_after: [1s]")
    seller = seller.replace("escalate_after: 24h", "escalate_after: 2s")
    assert "remind_after: [1s]" in seller and str(FAST_SUPPORT) in seller
    (fast / "seller.yaml").write_text(seller, encoding="utf-8")
    return content


@contextmanager
def _processes(
    api: BotApiDouble, db_url: str, content: Path, tmp_path: Path, count: int = 2
) -> Iterator[list[tuple[int, int]]]:
    """``count`` webhook processes; yields their (webhook port, health port) once every
    one says it is healthy. SIGTERM at the end: each must exit cleanly."""
    ports = [(_free_port(), _free_port()) for _ in range(count)]
    procs: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"bot-{n}.log" for n in range(count)]
    try:
        for (port, health_port), log_path in zip(ports, logs, strict=True):
            env = {
                **os.environ,
                **FAST_PACING_ENV,
                **webhook_env(api.url, api.token, db_url, content, port, health_port, SECRET, PATH),
                "PYTHONPATH": str(ROOT),
                "MATCHER": "fuzzy",
                "SLA_TICK_SECONDS": str(SLA_TICK_S),
            }
            env.pop("SECRET_KEY", None)  # the alias key: made once, kept in the database
            with log_path.open("wb") as log_file:
                command = [sys.executable, "-m", "sellerdesk", "run", "--webhook"]
                procs.append(subprocess.Popen(command, cwd=tmp_path, env=env, stderr=log_file))
        for proc, (port, health_port) in zip(procs, ports, strict=True):
            wait_ready(proc, port, health_port, START_TIMEOUT_S)
        yield ports
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            assert proc.wait(timeout=30) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for log_path in logs:
        text = log_path.read_bytes()
        assert api.token.encode() not in text and SECRET.encode() not in text
        assert b"Traceback" not in text, text.decode(errors="replace")[-3000:]


# ---------------------------------------------------------------------- people


class Telegram:
    """Delivers the double's updates to the balancer, as Telegram calls a webhook."""

    def __init__(self, api: BotApiDouble, balancer: Balancer) -> None:
        self.api = api
        self.balancer = balancer
        self.delivered: list[int] = []
        self._lock = threading.Lock()

    def deliver(self, message: StoredMessage, *, twice: bool = False) -> None:
        update_id = _update_id(message)
        if twice:
            self.balancer.to_both.add(update_id)
        update = webhook_update(self.api, update_id)
        assert post_update(self.balancer.url, update, SECRET) == 200
        with self._lock:
            self.delivered.append(update_id)

    def wait(self, predicate: Callable[[], Any], what: str) -> Any:
        return self.api.wait_for(predicate, STEP_TIMEOUT_S, what)


def _update_id(message: StoredMessage) -> int:
    assert message.update_id is not None, "not a message the double delivers"
    return message.update_id


def _copies(api: BotApiDouble, chat_id: int, source: StoredMessage) -> list[StoredMessage]:
    """The staff messages that show ``source``: its copy, the card carrying a first
    question, or a message folding it with others."""
    return [m for m in api.messages_in(chat_id) if shows(m, source)]


def _buyer_story(tg: Telegram, buyer: int, n: int) -> tuple[list[StoredMessage], str]:
    """A buyer opens a case and adds details; staff answer in the topic. Every third
    update or so reaches both processes. Returns the buyer's case messages and the
    answer."""
    api = tg.api
    tg.deliver(api.user_sends_text(buyer, "/start lotus-wear"), twice=n % 3 == 0)
    tg.wait(lambda: api.messages_in(buyer), f"greeting of {buyer}")
    sent = [api.user_sends_text(buyer, f"{QUESTION} ({buyer})")]
    tg.deliver(sent[0], twice=n % 2 == 0)
    copy = tg.wait(lambda: _copies(api, SUPPORT, sent[0]), f"case of {buyer}")[0]
    for detail in range(DETAILS):
        sent.append(api.user_sends_text(buyer, f"деталь {detail} от {buyer}"))
        tg.deliver(sent[-1], twice=(n + detail) % 2 == 1)
        tg.wait(lambda: _copies(api, SUPPORT, sent[-1]), f"detail {detail} of {buyer}")
    answer = f"Ответ покупателю {buyer}: да, сошьём"
    tg.deliver(api.member_sends_text(SUPPORT, STAFF, answer, copy.thread_id), twice=True)
    tg.wait(lambda: [m for m in api.messages_in(buyer) if m.text == answer], f"answer to {buyer}")
    return sent, answer


def _late_case(tg: Telegram) -> StoredMessage:
    """A buyer of the fast seller asks; nobody answers; both processes sweep."""
    api = tg.api
    tg.deliver(api.user_sends_text(LATE_BUYER, f"/start {FAST_SELLER}"))
    tg.wait(lambda: api.messages_in(LATE_BUYER), "greeting of the late buyer")
    question = api.user_sends_text(LATE_BUYER, QUESTION)
    tg.deliver(question, twice=True)
    tg.wait(lambda: _copies(api, FAST_SUPPORT, question), "the late case")
    tg.wait(lambda: api.messages_in(ADMIN_CHAT), "the escalation to the admin chat")
    tg.wait(lambda: _offers(api), "the offer to complain")
    return question


def _offers(api: BotApiDouble) -> list[StoredMessage]:
    return [
        m
        for m in api.messages_in(LATE_BUYER)
        if any(str(b.get("callback_data", "")).startswith("complain:") for b in m.buttons)
    ]


# ---------------------------------------------------------------------- the test


@pytest.fixture
def people(api: BotApiDouble) -> BotApiDouble:
    for buyer in [*BUYERS, LATE_BUYER, STRANGER]:
        api.add_user(buyer, f"Buyer {buyer}", language_code="ru")
    api.add_group(FAST_SUPPORT, "Lotus Express support", is_forum=True, members=[STAFF])
    return api


def test_two_webhook_processes_behind_a_balancer(people: BotApiDouble, tmp_path: Path) -> None:
    api = people
    content = _content(tmp_path)
    with pg_schema("sdtwo") as url:
        db_url = url.render_as_string(hide_password=False)
        db = Database(db_url)
        db.prepare()  # migrated once here: two processes migrating at once would race
        try:
            with _processes(api, db_url, content, tmp_path) as ports:
                _refused_without_the_secret(api, ports)
                for _, health_port in ports:
                    status, body = _health(health_port)
                    assert status == 200 and body["ok"], body
                balancer = Balancer([port for port, _ in ports])
                balancer.start()
                tg = Telegram(api, balancer)
                try:
                    with ThreadPoolExecutor(len(BUYERS) + 1) as pool:
                        late = pool.submit(_late_case, tg)
                        stories = list(pool.map(lambda b: _buyer_story(tg, *b), _numbered()))
                        late_question = late.result()
                    time.sleep(QUIET_S)  # a duplicate, if any, has time to show
                finally:
                    balancer.stop()
            with db.transaction() as session:
                processed = session.scalar(select(func.count()).select_from(ProcessedUpdate))
        finally:
            db.dispose()

    # Every buyer message reached its topic once, in the order written; every staff
    # answer reached its buyer once.
    for (sent, answer), buyer in zip(stories, BUYERS, strict=True):
        copies = [_copies(api, SUPPORT, m) for m in sent]
        assert [len(c) for c in copies] == [1] * len(sent), (buyer, copies)
        ids = [c[0].message_id for c in copies]
        assert ids == sorted(ids)
        assert len({c[0].thread_id for c in copies}) == 1
        assert [m.text for m in api.messages_in(buyer)].count(answer) == 1
    # One reminder and one escalation in the late case's topic, one message to the
    # admin chat, one offer to complain to its buyer.
    late_topic = api.messages_in(FAST_SUPPORT)
    assert len(_copies(api, FAST_SUPPORT, late_question)) == 1
    assert sum((m.text or "").startswith("⏰") for m in late_topic) == 1, late_topic
    assert sum((m.text or "").startswith("🚨") for m in late_topic) == 1, late_topic
    assert len(api.messages_in(ADMIN_CHAT)) == 1
    assert len(_offers(api)) == 1
    # Updates delivered twice did reach both processes (and were handled once).
    twice = {
        u for u, _, _ in balancer.forwarded if [f[0] for f in balancer.forwarded].count(u) == 2
    }
    assert twice and all(
        {b for u2, b, s in balancer.forwarded if u2 == u and s == 200} == {0, 1} for u in twice
    )
    assert {b for _, b, _ in balancer.forwarded} == {0, 1}  # both did work
    assert processed == len(set(tg.delivered))
    assert api.messages_in(STRANGER) == []


def _numbered() -> list[tuple[int, int]]:
    return [(buyer, n) for n, buyer in enumerate(BUYERS)]


def _refused_without_the_secret(api: BotApiDouble, ports: list[tuple[int, int]]) -> None:
    """Each process answers 403 to an update without the secret or with a wrong one."""
    message = api.user_sends_text(STRANGER, "/start lotus-wear")
    update = webhook_update(api, _update_id(message))
    for port, _ in ports:
        url = f"http://127.0.0.1:{port}{PATH}"
        assert post_update(url, update, None) == 403
        assert post_update(url, update, "not-the-secret") == 403
        assert post_update(url, update, None, headers={SECRET_HEADER: SECRET[:-1]}) == 403


def test_a_chats_updates_keep_their_order_across_two_processes(
    people: BotApiDouble, tmp_path: Path
) -> None:
    # Telegram sends a chat's next update once the previous one is answered, and each
    # process answers once the update is handled: a buyer writing fast, with every
    # update going to the other process, still reaches the topic in order.
    api = people
    buyer = 8301
    api.add_user(buyer, "Fast typist", language_code="ru")
    content = _content(tmp_path)
    with pg_schema("sdorder") as url:
        db_url = url.render_as_string(hide_password=False)
        db = Database(db_url)
        db.prepare()
        try:
            with _processes(api, db_url, content, tmp_path) as ports:
                urls = [f"http://127.0.0.1:{port}{PATH}" for port, _ in ports]

                def deliver(message: StoredMessage, n: int) -> None:
                    update = webhook_update(api, _update_id(message))
                    assert post_update(urls[n % 2], update, SECRET) == 200

                deliver(api.user_sends_text(buyer, "/start lotus-wear"), 0)
                question = api.user_sends_text(buyer, QUESTION)
                deliver(question, 1)
                sent = [question]
                for n in range(8):  # no waiting for copies: only for each answer
                    sent.append(api.user_sends_text(buyer, f"подробность {n}"))
                    deliver(sent[-1], n)
                api.wait_for(
                    lambda: all(_copies(api, SUPPORT, m) for m in sent),
                    STEP_TIMEOUT_S,
                    "every message in the topic",
                )
                copies = [c for m in sent for c in _copies(api, SUPPORT, m)]
        finally:
            db.dispose()
    assert len(copies) == len(sent)
    ids = [c.message_id for c in copies]
    assert ids == sorted(ids), "the topic shows the buyer's messages out of order"
