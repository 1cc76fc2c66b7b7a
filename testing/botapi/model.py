"""The double's records: users, chats, topics, messages, files, and their Telegram JSON.

Each record keeps what a test wants to assert on (for a message: text, caption, kind,
thread, reply target, reply markup ...) and renders the Bot API object that PTB parses
(``Message``, ``User``, ``Chat``, ``ChatFullInfo``, ``ForumTopic``, ``File`` ...).
Records are mutated only under the double's lock; tests read them.

Longer than ~500 lines on purpose: each record sits beside the Telegram JSON it renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from testing.botapi.wire import error_envelope

JSON = dict[str, Any]

# The six colours Telegram allows for a topic icon (RGB as integers).
TOPIC_ICON_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)

# Update kinds that getUpdates leaves out unless allowed_updates names them.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ApiError(Exception):
    """A Bot API error answer: HTTP status, ``description`` and optional ``parameters``."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def envelope(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        return error_envelope(
            self.error_code, self.description, self.retry_after, self.migrate_to_chat_id
        )


def bad_request(detail: str) -> ApiError:
    """``400 Bad Request: <detail>``, the most common Bot API error."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """``403 Forbidden: <detail>``: the bot may not act in that chat."""
    return ApiError(403, f"Forbidden: {detail}")


class Call(NamedTuple):
    """One Bot API request the bot made: canonical method name and decoded parameters."""

    method: str
    params: JSON


@dataclass
class Exchange:
    """A request and the double's answer, kept for failure dumps."""

    method: str
    params: JSON
    status: int | None = None  # None while in flight; 0 when the connection was dropped
    description: str | None = None
    fault: bool = False

    def summary(self) -> str:
        """One line: method, the interesting parameters, the outcome."""
        keys = (
            "chat_id",
            "message_thread_id",
            "message_id",
            "from_chat_id",
            "text",
            "caption",
            "name",
            "offset",
            "timeout",
        )
        shown = []
        for key in keys:
            if key in self.params:
                value = self.params[key]
                text = repr(value)
                shown.append(f"{key}={text[:60] + '...' if len(text) > 60 else text}")
        if self.status is None:
            outcome = "pending"
        elif self.status == 0:
            outcome = "connection dropped"
        elif self.status == 200:
            outcome = "200 ok"
        else:
            outcome = f"{self.status} {self.description}"
        if self.fault:
            outcome += " (injected)"
        return f"{self.method}({', '.join(shown)}) -> {outcome}"


