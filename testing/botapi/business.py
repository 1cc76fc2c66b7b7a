"""Telegram Business in the double: accounts connected to the bot and their chats.

A business chat is the private chat of a business account (the seller's own Telegram
account) with a buyer. Its chat id is the buyer's user id, as is the bot's own private
chat with that buyer, but it is another chat: its own messages and message ids. The bot
reads it through ``business_message`` updates and writes in it by passing
``business_connection_id`` to the send methods that accept one (sendMessage, sendPhoto,
sendDocument, sendVideo, sendVoice, sendAudio, sendSticker, sendMediaGroup...), as
Telegram does. copyMessage, copyMessages and forwardMessage take no
``business_connection_id``: like Telegram, the double ignores it there, so such a copy
lands in the bot's own chat, and nothing can be copied out of a business chat (its
messages are not in any chat of the bot's).

Errors (the texts are the double's; Telegram's are not documented): an unknown or
disabled connection is 400 "BUSINESS_CONNECTION_INVALID"; a connection without the right
to reply is 403 "not enough rights to send messages on behalf of the business account";
a chat the buyer never wrote in is 400 "chat not found".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from testing.botapi.formatting import command_entities
from testing.botapi.incoming import MessageRef, UserActions, _message_id
from testing.botapi.model import (
    ApiError,
    CallbackQueryRecord,
    ChatRecord,
    StoredMessage,
    bad_request,
    forbidden,
)
from testing.botapi.wire import UploadedFile

JSON = dict[str, Any]


@dataclass
class ConnectionRecord:
    """A business account's connection to the bot."""

    id: str
    owner_id: int
    date: int
    can_reply: bool = True
    enabled: bool = True

    def json(self, owner: JSON) -> JSON:
        return {
            "id": self.id,
            "user": owner,
            "user_chat_id": self.owner_id,
            "date": self.date,
            "is_enabled": self.enabled,
            "rights": {"can_reply": self.can_reply},
        }


