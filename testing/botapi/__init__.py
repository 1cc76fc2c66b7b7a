"""A test double of the Telegram Bot API server; see :mod:`testing.botapi.double`.

Import :class:`BotApiDouble` from here; the records it returns (messages, topics, users,
callback queries, files, calls) are re-exported for type annotations in tests.
"""

from testing.botapi.double import BotApiDouble
from testing.botapi.incoming import MessageRef
from testing.botapi.model import (
    TOPIC_ICON_COLORS,
    ApiError,
    Call,
    CallbackQueryRecord,
    ChatRecord,
    Delay,
    Exchange,
    Fault,
    FileRecord,
    RateLimit,
    StoredMessage,
    TopicRecord,
    UserRecord,
)
from testing.botapi.state import DEFAULT_TOKEN
from testing.botapi.wire import UploadedFile

__all__ = [
    "DEFAULT_TOKEN",
    "TOPIC_ICON_COLORS",
    "ApiError",
    "BotApiDouble",
    "Call",
    "CallbackQueryRecord",
    "ChatRecord",
    "Delay",
    "Exchange",
    "Fault",
    "FileRecord",
    "MessageRef",
    "RateLimit",
    "StoredMessage",
    "TopicRecord",
    "UploadedFile",
    "UserRecord",
]
