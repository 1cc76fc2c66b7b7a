"""Bot processes under test: free loopback ports, the health endpoint, readiness,
starting and stopping them, and a bot that can be killed and started again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage
from testing.botapi.webhook import ChatOrderedDelivery
from testing.runner_settings import webhook_env

#: The repository root: where ``python -m testing.crash_runner`` runs from.
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(port: int) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of ``GET /health`` on ``port``."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read())


def wait_ready(
    proc: subprocess.Popen[bytes], port: int, health_port: int, timeout_s: float = 60
) -> None:
    """Until the health endpoint says ok and the webhook port takes connections (the
    webhook server starts after the health endpoint)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "a bot process exited at start"
        try:
            if health(health_port)[0] == 200:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("a bot process never became ready")


def start_crash_runner(
    api_url: str,
    token: str,
    database_url: str,
    content_dir: Path,
    lease_s: float,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[str]:
    """A bot process (``testing.crash_runner``) polling ``api_url``, once it says it is
    ready; ``env`` is added to this process's environment (pacing, the polling kind)."""
    command = [sys.executable, "-m", "testing.crash_runner", api_url, token, database_url]
    command += [str(content_dir), str(lease_s)]
    proc = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the bot process did not start")
    return proc


def start_webhook_process(
    settings: Mapping[str, str],
    port: int,
    health_port: int,
    env: Mapping[str, str] | None = None,
    stderr: int | None = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """A ``sellerdesk run --webhook`` process with ``settings`` (see
    ``testing.runner_settings.webhook_env``) once its health endpoint says ok and its
    webhook port takes connections; ``env`` is added to this process's environment."""
    command = [sys.executable, "-m", "sellerdesk", "run", "--webhook"]
    full = {**os.environ, **(env or {}), **settings, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, cwd=ROOT, env=full, stderr=stderr)
    try:
        wait_ready(proc, port, health_port)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def stop_process(proc: subprocess.Popen[Any], timeout_s: float = 30) -> None:
    """SIGTERM, and SIGKILL when it does not end within ``timeout_s``."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class RestartableBot:
    """A bot process that can be killed with SIGKILL and started again on the same
    database (and, for webhooks, the same ports), as the crash tests and ``bench.crash``
    need. ``kind``: ``polling`` (``testing.crash_runner``), ``ptb`` (the same with
    python-telegram-bot's own polling) or ``webhook`` (``sellerdesk run --webhook``,
    Telegram's side played by :class:`testing.botapi.webhook.ChatOrderedDelivery`).
    ``send`` is how a buyer's message reaches it."""

    SECRET = "restartable-bot-Secret-0123456789abcdef"
    PATH = "/telegram"

    def __init__(
        self,
        api: BotApiDouble,
        db_url: str,
        content_dir: Path,
        kind: str = "polling",
        *,
        lease_s: float = 2.0,
        env: Mapping[str, str] | None = None,
        give_up_s: float = 300.0,
    ) -> None:
        self.api = api
        self.db_url = db_url
        self.content_dir = content_dir
        self.kind = kind
        self.lease_s = lease_s
        self.env = dict(env or {})
        self.delivery: ChatOrderedDelivery | None = None
        if kind == "webhook":
            self.port, self.health_port = free_port(), free_port()
            self.settings = {
                **webhook_env(
                    api.url,
                    api.token,
                    db_url,
                    content_dir,
                    self.port,
                    self.health_port,
                    self.SECRET,
                    self.PATH,
                ),
                "MATCHER": "fuzzy",
                "SECRET_KEY": "restartable-bot-key",
                # Rows a killed process had claimed are sent again after this.
                "OUTBOX_LEASE_SECONDS": str(lease_s),
            }
        self.proc = self._start()
        if kind == "webhook":
            url = f"http://127.0.0.1:{self.port}{self.PATH}"
            self.delivery = ChatOrderedDelivery(api, url, self.SECRET, give_up_s=give_up_s)

    def _start(self) -> subprocess.Popen[Any]:
        if self.kind == "webhook":
            return start_webhook_process(self.settings, self.port, self.health_port, self.env)
        env = {**self.env, **({"SELLERDESK_PTB_POLLING": "1"} if self.kind == "ptb" else {})}
        return start_crash_runner(
            self.api.url, self.api.token, self.db_url, self.content_dir, self.lease_s, env
        )

    def send(self, user_id: int, text: str) -> StoredMessage:
        message = self.api.user_sends_text(user_id, text)
        if self.delivery is not None and message.update_id is not None:
            self.delivery.add(user_id, message.update_id)
        return message

    def kill_and_restart(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = self._start()

    def stop(self) -> int:
        """Stop the process (and Telegram's side); returns the updates given up."""
        given_up = self.delivery.close() if self.delivery is not None else 0
        stop_process(self.proc)
        return given_up
