"""Settings from the environment and an optional ``.env`` file (see ``.env.example``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from faq.content import parse_duration

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite:///./data/sellerdesk.db"
DEFAULT_CONTENT_DIR = "./examples/sellers"
DEFAULT_CACHE_DIR = "./data/cache"
MATCHERS = ("fuzzy", "hybrid")
#: Seconds between deadline sweeps. Deadlines are hours in production; a few seconds
#: keeps a reminder within seconds of due at the cost of one cheap indexed query.
DEFAULT_SLA_TICK_S = 5.0
#: Seconds a buyer may stay silent in the middle of /return before the flow lapses:
#: long enough to find an order number and take photos, short enough that a message
#: the next day is not read as an answer to a forgotten question.
DEFAULT_RETURN_FLOW_TIMEOUT_S = 30 * 60.0
#: Seconds an outbox row stays claimed by one worker (see storage.repo.outbox).
DEFAULT_OUTBOX_LEASE_S = 60.0
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
#: One of the ports Telegram delivers webhooks to (443, 80, 88, 8443); behind nginx
#: any port works, this one is only the default.
DEFAULT_WEBHOOK_PORT = 8443
DEFAULT_WEBHOOK_PATH = "/telegram"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines; ``#`` comments, blank lines and optional quotes allowed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


@dataclass(frozen=True)
class Settings:
    token: str
    api_url: str
    database_url: str
    content_dir: Path
    admin_chat_id: int | None
    admin_user_ids: frozenset[int]
    #: ``fuzzy``, ``hybrid``, or None: hybrid where the sentence encoders are installed.
    matcher: str | None = None
    #: Where passage embeddings are cached between runs.
    cache_dir: Path = Path(DEFAULT_CACHE_DIR)
    #: Key of the buyer aliases staff see ("Buyer #A7F3"). Empty: a key generated on
    #: first start and kept in the database (table ``desk_settings``).
    secret_key: str = ""
    #: Seconds between deadline sweeps (``SLA_TICK_SECONDS``).
    sla_tick_seconds: float = DEFAULT_SLA_TICK_S
    #: Seconds of buyer silence after which a /return flow lapses (``RETURN_FLOW_TIMEOUT``).
    return_flow_timeout_seconds: float = DEFAULT_RETURN_FLOW_TIMEOUT_S
    #: Seconds a claimed outbox row stays one worker's (``OUTBOX_LEASE_SECONDS``): after
    #: a crash, the rows it had in flight are sent again this long later.
    outbox_lease_seconds: float = DEFAULT_OUTBOX_LEASE_S
    #: Webhook mode (``sellerdesk run --webhook``): the public https URL Telegram calls
    #: (``WEBHOOK_URL``), the local address and port to listen on, the secret Telegram
    #: sends in ``X-Telegram-Bot-Api-Secret-Token`` and the local path.
    webhook_url: str = ""
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    webhook_secret: str = ""
    webhook_path: str = DEFAULT_WEBHOOK_PATH
    #: Port of the health endpoint (``WEBHOOK_HEALTH_PORT``); 0: no health endpoint.
    webhook_health_port: int = 0

    def __repr__(self) -> str:  # the token must never reach a log
        return (
            f"Settings(token=***, api_url={self.api_url!r}, database_url="
            f"{_hide_password(self.database_url)!r}, content_dir={str(self.content_dir)!r})"
        )


def _hide_password(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def load_settings(env: dict[str, str] | None = None, env_file: Path = Path(".env")) -> Settings:
    """Read settings; the environment wins over ``.env``.

    Raises:
        SettingsError: a value is malformed (the token is checked only by ``run``).
    """
    merged = read_env_file(env_file)
    merged.update(os.environ if env is None else env)

    def get(key: str, default: str = "") -> str:
        return merged.get(key, "").strip() or default

    admin_chat = get("ADMIN_CHAT_ID")
    try:
        admin_chat_id = int(admin_chat) if admin_chat else None
    except ValueError as exc:
        raise SettingsError(
            f"ADMIN_CHAT_ID must be a chat id (a number), not {admin_chat!r}"
        ) from exc
    try:
        admin_ids = frozenset(
            int(part) for part in get("ADMIN_USER_IDS").replace(";", ",").split(",") if part.strip()
        )
    except ValueError as exc:
        raise SettingsError("ADMIN_USER_IDS must be Telegram user ids separated by commas") from exc
    matcher = get("MATCHER").lower() or None
    if matcher is not None and matcher not in MATCHERS:
        raise SettingsError(f"MATCHER must be one of {', '.join(MATCHERS)}, not {matcher!r}")
    tick = get("SLA_TICK_SECONDS", str(DEFAULT_SLA_TICK_S))
    try:
        sla_tick = float(tick)
    except ValueError:
        sla_tick = 0.0
    if not sla_tick > 0:
        raise SettingsError(f"SLA_TICK_SECONDS must be a positive number of seconds, not {tick!r}")
    timeout_text = get("RETURN_FLOW_TIMEOUT", str(DEFAULT_RETURN_FLOW_TIMEOUT_S))
    try:
        return_timeout = float(timeout_text)
    except ValueError:
        parsed = parse_duration(timeout_text)
        return_timeout = parsed.total_seconds() if parsed is not None else 0.0
    if not return_timeout > 0:
        raise SettingsError(
            f"RETURN_FLOW_TIMEOUT must be seconds or a duration such as 30m, not {timeout_text!r}"
        )
    lease_text = get("OUTBOX_LEASE_SECONDS", str(DEFAULT_OUTBOX_LEASE_S))
    try:
        lease = float(lease_text)
    except ValueError:
        lease = 0.0
    if not lease > 0:
        raise SettingsError(f"OUTBOX_LEASE_SECONDS must be a positive number, not {lease_text!r}")
    ports: dict[str, int] = {}
    for key, default in (("WEBHOOK_PORT", DEFAULT_WEBHOOK_PORT), ("WEBHOOK_HEALTH_PORT", 0)):
        value = get(key, str(default))
        try:
            ports[key] = int(value)
        except ValueError:
            ports[key] = -1
        if not 0 <= ports[key] <= 65535:
            raise SettingsError(f"{key} must be a port number, not {value!r}")
    path = get("WEBHOOK_PATH", DEFAULT_WEBHOOK_PATH)
    return Settings(
        outbox_lease_seconds=lease,
        webhook_url=get("WEBHOOK_URL"),
        webhook_listen=get("WEBHOOK_LISTEN", DEFAULT_WEBHOOK_LISTEN),
        webhook_port=ports["WEBHOOK_PORT"],
        webhook_secret=get("WEBHOOK_SECRET"),
        webhook_path="/" + path.strip("/"),
        webhook_health_port=ports["WEBHOOK_HEALTH_PORT"],
        sla_tick_seconds=sla_tick,
        return_flow_timeout_seconds=return_timeout,
        matcher=matcher,
        cache_dir=Path(get("CACHE_DIR", DEFAULT_CACHE_DIR)),
        token=get("TELEGRAM_BOT_TOKEN"),
        api_url=get("TELEGRAM_API_URL", DEFAULT_API_URL).rstrip("/"),
        database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL),
        content_dir=Path(get("CONTENT_DIR", DEFAULT_CONTENT_DIR)),
        admin_chat_id=admin_chat_id,
        admin_user_ids=admin_ids,
        secret_key=get("SECRET_KEY"),
    )