@dataclass
class Fault:
    """A queued error answer; see ``BotApiDouble.fail``."""

    method: str  # lower-case method name, or "*" for every method
    error_code: int
    description: str
    retry_after: int | None = None
    times: int | None = 1  # None: until cleared
    when: Callable[[JSON], bool] | None = None
    drop_connection: bool = False
    after_effect: bool = False
    hits: int = 0

    def matches(self, method: str, params: JSON) -> bool:
        """Whether this fault applies to the call (and has uses left)."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method not in ("*", method.lower()):
            return False
        return self.when is None or bool(self.when(params))

    @property
    def exhausted(self) -> bool:
        """True once the fault has been returned ``times`` times."""
        return self.times is not None and self.hits >= self.times


@dataclass
class Delay:
    """A pause before answering a method; see ``BotApiDouble.delay``."""

    method: str
    seconds: float
    times: int | None = None
    hits: int = 0


@dataclass
class RateLimit:
    """Flood control: ``max_calls`` sends per chat in ``per_seconds``; see ``limit_rate``."""

    max_calls: int
    per_seconds: float
    methods: frozenset[str]
    chat_id: int | str | None = None
    #: "private" or "group": only chats of that kind (None: every chat).
    chat_kind: str | None = None
    #: One count for every chat together (the bot-wide limit), not one per chat.
    per_bot: bool = False
    stamps: dict[Any, list[float]] = field(default_factory=dict)
    hits: int = 0


@dataclass
class UserRecord:
    """A Telegram user (or the bot itself), whether they started or blocked the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool = False
    blocked: bool = False
    started: bool = True  # has the user ever written to the bot (so it may write first)?

    def json(self) -> JSON:
        """The ``User`` object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data


@dataclass
class TopicRecord:
    """A forum topic; ``thread_id`` is the id of the service message that created it."""

    chat_id: int
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False
    created_by_bot: bool = True

    @property
    def status(self) -> str:
        """``"open"``, ``"closed"`` or ``"deleted"``."""
        if self.deleted:
            return "deleted"
        return "closed" if self.closed else "open"

    def json(self) -> JSON:
        """The ``ForumTopic`` object."""
        data: JSON = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


# The administrator rights a bot has in a group by default.
DEFAULT_BOT_RIGHTS = {
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}


@dataclass(eq=False)
class ChatRecord:
    """A private chat or a (forum) supergroup, with its messages and topics."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    user: UserRecord | None = None
    is_forum: bool = False
    bot_status: str = "administrator"
    bot_rights: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_BOT_RIGHTS))
    members: dict[int, str] = field(default_factory=dict)
    topics: dict[int, TopicRecord] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0
    #: A Telegram Business chat: the connection it is seen through (its id is the
    #: buyer's, as is the bot's own private chat with them, but its messages are others).
    business: str | None = None

    def next_message_id(self) -> int:
        """Message ids grow by one per chat, shared by both directions and service messages."""
        self.last_message_id += 1
        return self.last_message_id

    def json(self) -> JSON:
        """The short ``Chat`` object embedded in messages."""
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title or ""
            if self.username:
                data["username"] = self.username
            if self.is_forum:
                data["is_forum"] = True
        return data

    def full_json(self) -> JSON:
        """The ``ChatFullInfo`` object returned by getChat."""
        data = self.json()
        data.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if self.type != "private":
            data["permissions"] = {
                "can_send_messages": True,
                "can_send_photos": True,
                "can_send_documents": True,
                "can_manage_topics": False,
            }
        return data


@dataclass
class FileRecord:
    """A file the double knows: its ids, bytes, and the metadata of its kind."""

    file_id: str
    file_unique_id: str
    kind: str  # photo, document, voice, video, audio, sticker
    data: bytes
    size: int
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    emoji: str | None = None
    file_path: str | None = None
    group: tuple[str, ...] = ()  # for photos: file_ids of all sizes of the same photo

    def json(self) -> JSON:
        """The kind-specific object (``PhotoSize``, ``Document``, ``Voice`` ...)."""
        data: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.kind == "photo":
            data.update(width=self.width, height=self.height, file_size=self.size)
            return data
        if self.kind == "sticker":
            data.update(
                type="regular",
                width=self.width or 512,
                height=self.height or 512,
                is_animated=False,
                is_video=False,
                file_size=self.size,
            )
            if self.emoji:
                data["emoji"] = self.emoji
            return data
        if self.kind == "video":
            data.update(width=self.width or 1280, height=self.height or 720)
        if self.kind in ("video", "voice", "audio"):
            data["duration"] = self.duration or 1
        if self.file_name and self.kind != "voice":
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        data["file_size"] = self.size
        return data

    def file_json(self) -> JSON:
        """The ``File`` object returned by getFile."""
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_path:
            data["file_path"] = self.file_path
        return data


