"""Settings from the environment and an optional ``.env`` file (see ``.env.example``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from yarl import URL

from sellerdesk.bot.i18n.catalog import LANGUAGES
from sellerdesk.faq.content.checker import parse_duration

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite:///./data/sellerdesk.db"
DEFAULT_CONTENT_DIR = "./examples/sellers"
DEFAULT_CACHE_DIR = "./data/cache"
MATCHERS = ("fuzzy", "hybrid")
#: Language of the admin chat (``ADMIN_LANGUAGE``). Platform admins of the target
#: marketplace (Ozon) read Russian; one language keeps the chat consistent whichever
#: seller a case is from.
DEFAULT_ADMIN_LANGUAGE = "ru"
#: Seconds between deadline sweeps. Deadlines are hours in production; a few seconds
#: keeps a reminder within seconds of due at the cost of one cheap indexed query.
DEFAULT_SLA_TICK_S = 5.0
#: Seconds a buyer may stay silent in the middle of /return before the flow lapses:
#: long enough to find an order number and take photos, short enough that a message
#: the next day is not read as an answer to a forgotten question.
DEFAULT_RETURN_FLOW_TIMEOUT_S = 30 * 60.0
#: Seconds an outbox row stays claimed by one worker (see storage.repo.outbox).
DEFAULT_OUTBOX_LEASE_S = 60.0
#: Telegram's flood limits, paced by the sender before Telegram has to say 429 (see
#: :class:`Pacing`). Messages a second for the whole bot (paid broadcast raises it).
DEFAULT_GLOBAL_RATE = 30.0
#: Messages a second to one private chat, after a burst of ``DEFAULT_CHAT_BURST``.
DEFAULT_CHAT_RATE = 1.0
DEFAULT_CHAT_BURST = 3
#: Messages a minute to one group (all topics of a supergroup share it), after a burst
#: of ``DEFAULT_GROUP_BURST``: 17 + 3 keeps any minute at Telegram's 20.
DEFAULT_GROUP_RATE_PER_MIN = 17.0
DEFAULT_GROUP_BURST = 3
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
#: One of the ports Telegram delivers webhooks to (443, 80, 88, 8443); behind nginx
#: any port works, this one is only the default.
DEFAULT_WEBHOOK_PORT = 8443
DEFAULT_WEBHOOK_PATH = "/telegram"
# Ozon Seller API (``sellerdesk products import SELLER --ozon-api``).
DEFAULT_OZON_API_URL = "https://api-seller.ozon.ru"
#: Requests a second to the Ozon Seller API. Ozon answers 429 past its per-method
#: limits; 5 a second stays far below them for every method the import uses. The
#: import makes one request per product (its description), so 3,000 products take
#: about 10 minutes.
DEFAULT_OZON_API_RPS = 5.0
DEFAULT_OZON_POLL_S = 15.0
#: Seconds between looks at sellers' Ozon product questions (no push exists for them).
DEFAULT_OZON_QUESTIONS_POLL_S = 60.0
#: Spellings of a yes/no setting (``CONTENT_WATCH``).
SWITCH_ON = ("on", "true", "yes", "1")
SWITCH_OFF = ("off", "false", "no", "0")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Retention:
    """Days each kind of stored text is kept (``RETENTION_*_DAYS``), deleted by the
    retention sweep (``bot.schedule.retention``)."""

    #: Sent outbox rows: the texts sent, a buyer's words copied to staff included.
    sent_days: float = 30
    #: Handled update ids (Telegram redelivers an update within a day at most).
    updates_days: float = 7
    #: The FAQ question log (masked question texts, no Telegram ids); statistics of
    #: answered questions reach back this far.
    questions_days: float = 365
    #: Rating comments on cases.
    comments_days: float = 365
    #: References to return photos (message ids in the buyer's chat).
    photos_days: float = 90


@dataclass(frozen=True)
class Pacing:
    """How fast the outbox sender sends, kept below Telegram's flood limits.

    Token buckets in each process: a chat's bucket holds ``burst`` sends and refills
    at ``rate``; every send also takes one from the bot-wide bucket. These are the
    bot's limits: N processes sending for one bot each pace at a Nth of the bot-wide
    and group rates (``Pacer.share``, N counted from heartbeats in the database).
    """

    #: Sends a second for the whole bot (``TELEGRAM_GLOBAL_RATE``).
    global_rate: float = DEFAULT_GLOBAL_RATE
    #: Sends a second to one private chat (``TELEGRAM_CHAT_RATE``) after a burst
    #: of ``chat_burst`` (``TELEGRAM_CHAT_BURST``).
    chat_rate: float = DEFAULT_CHAT_RATE
    chat_burst: int = DEFAULT_CHAT_BURST
    #: Sends a minute to one group or supergroup, all its topics together
    #: (``TELEGRAM_GROUP_RATE``), after a burst of ``group_burst`` (``TELEGRAM_GROUP_BURST``).
    group_rate_per_min: float = DEFAULT_GROUP_RATE_PER_MIN
    group_burst: int = DEFAULT_GROUP_BURST


#: Environment names of the pacing settings, with their defaults.
PACING_SETTINGS = {
    "TELEGRAM_GLOBAL_RATE": DEFAULT_GLOBAL_RATE,
    "TELEGRAM_CHAT_RATE": DEFAULT_CHAT_RATE,
    "TELEGRAM_CHAT_BURST": DEFAULT_CHAT_BURST,
    "TELEGRAM_GROUP_RATE": DEFAULT_GROUP_RATE_PER_MIN,
    "TELEGRAM_GROUP_BURST": DEFAULT_GROUP_BURST,
}


def load_pacing(env: dict[str, str]) -> Pacing:
    """The sender's pacing from ``env`` (missing or empty names: the defaults).

    Raises:
        SettingsError: a rate is not a positive number or a burst not a whole number >= 1.
    """
    values: dict[str, float] = {}
    for key, default in PACING_SETTINGS.items():
        raw = env.get(key, "").strip()
        is_burst = key.endswith("_BURST")
        try:
            value = float(int(raw)) if raw and is_burst else float(raw or default)
        except ValueError:
            value = 0.0
        if not math.isfinite(value) or not (value >= 1 if is_burst else value > 0):
            kind = "a whole number of messages, at least 1" if is_burst else "a positive number"
            raise SettingsError(f"{key} must be {kind}, not {raw!r}")
        values[key] = value
    return Pacing(
        global_rate=values["TELEGRAM_GLOBAL_RATE"],
        chat_rate=values["TELEGRAM_CHAT_RATE"],
        chat_burst=int(values["TELEGRAM_CHAT_BURST"]),
        group_rate_per_min=values["TELEGRAM_GROUP_RATE"],
        group_burst=int(values["TELEGRAM_GROUP_BURST"]),
    )


def _positive(get: Callable[..., str], key: str, default: float, what: str = "number") -> float:
    """A finite number above zero from setting ``key`` (``default`` when unset).

    Raises:
        SettingsError: anything else, "inf" and "nan" included.
    """
    text = get(key, str(default))
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < math.inf:
        raise SettingsError(f"{key} must be a positive {what}, not {text!r}")
    return value


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
    #: Language of the bot's texts and command menu in the admin chat (``ADMIN_LANGUAGE``).
    admin_language: str = DEFAULT_ADMIN_LANGUAGE
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
    #: How fast the sender sends (``TELEGRAM_GLOBAL_RATE`` and friends, see :class:`Pacing`).
    pacing: Pacing = Pacing()
    #: How long what people wrote is kept (see docs/security.md, "Retention").
    retention: Retention = field(default_factory=lambda: Retention())
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
    #: Reload seller content when its files change (``CONTENT_WATCH``); ``/reload``
    #: in the admin chat works either way.
    content_watch: bool = True

    #: Ozon Seller API keys (``OZON_CLIENT_ID``, ``OZON_API_KEY``; never logged), its
    #: root (``OZON_API_URL``) and the requests a second sent to it (``OZON_API_RPS``).
    ozon_client_id: str = ""
    ozon_api_key: str = ""
    ozon_api_url: str = DEFAULT_OZON_API_URL
    ozon_api_rps: float = DEFAULT_OZON_API_RPS
    #: Seconds between two looks at sellers' Ozon buyer chats (``OZON_POLL_SECONDS``).
    ozon_poll_seconds: float = DEFAULT_OZON_POLL_S
    #: Seconds between two looks at sellers' Ozon product questions
    #: (``OZON_QUESTIONS_POLL_SECONDS``).
    ozon_questions_poll_seconds: float = DEFAULT_OZON_QUESTIONS_POLL_S
    #: Port and path of the Ozon push endpoint (``OZON_PUSH_PORT``, 0: none;
    #: ``OZON_PUSH_PATH``), on ``webhook_listen``.
    ozon_push_port: int = 0
    ozon_push_path: str = "/ozon/push"

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


def _root_url(get: Callable[[str, str], str], key: str, default: str) -> str:
    """An API's root URL, checked here: a malformed one would otherwise fail inside the
    HTTP client with the token (part of every Bot API URL) in the error."""
    value = get(key, default).rstrip("/")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is not a number)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        valid = valid and not any(c.isspace() for c in value) and not parts.query
        URL(value)
    except ValueError:
        valid = False
    if not valid:
        raise SettingsError(f"{key} must be an http(s) URL such as {default}, not {value!r}")
    return value


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
    admin_language = get("ADMIN_LANGUAGE", DEFAULT_ADMIN_LANGUAGE).lower()
    if admin_language not in LANGUAGES:
        raise SettingsError(
            f"ADMIN_LANGUAGE must be one of {', '.join(LANGUAGES)}, not {admin_language!r}"
        )
    matcher = get("MATCHER").lower() or None
    if matcher is not None and matcher not in MATCHERS:
        raise SettingsError(f"MATCHER must be one of {', '.join(MATCHERS)}, not {matcher!r}")
    sla_tick = _positive(get, "SLA_TICK_SECONDS", DEFAULT_SLA_TICK_S, "number of seconds")
    timeout_text = get("RETURN_FLOW_TIMEOUT", str(DEFAULT_RETURN_FLOW_TIMEOUT_S))
    try:
        return_timeout = float(timeout_text)
    except ValueError:
        parsed = parse_duration(timeout_text)
        return_timeout = parsed.total_seconds() if parsed is not None else 0.0
    if not 0 < return_timeout < math.inf:
        raise SettingsError(
            f"RETURN_FLOW_TIMEOUT must be seconds or a duration such as 30m, not {timeout_text!r}"
        )
    lease = _positive(get, "OUTBOX_LEASE_SECONDS", DEFAULT_OUTBOX_LEASE_S)
    keep = Retention()
    retention = Retention(
        sent_days=_positive(get, "RETENTION_SENT_DAYS", keep.sent_days, "number of days"),
        updates_days=max(
            2.0, _positive(get, "RETENTION_UPDATES_DAYS", keep.updates_days, "number of days")
        ),
        questions_days=_positive(
            get, "RETENTION_QUESTIONS_DAYS", keep.questions_days, "number of days"
        ),
        comments_days=_positive(
            get, "RETENTION_COMMENTS_DAYS", keep.comments_days, "number of days"
        ),
        photos_days=_positive(get, "RETENTION_PHOTOS_DAYS", keep.photos_days, "number of days"),
    )
    ports: dict[str, int] = {}
    for key, default in (
        ("WEBHOOK_PORT", DEFAULT_WEBHOOK_PORT),
        ("WEBHOOK_HEALTH_PORT", 0),
        ("OZON_PUSH_PORT", 0),
    ):
        value = get(key, str(default))
        try:
            ports[key] = int(value)
        except ValueError:
            ports[key] = -1
        if not 0 <= ports[key] <= 65535:
            raise SettingsError(f"{key} must be a port number, not {value!r}")
    path = get("WEBHOOK_PATH", DEFAULT_WEBHOOK_PATH)
    # content reload
    watch = get("CONTENT_WATCH", "on").lower()
    if watch not in SWITCH_ON + SWITCH_OFF:
        raise SettingsError(f"CONTENT_WATCH must be on or off, not {watch!r}")
    # Ozon Seller API
    ozon_rps = _positive(get, "OZON_API_RPS", DEFAULT_OZON_API_RPS)
    ozon_poll = _positive(get, "OZON_POLL_SECONDS", DEFAULT_OZON_POLL_S, "number of seconds")
    questions_poll = _positive(
        get, "OZON_QUESTIONS_POLL_SECONDS", DEFAULT_OZON_QUESTIONS_POLL_S, "number of seconds"
    )
    api_url = _root_url(get, "TELEGRAM_API_URL", DEFAULT_API_URL)
    ozon_url = _root_url(get, "OZON_API_URL", DEFAULT_OZON_API_URL)
    return Settings(
        ozon_client_id=get("OZON_CLIENT_ID"),
        ozon_api_key=get("OZON_API_KEY"),
        ozon_api_url=ozon_url,
        ozon_api_rps=ozon_rps,
        ozon_poll_seconds=ozon_poll,
        ozon_questions_poll_seconds=questions_poll,
        ozon_push_port=ports["OZON_PUSH_PORT"],
        ozon_push_path=get("OZON_PUSH_PATH", "/ozon/push") or "/ozon/push",
        content_watch=watch in SWITCH_ON,
        outbox_lease_seconds=lease,
        retention=retention,
        pacing=load_pacing({key: get(key) for key in PACING_SETTINGS}),
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
        api_url=api_url,
        database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL),
        content_dir=Path(get("CONTENT_DIR", DEFAULT_CONTENT_DIR)),
        admin_chat_id=admin_chat_id,
        admin_user_ids=admin_ids,
        admin_language=admin_language,
        secret_key=get("SECRET_KEY"),
    )
