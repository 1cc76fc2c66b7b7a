"""Simulated people: updates enqueued the way Telegram would deliver them.

A user writing to the bot, sending an album, editing a message or pressing a button; a
staff member writing in a forum topic of the support group.  Each helper stores the
message (so the bot can copy or reply to it), queues the update for getUpdates and
returns the record, whose ``update_id`` identifies the update.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from testing.botapi.formatting import command_entities
from testing.botapi.methods import BotApiMethods
from testing.botapi.model import (
    CallbackQueryRecord,
    ChatRecord,
    FileRecord,
    StoredMessage,
    UserRecord,
)

JSON = dict[str, Any]


class HasMessageId(Protocol):
    """Anything naming a message: a :class:`StoredMessage`, a PTB ``Message``, a ``MessageId``."""

    @property
    def message_id(self) -> int: ...


MessageRef = int | HasMessageId


def _message_id(ref: MessageRef) -> int:
    return ref if isinstance(ref, int) else ref.message_id


class UserActions(BotApiMethods):
    """What users and group members do, as seen by the bot through updates."""

    def user_sends_text(
        self, user_id: int, text: str, *, reply_to: MessageRef | None = None
    ) -> StoredMessage:
        """A user writes ``text`` to the bot in private; commands get bot_command entities."""
        with self._cond:
            chat = self._private_chat(user_id)
            return self._incoming(chat, self._users[user_id], "text", text=text, reply_to=reply_to)

    def user_sends_photo(
        self,
        user_id: int,
        caption: str | None = None,
        *,
        data: bytes | None = None,
        media_group_id: str | None = None,
    ) -> StoredMessage:
        """A user sends a photo (several sizes, fresh file ids) with an optional caption."""
        with self._cond:
            chat = self._private_chat(user_id)
            files = self._create_files("photo", data or self._fake_bytes("photo"), None, None)
            return self._incoming(
                chat,
                self._users[user_id],
                "photo",
                caption=caption,
                files=files,
                media_group_id=media_group_id,
            )

    def user_sends_album(
        self, user_id: int, n: int = 2, caption: str | None = None
    ) -> list[StoredMessage]:
        """A user sends ``n`` photos as one album: ``n`` updates sharing a media_group_id.

        Like Telegram clients, only the first item carries the caption.
        """
        with self._cond:
            group = str(next(self._media_group_seq))
            return [
                self.user_sends_photo(
                    user_id, caption if index == 0 else None, media_group_id=group
                )
                for index in range(n)
            ]

    def user_sends_document(
        self,
        user_id: int,
        file_name: str = "invoice.pdf",
        *,
        caption: str | None = None,
        data: bytes | None = None,
        mime_type: str = "application/pdf",
        size: int | None = None,
    ) -> StoredMessage:
        """A user sends a document.

        ``size`` can claim a large file: getFile refuses files over 20 MB, as Telegram does.
        """
        with self._cond:
            chat = self._private_chat(user_id)
            files = self._create_files(
                "document", data or self._fake_bytes(file_name), file_name, mime_type, size=size
            )
            return self._incoming(
                chat, self._users[user_id], "document", caption=caption, files=files
            )

    def user_sends_voice(
        self, user_id: int, *, duration: int = 3, data: bytes | None = None
    ) -> StoredMessage:
        """A user sends a voice note."""
        with self._cond:
            chat = self._private_chat(user_id)
            files = self._create_files(
                "voice", data or self._fake_bytes("voice"), None, "audio/ogg", duration=duration
            )
            return self._incoming(chat, self._users[user_id], "voice", files=files)

    def user_sends_video(
        self,
        user_id: int,
        caption: str | None = None,
        *,
        duration: int = 5,
        data: bytes | None = None,
    ) -> StoredMessage:
        """A user sends a video with an optional caption."""
        with self._cond:
            chat = self._private_chat(user_id)
            files = self._create_files(
                "video",
                data or self._fake_bytes("video"),
                "video.mp4",
                "video/mp4",
                duration=duration,
            )
            return self._incoming(chat, self._users[user_id], "video", caption=caption, files=files)

    def user_sends_sticker(self, user_id: int, emoji: str = "👍") -> StoredMessage:
        """A user sends a sticker."""
        with self._cond:
            chat = self._private_chat(user_id)
            files = self._create_files("sticker", self._fake_bytes("sticker"), None, "image/webp")
            files[0].emoji = emoji
            return self._incoming(chat, self._users[user_id], "sticker", files=files)

    def user_sends_location(
        self, user_id: int, latitude: float = 55.7558, longitude: float = 37.6173
    ) -> StoredMessage:
        """A user shares a location."""
        with self._cond:
            chat = self._private_chat(user_id)
            return self._incoming(
                chat,
                self._users[user_id],
                "location",
                media={"latitude": latitude, "longitude": longitude},
            )

    def user_sends_contact(
        self, user_id: int, phone_number: str = "+79123456789", first_name: str = "Anna"
    ) -> StoredMessage:
        """A user shares a contact card (their own: it carries their user id)."""
        with self._cond:
            chat = self._private_chat(user_id)
            return self._incoming(
                chat,
                self._users[user_id],
                "contact",
                media={"phone_number": phone_number, "first_name": first_name, "user_id": user_id},
            )

    def user_edits(
        self,
        message: StoredMessage,
        text: str | None = None,
        *,
        caption: str | None = None,
    ) -> StoredMessage:
        """The author edits a message: Telegram sends an edited_message update."""
        with self._cond:
            if message.from_bot:
                raise ValueError("user_edits is for messages a person sent")
            message.history.append(message.snapshot())
            if message.kind == "text":
                message.text = text if text is not None else message.text
                message.entities = command_entities(message.text or "")
            else:
                message.caption = caption if caption is not None else text
                message.entities = command_entities(message.caption or "")
            message.edit_date = self._now()
            message.update_id = self._enqueue("edited_message", message.json())
            return message

    def user_presses_button(
        self, user_id: int, message: MessageRef, data: str, *, forged: bool = False
    ) -> CallbackQueryRecord:
        """A user presses an inline button of a bot message in their private chat.

        ``forged=True`` sends ``data`` even if the message has no such button, as a
        modified client can.
        """
        with self._cond:
            chat = self._private_chat(user_id)
            return self._press(chat, self._users[user_id], message, data, forged=forged)

    def member_sends_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        thread_id: int | None = None,
        reply_to: MessageRef | None = None,
    ) -> StoredMessage:
        """A group member writes ``text``, in a topic when ``thread_id`` is given.

        Replying to a message in a topic puts the reply in that topic, as in the apps.
        """
        with self._cond:
            chat, user = self._group_member(chat_id, user_id)
            return self._incoming(
                chat, user, "text", text=text, thread_id=thread_id, reply_to=reply_to
            )

    def member_sends_photo(
        self,
        chat_id: int,
        user_id: int,
        caption: str | None = None,
        thread_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        data: bytes | None = None,
    ) -> StoredMessage:
        """A group member sends a photo."""
        with self._cond:
            chat, user = self._group_member(chat_id, user_id)
            files = self._create_files("photo", data or self._fake_bytes("photo"), None, None)
            return self._incoming(
                chat,
                user,
                "photo",
                caption=caption,
                files=files,
                thread_id=thread_id,
                reply_to=reply_to,
            )

    def member_sends_command(
        self,
        chat_id: int,
        user_id: int,
        command: str,
        args: str = "",
        thread_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        mention_bot: bool = False,
    ) -> StoredMessage:
        """A group member sends ``/command[@bot] args``."""
        name = command.lstrip("/")
        if mention_bot:
            name += f"@{self.bot.username}"
        text = f"/{name}" + (f" {args}" if args else "")
        return self.member_sends_text(chat_id, user_id, text, thread_id, reply_to)

    def member_presses_button(
        self, chat_id: int, user_id: int, message: MessageRef, data: str, *, forged: bool = False
    ) -> CallbackQueryRecord:
        """A group member presses an inline button of a bot message in the group
        (``forged`` as in :meth:`user_presses_button`)."""
        with self._cond:
            chat, user = self._group_member(chat_id, user_id)
            return self._press(chat, user, message, data, forged=forged)

    def deliver_twice(self, update: int | StoredMessage | CallbackQueryRecord) -> int:
        """Deliver an update again with the same update_id, as Telegram does on retries.

        The copy goes out in the next getUpdates answer even if the bot already confirmed
        the original.  Returns the update_id.
        """
        update_id = update if isinstance(update, int) else update.update_id
        with self._cond:
            for entry in self._history_updates:
                if entry[0] == update_id:
                    self._redeliver.append(entry)
                    self._cond.notify_all()
                    return update_id
        raise KeyError(f"no update with id {update_id}")

    def enqueue_update(self, kind: str, payload: JSON) -> int:
        """Queue an arbitrary update ``{"update_id": N, kind: payload}``; returns N."""
        with self._cond:
            return self._enqueue(kind, payload)

    def _incoming(
        self,
        chat: ChatRecord,
        user: UserRecord,
        kind: str,
        *,
        text: str | None = None,
        caption: str | None = None,
        files: Sequence[FileRecord] = (),
        media: Any = None,
        thread_id: int | None = None,
        reply_to: MessageRef | None = None,
        media_group_id: str | None = None,
    ) -> StoredMessage:
        reply_id = None if reply_to is None else _message_id(reply_to)
        if reply_id is not None:
            target = chat.messages.get(reply_id)
            if target is None or target.deleted:
                raise ValueError(f"message {reply_id} does not exist in chat {chat.id}")
            if thread_id is None:
                thread_id = target.thread_id
        if thread_id is not None:
            topic = chat.topics.get(thread_id)
            if topic is None or topic.deleted:
                raise ValueError(f"topic {thread_id} does not exist in chat {chat.id}")
        if files:
            media = self._media_json(kind, files)
        message = StoredMessage(
            chat=chat,
            message_id=chat.next_message_id(),
            sender=user,
            date=self._now(),
            kind=kind,
            thread_id=thread_id,
            text=text,
            caption=caption,
            entities=command_entities(text if text is not None else caption or ""),
            media=media,
            file_ids=[f.file_id for f in files],
            reply_to=reply_id,
            media_group_id=media_group_id,
        )
        chat.messages[message.message_id] = message
        message.update_id = self._enqueue("message", message.json())
        return message

    def _press(
        self,
        chat: ChatRecord,
        user: UserRecord,
        message: MessageRef,
        data: str,
        *,
        forged: bool = False,
    ) -> CallbackQueryRecord:
        message_id = _message_id(message)
        target = chat.messages.get(message_id)
        if target is None or target.deleted or not target.from_bot:
            raise ValueError(f"no bot message {message_id} in chat {chat.id}")
        offered = [b.get("callback_data") for b in target.buttons]
        if data not in offered and not forged:
            raise ValueError(f"message {message_id} has no button with data {data!r}: {offered}")
        query_id = str(4_000_000_000_000_000 + next(self._callback_seq))
        record = CallbackQueryRecord(id=query_id, user=user, message=target, data=data, update_id=0)
        self._callbacks[query_id] = record
        record.update_id = self._enqueue("callback_query", record.json())
        return record