@dataclass(eq=False)
class StoredMessage:
    """A message in a chat, sent by the bot (``from_bot``) or by a user.

    ``kind`` is one of text, photo, document, voice, video, audio, sticker, location, contact,
    service.  For bot messages sent with a parse mode, ``text``/``caption`` hold the text
    as Telegram shows it (markup removed) and ``sent_text`` what the bot passed.
    """

    chat: ChatRecord
    message_id: int
    sender: UserRecord
    date: int
    kind: str
    from_bot: bool = False
    thread_id: int | None = None
    text: str | None = None
    caption: str | None = None
    entities: list[JSON] = field(default_factory=list)
    sent_text: str | None = None
    parse_mode: str | None = None
    media: Any = None
    file_ids: list[str] = field(default_factory=list)
    reply_to: int | None = None
    reply_markup: JSON | None = None
    media_group_id: str | None = None
    edit_date: int | None = None
    deleted: bool = False
    copied_from: tuple[int, int] | None = None
    forward_origin: JSON | None = None
    reactions: list[JSON] = field(default_factory=list)
    service: JSON | None = None
    update_id: int | None = None
    history: list[JSON] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        """The id of the chat the message is in."""
        return self.chat.id

    @property
    def content(self) -> str | None:
        """Text for text messages, caption for media: what a person reads."""
        return self.text if self.text is not None else self.caption

    @property
    def file_id(self) -> str | None:
        """The main file id: the largest photo size, or the document/voice/video file."""
        return self.file_ids[-1] if self.file_ids else None

    @property
    def buttons(self) -> list[JSON]:
        """All inline keyboard buttons, row by row."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def snapshot(self) -> JSON:
        """The editable content, kept in ``history`` before each edit."""
        return {
            "text": self.text,
            "caption": self.caption,
            "entities": list(self.entities),
            "reply_markup": self.reply_markup,
            "edit_date": self.edit_date,
        }

    def json(self, *, nested: bool = True) -> JSON:
        """The ``Message`` object, with ``reply_to_message`` one level deep like Telegram."""
        data: JSON = {
            "message_id": self.message_id,
            "from": self.sender.json(),
            "chat": self.chat.json(),
            "date": self.date,
        }
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            if self.chat.is_forum:
                data["is_topic_message"] = True
        if nested:
            target = self._reply_target()
            if target is not None:
                data["reply_to_message"] = target.json(nested=False)
        if self.forward_origin is not None:
            data["forward_origin"] = self.forward_origin
        if self.media_group_id is not None:
            data["media_group_id"] = self.media_group_id
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.kind == "text":
            data["text"] = self.text or ""
            if self.entities:
                data["entities"] = self.entities
        elif self.kind == "service":
            data.update(self.service or {})
        else:
            data[self.kind] = self.media
            if self.caption is not None:
                data["caption"] = self.caption
                if self.entities:
                    data["caption_entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = {"inline_keyboard": self.reply_markup["inline_keyboard"]}
        if self.chat.business is not None:
            data["business_connection_id"] = self.chat.business
            if self.from_bot:
                data["sender_business_bot"] = self.sender.json()
        return data

    def _reply_target(self) -> StoredMessage | None:
        """The replied message; in a topic, the topic's creation message by default."""
        if self.reply_to is not None:
            target = self.chat.messages.get(self.reply_to)
        elif self.thread_id is not None and self.thread_id != self.message_id:
            target = self.chat.messages.get(self.thread_id)
        else:
            target = None
        if target is None or target.deleted:
            return None
        return target

    def __repr__(self) -> str:
        where = f"{self.chat.id}" + (f"/{self.thread_id}" if self.thread_id else "")
        who = "bot" if self.from_bot else f"user {self.sender.id}"
        body = self.content if self.content is not None else self.service
        return f"<{self.kind} #{self.message_id} in {where} from {who}: {body!r}>"


@dataclass
class CallbackQueryRecord:
    """A button press delivered to the bot and how the bot answered it."""

    id: str
    user: UserRecord
    message: StoredMessage
    data: str
    update_id: int
    answered: bool = False
    answer: JSON | None = None

    def json(self) -> JSON:
        """The ``CallbackQuery`` object."""
        return {
            "id": self.id,
            "from": self.user.json(),
            "message": self.message.json(),
            "chat_instance": str(abs(self.message.chat.id) * 7919 % 10**12),
            "data": self.data,
        }
