"""Secrets never reach the log or the terminal, whatever fails."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sellerdesk.app import _configure_logging, redact_secrets
from sellerdesk.bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:SECRET-token-that-must-not-leak"
OZON_KEY = "ozon-api-key-that-must-not-leak"


def test_the_root_handlers_redact_messages_and_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "OZON_API_KEY": OZON_KEY}, Path("-"))
    redact_secrets(settings)
    logger = logging.getLogger("sellerdesk.somewhere")
    try:
        raise RuntimeError(f"http://api/bot{TOKEN}/getMe failed")
    except RuntimeError:
        logger.exception("calling %s with %s", f"bot{TOKEN}", OZON_KEY)
    logging.getLogger("some.library").error("key=%s", OZON_KEY, stack_info=True)
    written = out.getvalue()
    assert "getMe failed" in written and "key=" in written
    assert TOKEN not in written
    assert OZON_KEY not in written


@pytest.mark.parametrize("url", ["http://[bad", "htp:/x y", "http://127.0.0.1:port"])
def test_a_malformed_api_url_is_refused_without_showing_the_token(tmp_path: Path, url: str) -> None:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": url,
        "CONTENT_DIR": str(ROOT / "examples" / "sellers"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
        "MATCHER": "fuzzy",
    }
    done = subprocess.run(
        [sys.executable, "-m", "sellerdesk", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "TELEGRAM_API_URL must be an http(s) URL" in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_the_scheduler_heartbeat_stays_out_of_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [logging.StreamHandler(io.StringIO())])
    scheduler = logging.getLogger("apscheduler")
    monkeypatch.setattr(scheduler, "level", logging.NOTSET)
    _configure_logging(load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, Path("-")))
    job_log = logging.getLogger("apscheduler.executors.default")
    assert not job_log.isEnabledFor(logging.INFO)
    assert job_log.isEnabledFor(logging.WARNING)
