"""The Telegram side of the double, without HTTP: who exists, what was said, what is queued.

:class:`BotApiState` keeps users, chats, forum topics, messages, files and the update
queue, and offers the setup helpers (``add_user``, ``add_group``, ``add_topic`` ...) and the
query helpers (``messages_in``, ``topics`` ...) that tests use.  The Bot API methods live in
:mod:`testing.botapi.methods` and the simulated users in :mod:`testing.botapi.incoming`; each
layer subclasses the previous one and :class:`~testing.botapi.double.BotApiDouble` adds HTTP.

Everything runs under one re-entrant lock with one condition variable, notified on every
change, so that long polls and ``wait_for`` wake as soon as something happens.

Longer than ~500 lines on purpose: every record the double keeps and every helper that
reads or sets it up, under one lock.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import mimetypes
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from testing.botapi.model import (
    TOPIC_ICON_COLORS,
    ApiError,
    CallbackQueryRecord,
    ChatRecord,
    FileRecord,
    StoredMessage,
    TopicRecord,
    UserRecord,
)
from testing.botapi.wire import UploadedFile

JSON = dict[str, Any]
Handler = Callable[[JSON, dict[str, UploadedFile]], Any]

DEFAULT_TOKEN = "123456789:TEST-token-for-the-sellerdesk-double"

_FILE_PREFIX = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "audio": "CQACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
}
FILE_DIRS = {
    "photo": ("photos", ".jpg"),
    "document": ("documents", ""),
    "voice": ("voice", ".oga"),
    "video": ("videos", ".mp4"),
    "audio": ("music", ".mp3"),
    "sticker": ("stickers", ".webp"),
}
_DEFAULT_MIME = {
    "document": "application/octet-stream",
    "voice": "audio/ogg",
    "video": "video/mp4",
    "audio": "audio/mpeg",
}


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


class BotApiState:
    """Telegram's records for one bot: chats, topics, messages, files, updates."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "sellerdesk_test_bot",
        bot_name: str = "SellerDesk",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.clock = clock
        self.bot = UserRecord(
            id=int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1,
            first_name=bot_name,
            username=bot_username,
            is_bot=True,
        )
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._users: dict[int, UserRecord] = {}
        self._chats: dict[int, ChatRecord] = {}
        self._files: dict[str, FileRecord] = {}
        self._file_seq = itertools.count(1)
        self._media_group_seq = itertools.count(13_000_000_000_000_001)
        self._callback_seq = itertools.count(1)
        self._callbacks: dict[str, CallbackQueryRecord] = {}
        self._next_update_id = 100_000_001
        self._updates: list[tuple[int, str, JSON]] = []
        self._history_updates: list[tuple[int, str, JSON]] = []
        self._redeliver: list[tuple[int, str, JSON]] = []
        self._delivered: list[int] = []
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook: JSON | None = None
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._methods: dict[str, tuple[str, Handler]] = {}
        for name, handler in self._method_table().items():
            self._methods[name.lower()] = (name, handler)

    def _method_table(self) -> dict[str, Handler]:
        """The Bot API methods by documented name; :class:`BotApiMethods` fills it."""
        return {}

    def canonical_method(self, name: str) -> str | None:
        """The documented spelling of a method name (Telegram ignores case), or None."""
        entry = self._methods.get(name.lower())
        return entry[0] if entry else None

    def execute(self, method: str, params: JSON, files: dict[str, UploadedFile]) -> Any:
        """Run one Bot API method and return its result; raises :class:`ApiError`."""
        entry = self._methods.get(method.lower())
        if entry is None:
            raise ApiError(404, "Not Found")
        with self._cond:
            try:
                return entry[1](params, files)
            finally:
                self._cond.notify_all()

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        is_premium: bool = False,
        blocked: bool = False,
        started: bool = True,
    ) -> UserRecord:
        """Register a user and their private chat with the bot (chat id == user id).

        ``started=False`` is a user who never wrote to the bot: sending to them fails with
        403 "bot can't initiate conversation with a user" until they write.  Users that
        only appear as group members are registered that way.
        """
        with self._cond:
            user = UserRecord(
                id=user_id,
                first_name=first_name or f"User{user_id}",
                last_name=last_name,
                username=username,
                language_code=language_code,
                is_premium=is_premium,
                blocked=blocked,
                started=started,
            )
            self._users[user_id] = user
            chat = self._chats.get(user_id)
            if chat is None:
                self._chats[user_id] = ChatRecord(id=user_id, type="private", user=user)
            else:
                chat.user = user
            self._cond.notify_all()
            return user

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        is_forum: bool = True,
        members: Iterable[int | UserRecord] = (),
        username: str | None = None,
        bot_is_admin: bool = True,
        can_manage_topics: bool = True,
    ) -> ChatRecord:
        """Register a supergroup (a forum by default) that the bot is in.

        ``members`` are user ids or records; unknown ids are registered as users.
        ``can_manage_topics=False`` makes createForumTopic fail with "not enough rights".
        """
        with self._cond:
            chat = ChatRecord(
                id=chat_id,
                type="supergroup",
                title=title,
                username=username,
                is_forum=is_forum,
                bot_status="administrator" if bot_is_admin else "member",
            )
            chat.bot_rights["can_manage_topics"] = can_manage_topics
            if not bot_is_admin:
                chat.bot_rights = {key: False for key in chat.bot_rights}
            self._chats[chat_id] = chat
            for member in members:
                if isinstance(member, UserRecord):
                    user = member
                else:
                    user = self._ensure_user(member, started=False)
                self._users.setdefault(user.id, user)
                self._chats.setdefault(user.id, ChatRecord(id=user.id, type="private", user=user))
                chat.members[user.id] = "member"
            self._cond.notify_all()
            return chat

    def add_topic(
        self,
        chat_id: int,
        name: str,
        *,
        icon_color: int = TOPIC_ICON_COLORS[0],
        closed: bool = False,
    ) -> TopicRecord:
        """Create a topic as a person would in the app (no update reaches the bot)."""
        with self._cond:
            chat = self._known_chat(chat_id)
            if not chat.is_forum:
                raise ValueError(f"chat {chat_id} is not a forum")
            topic = self._new_topic(chat, name, icon_color, None, creator=None)
            topic.closed = closed
            self._cond.notify_all()
            return topic

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a topic as an admin would in the app; sends into it then fail."""
        with self._cond:
            topic = self._known_chat(chat_id).topics[thread_id]
            self._drop_topic(self._chats[chat_id], topic)
            self._cond.notify_all()

    def close_topic(self, chat_id: int, thread_id: int, *, closed: bool = True) -> None:
        """Close (or reopen) a topic as an admin would in the app."""
        with self._cond:
            self._known_chat(chat_id).topics[thread_id].closed = closed
            self._cond.notify_all()

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set what getChatMember reports for a user.

        ``status`` is creator, administrator, member, restricted, left or kicked.
        """
        with self._cond:
            self._ensure_user(user_id, started=False)
            self._known_chat(chat_id).members[user_id] = status
            self._cond.notify_all()

    def set_bot_rights(self, chat_id: int, *, status: str | None = None, **rights: bool) -> None:
        """Change the bot's own status (administrator/member/left/kicked) or rights in a chat."""
        with self._cond:
            chat = self._known_chat(chat_id)
            if status is not None:
                chat.bot_status = status
            chat.bot_rights.update(rights)
            self._cond.notify_all()

    def block_bot(self, user_id: int, *, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot; Telegram sends a my_chat_member update."""
        with self._cond:
            user = self._ensure_user(user_id)
            user.started = True
            if user.blocked == blocked:
                return
            user.blocked = blocked
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            self._enqueue(
                "my_chat_member",
                {
                    "chat": self._chats[user_id].json(),
                    "from": user.json(),
                    "date": self._now(),
                    "old_chat_member": self._member_json(old, self.bot),
                    "new_chat_member": self._member_json(new, self.bot),
                },
            )

    def user(self, user_id: int) -> UserRecord:
        """The registered user."""
        with self._lock:
            return self._users[user_id]

    def chat(self, chat_id: int) -> ChatRecord:
        """The registered chat, with ``messages`` and ``topics``."""
        with self._lock:
            return self._known_chat(chat_id)

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        """One message by id, whoever sent it."""
        with self._lock:
            return self._known_chat(chat_id).messages[message_id]

    def messages_in(
        self,
        chat_id: int,
        thread_id: int | None = None,
        *,
        include_deleted: bool = False,
        from_bot: bool | None = True,
    ) -> list[StoredMessage]:
        """Messages in a chat, oldest first; by default only what the bot sent.

        ``thread_id=None`` means the whole chat; an id keeps only that topic.  Service
        messages (topic created/closed ...) are left out.  ``from_bot=None`` includes the
        users' messages too.
        """
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [
                message
                for message in chat.messages.values()
                if message.kind != "service"
                and (thread_id is None or message.thread_id == thread_id)
                and (include_deleted or not message.deleted)
                and (from_bot is None or message.from_bot == from_bot)
            ]

    def topics(self, chat_id: int, *, include_deleted: bool = True) -> list[TopicRecord]:
        """Topics of a forum in creation order, with their open/closed/deleted status."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [t for t in chat.topics.values() if include_deleted or not t.deleted]

    def callback_query(self, query_id: str) -> CallbackQueryRecord:
        """A delivered callback query and its answer (``answered``, ``answer``)."""
        with self._lock:
            return self._callbacks[query_id]

    def commands(self, scope: str = "default", language_code: str = "") -> list[JSON]:
        """The command list set by setMyCommands for a scope type (``chat:<chat_id>``
        for one chat) and language."""
        with self._lock:
            return list(self._commands.get((scope, language_code), []))

    def file(self, file_id: str) -> FileRecord:
        """A known file: bytes, name, mime type, and file_path once getFile was called."""
        with self._lock:
            return self._files[file_id]

    @property
    def pending_updates(self) -> int:
        """How many updates the bot has not confirmed yet."""
        with self._lock:
            return len(self._updates) + len(self._redeliver)

    @property
    def delivered_update_ids(self) -> list[int]:
        """Update ids in the order getUpdates handed them out (with redeliveries)."""
        with self._lock:
            return list(self._delivered)

    @property
    def webhook(self) -> JSON | None:
        """The parameters of the last setWebhook, or None when no webhook is set."""
        with self._lock:
            return dict(self._webhook) if self._webhook else None

    def _now(self) -> int:
        return int(self.clock())

    def _enqueue(self, kind: str, payload: JSON) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        entry = (update_id, kind, copy.deepcopy(payload))  # later edits must not leak in
        self._updates.append(entry)
        self._history_updates.append(entry)
        self._cond.notify_all()
        return update_id

    def _ensure_user(self, user_id: int, *, started: bool = True) -> UserRecord:
        user = self._users.get(user_id)
        return user if user is not None else self.add_user(user_id, started=started)

    def _private_chat(self, user_id: int) -> ChatRecord:
        """The chat of a user who writes to the bot now (which unblocks and starts it)."""
        user = self._ensure_user(user_id)
        if user.blocked:
            self.block_bot(user_id, blocked=False)  # the apps unblock before sending
        user.started = True
        return self._chats[user_id]

    def _known_chat(self, chat_id: int) -> ChatRecord:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise KeyError(f"chat {chat_id} is not registered (add_user/add_group first)")
        return chat

    def _group_member(self, chat_id: int, user_id: int) -> tuple[ChatRecord, UserRecord]:
        chat = self._known_chat(chat_id)
        if chat.type == "private":
            raise ValueError(f"chat {chat_id} is a private chat, use user_sends_*")
        user = self._ensure_user(user_id, started=False)
        chat.members.setdefault(user_id, "member")
        return chat, user

    def _fake_bytes(self, label: str) -> bytes:
        return f"fake {label} #{next(self._file_seq)}".encode()

    @staticmethod
    def _member_json(status: str, user: UserRecord, rights: dict[str, bool] | None = None) -> JSON:
        data: JSON = {"status": status, "user": user.json()}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            data.update({"can_be_edited": False, "is_anonymous": False})
            flags = dict(rights or {})
            for key in (
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            ):
                data[key] = bool(flags.get(key, rights is None))
            data["can_pin_messages"] = bool(flags.get("can_pin_messages", True))
            data["can_manage_topics"] = bool(flags.get("can_manage_topics", True))
        elif status == "restricted":
            data.update(
                {
                    "is_member": True,
                    "until_date": 0,
                    **{
                        key: False
                        for key in (
                            "can_send_messages",
                            "can_send_audios",
                            "can_send_documents",
                            "can_send_photos",
                            "can_send_videos",
                            "can_send_video_notes",
                            "can_send_voice_notes",
                            "can_send_polls",
                            "can_send_other_messages",
                            "can_add_web_page_previews",
                            "can_change_info",
                            "can_invite_users",
                            "can_pin_messages",
                            "can_manage_topics",
                        )
                    },
                }
            )
        elif status == "kicked":
            data["until_date"] = 0
        return data

    def _new_file(self, kind: str, data: bytes, **meta: Any) -> FileRecord:
        seq = next(self._file_seq)
        digest = hashlib.sha1(f"{self.token}:{kind}:{seq}".encode()).hexdigest()[:20]
        record = FileRecord(
            file_id=f"{_FILE_PREFIX[kind]}{seq:06X}{digest}",
            file_unique_id=f"AQAD{seq:06X}{digest[:6]}",
            kind=kind,
            data=data,
            size=len(data),
            **meta,
        )
        self._files[record.file_id] = record
        return record

    def _create_files(
        self,
        kind: str,
        data: bytes,
        file_name: str | None,
        mime_type: str | None,
        *,
        size: int | None = None,
        duration: int | None = None,
    ) -> list[FileRecord]:
        """New files for an upload: several sizes for a photo, one file otherwise.

        Every size of a photo serves the uploaded bytes; only the dimensions differ.
        """
        if kind != "photo":
            if not mime_type or mime_type == "application/octet-stream":
                # Telegram derives the type from the name, as clients often send none.
                guessed = mimetypes.guess_type(file_name or "", strict=False)[0]
                mime_type = guessed if kind == "document" and guessed else None
            record = self._new_file(
                kind,
                data,
                file_name=file_name,
                mime_type=mime_type or _DEFAULT_MIME.get(kind),
                duration=duration,
            )
            if size is not None:
                record.size = size
            return [record]
        width, height = _png_size(data) or (1280, 960)
        sizes: list[FileRecord] = []
        for box in (90, 320, 800):
            if max(width, height) > box:
                scale = box / max(width, height)
                sizes.append(
                    self._new_file(
                        "photo",
                        data,
                        width=max(1, round(width * scale)),
                        height=max(1, round(height * scale)),
                    )
                )
        scale = min(1.0, 2560 / max(width, height))
        sizes.append(
            self._new_file("photo", data, width=round(width * scale), height=round(height * scale))
        )
        group = tuple(s.file_id for s in sizes)
        for record in sizes:
            record.group = group
        return sizes

    def _media_json(self, kind: str, files: Sequence[FileRecord]) -> Any:
        if kind == "photo":
            return [f.json() for f in files]
        return files[0].json()

    def _new_topic(
        self,
        chat: ChatRecord,
        name: str,
        icon_color: int,
        icon_custom_emoji_id: str | None,
        *,
        creator: UserRecord | None,
    ) -> TopicRecord:
        thread_id = chat.next_message_id()
        topic = TopicRecord(
            chat_id=chat.id,
            thread_id=thread_id,
            name=name,
            icon_color=icon_color,
            icon_custom_emoji_id=icon_custom_emoji_id,
            created_by_bot=creator is self.bot,
        )
        chat.topics[thread_id] = topic
        created: JSON = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        chat.messages[thread_id] = StoredMessage(
            chat=chat,
            message_id=thread_id,
            sender=creator or UserRecord(id=777000, first_name="Telegram"),
            date=self._now(),
            kind="service",
            from_bot=creator is self.bot,
            thread_id=thread_id,
            service={"forum_topic_created": created},
        )
        return topic

    def _drop_topic(self, chat: ChatRecord, topic: TopicRecord) -> None:
        topic.deleted = True
        for message in chat.messages.values():
            if message.thread_id == topic.thread_id:
                message.deleted = True

    def _paths(self) -> list[str]:
        return [f.file_path for f in self._files.values() if f.file_path]

    def file_by_path(self, path: str) -> FileRecord | None:
        """The file served under ``/file/bot<token>/<path>``, once getFile assigned it."""
        with self._lock:
            for record in self._files.values():
                if record.file_path == path:
                    return record
            return None
