"""Settings of the bot processes the tests and the load benchmark start
(``tests.crash_runner``, ``tests.sla_runner``): a fixed admin chat and secret, the
fuzzy matcher unless told otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.settings import Settings

ADMIN_CHAT = -1009000000009


def runner_settings(
    api_url: str, token: str, database_url: str, content_dir: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "token": token,
        "api_url": api_url,
        "database_url": database_url,
        "content_dir": Path(content_dir),
        "admin_chat_id": ADMIN_CHAT,
        "admin_user_ids": frozenset(),
        "matcher": "fuzzy",
        "secret_key": "test-secret",
    }
    return Settings(**{**values, **overrides})
