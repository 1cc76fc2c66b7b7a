"""Webhook mode as production runs it: ``sellerdesk run --webhook`` in its own process,
updates POSTed to its port. Only requests carrying the secret are processed; the
health endpoint reports the database and Telegram."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from sellerdesk.cli import EXIT_USAGE, main
from testing.botapi import BotApiDouble
from testing.processes import free_port as _free_port
from testing.processes import health as _health
from tests.e2e.harness import BUYER, DEMO

ROOT = Path(__file__).resolve().parents[3]
SECRET = "s3cret-Token_for-tests-0123456789abcdef"
PATH = "/telegram"
START_TIMEOUT_S = 30
#: How long a refused update is given to show an effect it must not have.
QUIET_S = 1.0


def _post(port: int, update: dict[str, Any] | bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{PATH}", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _health_until(port: int, status: int, timeout: float = 10) -> tuple[int, dict[str, Any]]:
    """The first health report with ``status`` (reports are reused for a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        found = _health(port)
        if found[0] == status or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _wait_healthy(proc: subprocess.Popen[bytes], port: int) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the bot exited"
        try:
            status, body = _health(port)
        except OSError:
            time.sleep(0.1)
            continue
        if status == 200:
            return body
        time.sleep(0.1)
    raise AssertionError("the health endpoint never said ok")


def test_webhook_refuses_updates_without_the_secret(api: BotApiDouble, tmp_path: Path) -> None:
    port, health_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
        "CONTENT_DIR": str(DEMO),
        "MATCHER": "fuzzy",
        "SECRET_KEY": "test-secret",
        "WEBHOOK_URL": "https://desk.example.com/telegram",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_PATH": PATH,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HEALTH_PORT": str(health_port),
    }
    command = [sys.executable, "-m", "sellerdesk", "run", "--webhook"]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    try:
        body = _wait_healthy(proc, health_port)
        assert body["database"]["ok"] and body["telegram"]["ok"]
        # Registered once the server listens (so Telegram's first POST finds it).
        registered = api.wait_for(lambda: api.calls_to("setWebhook"), 10, "setWebhook")[-1]
        assert registered["url"] == env["WEBHOOK_URL"]
        assert registered["secret_token"] == SECRET

        start = api.user_sends_text(BUYER, "/start lotus-wear")
        update = {"update_id": start.update_id, "message": start.json()}
        assert _post(port, update, None) == 403
        assert _post(port, update, "wrong-secret") == 403
        time.sleep(QUIET_S)
        assert api.messages_in(BUYER) == []  # refused: not processed, not answered

        # With the secret, what is not an update is refused, and nothing is done.
        assert _post(port, b"not json", SECRET) == 400
        assert _post(port, {"no": "update_id"}, SECRET) == 400
        assert _post(port, b"x" * (2 << 20), SECRET) == 413
        assert _post(port, update, SECRET) == 200
        greeting = api.wait_for_message(BUYER, count=1, timeout=10)
        assert greeting.text and "Lotus" in greeting.text
        # Once the greeting's send is recorded, nothing is due any more.
        deadline = time.monotonic() + 10
        while _health(health_port)[1]["database"]["delivery"]["unsent_due"]:
            assert time.monotonic() < deadline, "the greeting's row stayed unsent"
            time.sleep(0.05)

        # Telegram unreachable (every getMe fails): the process says so, with 503.
        # (A report is reused for a moment: a flood of probes costs nothing.)
        api.fail("getMe", 502, times=None)
        status, body = _health_until(health_port, 503)
        assert status == 503
        assert body == {
            "ok": False,
            "database": {
                "ok": True,
                "delivery": body["database"]["delivery"],
                "inbox": {"waiting": 0, "parked": 0},
            },
            "telegram": {"ok": False, "error": body["telegram"]["error"]},
        }
        assert body["database"]["delivery"]["senders"] == 1  # this process's sender
        api.clear_faults()
        assert _health_until(health_port, 200)[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert api.token.encode() not in err  # the token never reaches the log
    assert SECRET.encode() not in err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEBHOOK_URL": "https://desk.example.com/telegram"}, "WEBHOOK_SECRET is required"),
        ({"WEBHOOK_SECRET": "x y"}, "WEBHOOK_SECRET may hold only"),
        ({"WEBHOOK_SECRET": "ok"}, "WEBHOOK_SECRET must be at least 32"),
        ({"WEBHOOK_SECRET": "replace-me"}, "WEBHOOK_SECRET must be at least 32"),
        ({"WEBHOOK_SECRET": "a" * 31}, "WEBHOOK_SECRET must be at least 32"),
        ({"WEBHOOK_SECRET": SECRET}, "WEBHOOK_URL must be the public https URL"),
        ({"WEBHOOK_PORT": "http"}, "WEBHOOK_PORT must be a port number"),
    ],
)
def test_webhook_settings_are_checked_before_starting(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_PORT", "WEBHOOK_HEALTH_PORT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["run", "--webhook"]) == EXIT_USAGE
    assert message in capsys.readouterr().err