class BusinessActions(UserActions):
    """Business connections, their chats, and what buyers and owners do in them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._business_connections: dict[str, ConnectionRecord] = {}
        self._business_chats: dict[tuple[str, int], ChatRecord] = {}
        self._connection_seq = itertools.count(1)
        super().__init__(*args, **kwargs)

    def _method_table(self) -> dict[str, Any]:
        table = super()._method_table()
        table["getBusinessConnection"] = self._get_business_connection
        for name in ("copyMessage", "copyMessages", "forwardMessage"):
            table[name] = self._without_business(table[name])
        return table

    # ------------------------------------------------------------------ setup

    def connect_business(
        self,
        owner_id: int,
        *,
        connection_id: str | None = None,
        username: str | None = None,
        can_reply: bool = True,
        enabled: bool = True,
        announce: bool = True,
    ) -> str:
        """The owner connects the bot to their business account (or changes or ends the
        connection: the same ``connection_id`` again); returns the connection id.
        ``announce=False``: no ``business_connection`` update (the bot was down)."""
        with self._cond:
            user = self._ensure_user(owner_id, started=False)
            if username is not None:
                user.username = username
            conn_id = connection_id or f"BC{next(self._connection_seq):06d}-{owner_id}"
            record = ConnectionRecord(conn_id, owner_id, self._now(), can_reply, enabled)
            self._business_connections[conn_id] = record
            if announce:
                self._enqueue("business_connection", record.json(user.json()))
            return conn_id

    def business_chat(self, connection_id: str, user_id: int) -> ChatRecord:
        """The business account's chat with ``user_id``, made on first use."""
        with self._cond:
            key = (connection_id, user_id)
            chat = self._business_chats.get(key)
            if chat is None:
                user = self._ensure_user(user_id, started=False)
                chat = ChatRecord(id=user_id, type="private", user=user, business=connection_id)
                self._business_chats[key] = chat
            return chat

    def business_messages(
        self, connection_id: str, user_id: int, *, from_bot: bool | None = True
    ) -> list[StoredMessage]:
        """Messages in a business chat, oldest first (by default what the bot sent)."""
        with self._lock:
            chat = self._business_chats.get((connection_id, user_id))
            if chat is None:
                return []
            return [
                m
                for m in chat.messages.values()
                if not m.deleted and (from_bot is None or m.from_bot == from_bot)
            ]

    # ------------------------------------------------------------------ people

    def buyer_writes_business(
        self,
        connection_id: str,
        user_id: int,
        text: str | None = None,
        *,
        photo: bytes | None = None,
        caption: str | None = None,
        reply_to: MessageRef | None = None,
    ) -> StoredMessage:
        """A buyer writes to the business account (text, or a photo with a caption)."""
        with self._cond:
            chat = self.business_chat(connection_id, user_id)
            return self._business_message(chat, user_id, text, photo, caption, reply_to)

    def owner_writes_business(self, connection_id: str, buyer_id: int, text: str) -> StoredMessage:
        """The account's own person writes to the buyer in their chat."""
        with self._cond:
            conn = self._business_connections[connection_id]
            chat = self.business_chat(connection_id, buyer_id)
            return self._business_message(chat, conn.owner_id, text, None, None, None)

    def buyer_presses_business_button(
        self, connection_id: str, user_id: int, message: MessageRef, data: str
    ) -> CallbackQueryRecord:
        with self._cond:
            chat = self.business_chat(connection_id, user_id)
            return self._press(chat, self._ensure_user(user_id, started=False), message, data)

    def _business_message(
        self,
        chat: ChatRecord,
        sender_id: int,
        text: str | None,
        photo: bytes | None,
        caption: str | None,
        reply_to: MessageRef | None,
    ) -> StoredMessage:
        sender = self._ensure_user(sender_id, started=False)
        files = self._create_files("photo", photo, None, None) if photo is not None else []
        reply_id = None if reply_to is None else _message_id(reply_to)
        message = StoredMessage(
            chat=chat,
            message_id=chat.next_message_id(),
            sender=sender,
            date=self._now(),
            kind="photo" if files else "text",
            text=None if files else text,
            caption=caption if files else None,
            entities=command_entities(text or caption or ""),
            media=self._media_json("photo", files) if files else None,
            file_ids=[f.file_id for f in files],
            reply_to=reply_id,
        )
        chat.messages[message.message_id] = message
        message.update_id = self._enqueue("business_message", message.json())
        return message

    # ------------------------------------------------------------------ methods

    def _get_business_connection(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        conn = self._business_connections.get(str(params.get("business_connection_id") or ""))
        if conn is None:
            raise bad_request("BUSINESS_CONNECTION_INVALID")
        return conn.json(self._users[conn.owner_id].json())

    def _business_target(self, params: JSON) -> ChatRecord:
        conn = self._business_connections.get(str(params["business_connection_id"]))
        if conn is None or not conn.enabled:
            raise bad_request("BUSINESS_CONNECTION_INVALID")
        if not conn.can_reply:
            raise forbidden("not enough rights to send messages on behalf of the business account")
        chat_id = params.get("chat_id")
        chat = self._business_chats.get((conn.id, chat_id)) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _target(self, params: JSON) -> tuple[ChatRecord, int | None, int | None]:
        if not params.get("business_connection_id"):
            return super()._target(params)
        chat = self._business_target(params)
        if params.get("message_thread_id"):
            raise bad_request("message thread not found")
        reply_to, _ = self._reply_param(chat, params, None)
        return chat, None, reply_to

    def _editable(self, params: JSON) -> StoredMessage:
        if not params.get("business_connection_id"):
            return super()._editable(params)
        chat = self._business_target(params)
        message_id = self._as_int(self._required(params, "message_id"), "message_id")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    @staticmethod
    def _without_business(handler: Any) -> Any:
        """A method that takes no ``business_connection_id``: ignored, as Telegram does."""

        def call(params: JSON, files: dict[str, UploadedFile]) -> Any:
            return handler(
                {k: v for k, v in params.items() if k != "business_connection_id"}, files
            )

        return call


__all__ = ["ApiError", "BusinessActions", "ConnectionRecord"]
