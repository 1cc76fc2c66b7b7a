"""Settings of the bot processes the tests and the load benchmark start
(``testing.crash_runner``, ``testing.sla_runner``, ``sellerdesk run --webhook``): a fixed
admin chat and secret, the fuzzy matcher unless told otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sellerdesk.bot.settings import Pacing, Settings

ADMIN_CHAT = -1009000000009

#: Rates far above what a scenario sends: Telegram's limits are not what e2e tests test.
UNPACED = Pacing(
    global_rate=100_000,
    chat_rate=10_000,
    chat_burst=1_000,
    group_rate_per_min=600_000,
    group_burst=1_000,
)
#: The same as the environment of a bot process (``TELEGRAM_GLOBAL_RATE`` and friends).
UNPACED_ENV = {
    "TELEGRAM_GLOBAL_RATE": str(UNPACED.global_rate),
    "TELEGRAM_CHAT_RATE": str(UNPACED.chat_rate),
    "TELEGRAM_CHAT_BURST": str(UNPACED.chat_burst),
    "TELEGRAM_GROUP_RATE": str(UNPACED.group_rate_per_min),
    "TELEGRAM_GROUP_BURST": str(UNPACED.group_burst),
}


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


def webhook_env(
    api_url: str,
    token: str,
    database_url: str,
    content_dir: Path,
    port: int,
    health_port: int,
    secret: str,
    path: str,
) -> dict[str, str]:
    """The environment of a ``sellerdesk run --webhook`` process on loopback: the Bot
    API double, one database, the webhook on ``port`` and its health endpoint."""
    return {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": database_url,
        "CONTENT_DIR": str(content_dir),
        "ADMIN_CHAT_ID": str(ADMIN_CHAT),
        "WEBHOOK_URL": "https://desk.example.com/telegram",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_PATH": path,
        "WEBHOOK_SECRET": secret,
        "WEBHOOK_HEALTH_PORT": str(health_port),
    }
