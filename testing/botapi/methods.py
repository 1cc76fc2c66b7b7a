"""The Bot API methods: what each one checks, changes and returns.

One Python method per Bot API method takes the decoded parameters and returns the
``result`` or raises :class:`ApiError` with the status and description Telegram gives for
the same mistake (unknown chat, deleted topic, blocked user, markup it cannot parse,
message not modified ...).  The wording follows Telegram's; where Telegram's exact text
is not documented it is marked as approximate.

Longer than ~500 lines on purpose: one method per Bot API method the desk calls, side
by side so their shared checks (chat, topic, markup, flood) stay alike.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from testing.botapi.formatting import FormattingError, parse_formatted, utf16_len
from testing.botapi.model import (
    OPT_IN_UPDATES,
    TOPIC_ICON_COLORS,
    ApiError,
    ChatRecord,
    FileRecord,
    StoredMessage,
    TopicRecord,
    bad_request,
    forbidden,
)
from testing.botapi.state import FILE_DIRS, BotApiState, Handler
from testing.botapi.wire import UploadedFile

JSON = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
#: What a bot may upload: a photo of 10 MB, any other file of 50 MB.
MAX_PHOTO_UPLOAD = 10 * 2**20
MAX_FILE_UPLOAD = 50 * 2**20
#: How a picture Telegram can process starts (PNG, JPEG, GIF, WebP).
IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF")
MAX_GETFILE_SIZE = 20 * 1024 * 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class BotApiMethods(BotApiState):
    """The Bot API methods on top of :class:`BotApiState`, dispatched by ``execute``."""

    def _method_table(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "sendMessage": self._send_message,
            "copyMessage": self._copy_message,
            "copyMessages": self._copy_messages,
            "forwardMessage": self._forward_message,
            "sendPhoto": self._media_sender("photo"),
            "sendDocument": self._media_sender("document"),
            "sendVoice": self._media_sender("voice"),
            "sendVideo": self._media_sender("video"),
            "sendAudio": self._media_sender("audio"),
            "sendSticker": self._media_sender("sticker"),
            "sendLocation": self._send_location,
            "sendMediaGroup": self._send_media_group,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "createForumTopic": self._create_forum_topic,
            "editForumTopic": self._edit_forum_topic,
            "closeForumTopic": self._topic_toggler(closed=True),
            "reopenForumTopic": self._topic_toggler(closed=False),
            "deleteForumTopic": self._delete_forum_topic,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "deleteMessage": self._delete_message,
            "setMessageReaction": self._set_message_reaction,
            "sendChatAction": self._send_chat_action,
        }

    @staticmethod
    def _required(params: JSON, name: str) -> Any:
        value = params.get(name)
        if value is None or value == "":
            raise bad_request(f'parameter "{name}" is required')
        return value

    @staticmethod
    def _as_int(value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f'field "{name}" must be of type Integer')
        return value

    def _chat_param(self, params: JSON, name: str = "chat_id") -> ChatRecord:
        value = params.get(name)
        if value is None or value == "":
            raise bad_request("chat_id is empty" if name == "chat_id" else f"{name} is empty")
        if isinstance(value, str) and value.startswith("@"):
            for known in self._chats.values():
                if known.username and known.username.lower() == value[1:].lower():
                    return known
            raise bad_request("chat not found")
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad_request("chat not found")
        chat = self._chats.get(value)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _check_can_send(self, chat: ChatRecord) -> None:
        if chat.type == "private":
            if chat.user is not None and chat.user.blocked:
                raise forbidden("bot was blocked by the user")
            if chat.user is not None and not chat.user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        if chat.bot_status == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")
        if chat.bot_status == "left":
            raise forbidden("bot is not a member of the supergroup chat")

    def _thread_param(self, chat: ChatRecord, params: JSON) -> int | None:
        value = params.get("message_thread_id")
        if value is None or value == "":
            return None
        thread_id = self._as_int(value, "message_thread_id")
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        if topic.closed and not chat.bot_rights.get("can_manage_topics"):
            raise bad_request("TOPIC_CLOSED")
        return thread_id

    def _reply_param(
        self, chat: ChatRecord, params: JSON, thread_id: int | None
    ) -> tuple[int | None, int | None]:
        """Resolve reply_parameters / reply_to_message_id to (reply_to, thread_id)."""
        reply = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply", allow))
            other_chat = reply.get("chat_id")
            if other_chat not in (None, chat.id, chat.username and f"@{chat.username}"):
                raise bad_request("message to be replied not found")
        elif reply is not None:
            raise bad_request("can't parse reply parameters JSON object")
        else:
            message_id = params.get("reply_to_message_id")
        if message_id is None:
            return None, thread_id
        target = chat.messages.get(self._as_int(message_id, "message_id"))
        if target is None or target.deleted or target.kind == "service":
            if allow:
                return None, thread_id
            raise bad_request("message to be replied not found")
        if thread_id is None:
            thread_id = target.thread_id
        return target.message_id, thread_id

    @staticmethod
    def _markup_param(params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array '
                    "of Arrays"
                )
            for row in rows:
                for button in row:
                    BotApiMethods._check_button(button)
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
                )
        elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("can't parse inline keyboard button: Text is empty")
        actions = [key for key in BUTTON_ACTIONS if key in button]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
            raise bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")

    def _formatted(
        self, params: JSON, text_key: str, entities_key: str, limit: int
    ) -> tuple[str | None, list[JSON], str | None]:
        """Apply parse_mode/entities; returns (shown text, entities, raw text)."""
        raw = params.get(text_key)
        if raw is None:
            return None, [], None
        raw = str(raw)
        explicit = params.get(entities_key)
        parse_mode = params.get("parse_mode") or None
        if explicit:
            if not isinstance(explicit, list):
                raise bad_request(f"can't parse {entities_key} JSON object")
            shown, entities = raw, explicit
        else:
            try:
                shown, entities = parse_formatted(raw, parse_mode)
            except ValueError as exc:
                if isinstance(exc, FormattingError):
                    raise bad_request(f"can't parse entities: {exc}") from exc
                raise bad_request("unsupported parse_mode") from exc
        if utf16_len(shown) > limit:
            raise bad_request(
                "message is too long" if text_key == "text" else "message caption is too long"
            )
        return shown, entities, raw

    def _store_bot_message(
        self,
        chat: ChatRecord,
        kind: str,
        thread_id: int | None,
        reply_to: int | None,
        **fields: Any,
    ) -> StoredMessage:
        message = StoredMessage(
            chat=chat,
            message_id=chat.next_message_id(),
            sender=self.bot,
            date=self._now(),
            kind=kind,
            from_bot=True,
            thread_id=thread_id,
            reply_to=reply_to,
            **fields,
        )
        chat.messages[message.message_id] = message
        return message

    def _target(self, params: JSON) -> tuple[ChatRecord, int | None, int | None]:
        """Common checks of every send method: chat, permission, thread, reply."""
        chat = self._chat_param(params)
        self._check_can_send(chat)
        thread_id = self._thread_param(chat, params)
        reply_to, thread_id = self._reply_param(chat, params, thread_id)
        return chat, thread_id, reply_to

    def _resolve_input(
        self, kind: str, value: Any, files: dict[str, UploadedFile], field: str
    ) -> list[FileRecord]:
        """Turn an InputFile value (upload, attach://, URL, file_id) into files."""
        if value is None or value == "":
            raise bad_request(f'parameter "{field}" is required')
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"can't parse InputMedia: media not found ({value})")
            value = upload
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            # Telegram's limits on what a bot uploads: a photo of 10 MB, any file of 50.
            if len(value.data) > (MAX_PHOTO_UPLOAD if kind == "photo" else MAX_FILE_UPLOAD):
                raise ApiError(413, "Request Entity Too Large")
            if kind == "photo" and not value.data.startswith(IMAGE_SIGNATURES):
                raise bad_request("IMAGE_PROCESS_FAILED")
            return self._create_files(kind, value.data, value.filename, value.content_type)
        if not isinstance(value, str):
            raise bad_request(f"wrong remote file identifier specified: {field}")
        if re.match(r"^https?://", value):
            name = value.rstrip("/").rsplit("/", 1)[-1] or None
            return self._create_files(kind, f"downloaded {value}".encode(), name, None)
        record = self._files.get(value)
        if record is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise bad_request("type of file mismatch")
        if kind == "photo":
            return [self._files[file_id] for file_id in record.group or (record.file_id,)]
        return [record]

    def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        data = self.bot.json()
        data.update(
            {
                "can_join_groups": True,
                "can_read_all_group_messages": True,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return data

    def _get_updates(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        if self._webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = self._as_int(params.get("offset", 0) or 0, "offset")
        limit = min(100, max(1, self._as_int(params.get("limit", 100) or 100, "limit")))
        try:
            timeout = float(params.get("timeout", 0) or 0)
        except (TypeError, ValueError):
            timeout = 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        self._confirm(offset)
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            batch = self._take_batch(offset, limit)
            if batch or self._stopping.is_set():
                return batch
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._cond.wait(remaining)
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u[0] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _allowed(self, kind: str) -> bool:
        allowed = self._allowed_updates
        if not allowed:
            return kind not in OPT_IN_UPDATES
        return kind in allowed

    def _take_batch(self, offset: int, limit: int) -> list[JSON]:
        batch: list[JSON] = []
        while self._redeliver and len(batch) < limit:
            update_id, kind, payload = self._redeliver.pop(0)
            batch.append({"update_id": update_id, kind: payload})
        # Updates of kinds the bot did not ask for are dropped, as Telegram does.
        self._updates = [u for u in self._updates if self._allowed(u[1])]
        for update_id, kind, payload in self._updates:
            if len(batch) >= limit:
                break
            if offset > 0 and update_id < offset:
                continue
            batch.append({"update_id": update_id, kind: payload})
        self._delivered.extend(u["update_id"] for u in batch)
        return batch

    def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self._webhook = None
            return True
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {k: v for k, v in params.items() if k != "certificate"}
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        return True

    def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
            self._redeliver.clear()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        info: JSON = {
            "url": (self._webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["max_connections"] = int(self._webhook.get("max_connections") or 40)
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _scope_key(self, params: JSON) -> tuple[str, str]:
        """(scope, language_code); a chat scope is ``<type>:<chat_id>`` and needs a
        chat the bot knows ("chat not found" otherwise, as Telegram answers)."""
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = str(scope["type"])
        if kind in ("chat", "chat_administrators", "chat_member"):
            kind = f"{kind}:{self._chat_param(scope).id}"
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return kind, language

    def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        commands = self._required(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _COMMAND_NAME_RE.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._scope_key(params)] = [dict(c) for c in commands]
        return True

    def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        return list(self._commands.get(self._scope_key(params), []))

    def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, thread_id, reply_to = self._target(params)
        text, entities, raw = self._formatted(params, "text", "entities", MAX_TEXT)
        if text is None or not text.strip():
            raise bad_request("message text is empty")
        markup = self._markup_param(params)
        message = self._store_bot_message(
            chat,
            "text",
            thread_id,
            reply_to,
            text=text,
            entities=entities,
            sent_text=raw,
            parse_mode=params.get("parse_mode") or None,
            reply_markup=markup,
        )
        return message.json()

    def _media_sender(self, kind: str) -> Handler:
        def send(params: JSON, files: dict[str, UploadedFile]) -> JSON:
            chat, thread_id, reply_to = self._target(params)
            caption, entities, raw = self._formatted(
                params, "caption", "caption_entities", MAX_CAPTION
            )
            markup = self._markup_param(params)
            records = self._resolve_input(kind, params.get(kind), files, kind)
            if kind == "sticker" and params.get("emoji"):
                records[0].emoji = str(params["emoji"])
            message = self._store_bot_message(
                chat,
                kind,
                thread_id,
                reply_to,
                caption=caption if kind != "sticker" else None,
                entities=entities,
                sent_text=raw,
                parse_mode=params.get("parse_mode") or None,
                media=self._media_json(kind, records),
                file_ids=[r.file_id for r in records],
                reply_markup=markup,
            )
            return message.json()

        return send

    def _send_location(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, thread_id, reply_to = self._target(params)
        latitude, longitude = params.get("latitude"), params.get("longitude")
        if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
            raise bad_request("wrong latitude or longitude specified")
        message = self._store_bot_message(
            chat,
            "location",
            thread_id,
            reply_to,
            media={"latitude": float(latitude), "longitude": float(longitude)},
            reply_markup=self._markup_param(params),
        )
        return message.json()

    def _send_media_group(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        chat, thread_id, reply_to = self._target(params)
        media = self._required(params, "media")
        if not isinstance(media, list):
            raise bad_request("can't parse media JSON object")
        if len(media) > 10:
            raise bad_request("too much messages to send as an album")
        if len(media) < 2:
            raise bad_request("media group must contain 2-10 items")
        kinds = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in (
                "photo",
                "video",
                "document",
                "audio",
            ):
                raise bad_request("can't parse InputMedia JSON object")
            kinds.append(str(item["type"]))
        for special in ("document", "audio"):
            if special in kinds and set(kinds) != {special}:
                raise bad_request(f"{special} can't be mixed with other media types")
        prepared = []
        for index, item in enumerate(media):
            caption, entities, raw = self._formatted(
                item, "caption", "caption_entities", MAX_CAPTION
            )
            records = self._resolve_input(kinds[index], item.get("media"), files, f"media[{index}]")
            prepared.append((kinds[index], caption, entities, raw, item, records))
        group = str(next(self._media_group_seq))
        sent = []
        for kind, caption, entities, raw, item, records in prepared:
            message = self._store_bot_message(
                chat,
                kind,
                thread_id,
                reply_to,
                caption=caption,
                entities=entities,
                sent_text=raw,
                parse_mode=item.get("parse_mode") or None,
                media=self._media_json(kind, records),
                file_ids=[r.file_id for r in records],
                media_group_id=group,
            )
            sent.append(message.json())
        return sent

    def _source_message(self, params: JSON, missing: str) -> StoredMessage:
        source_chat = self._chat_param(params, "from_chat_id")
        message_id = self._as_int(self._required(params, "message_id"), "message_id")
        source = source_chat.messages.get(message_id)
        if source is None or source.deleted:
            raise bad_request(missing)
        return source

    def _copy_into(
        self,
        source: StoredMessage,
        chat: ChatRecord,
        thread_id: int | None,
        reply_to: int | None,
        params: JSON,
        *,
        media_group_id: str | None = None,
    ) -> StoredMessage:
        if source.kind == "service":
            raise bad_request("the message can't be copied")
        caption, entities = source.caption, source.entities
        if source.kind not in ("text", "location", "sticker"):
            if params.get("remove_caption"):
                caption, entities = None, []
            elif params.get("caption") is not None:
                caption, entities, _ = self._formatted(
                    params, "caption", "caption_entities", MAX_CAPTION
                )
        return self._store_bot_message(
            chat,
            source.kind,
            thread_id,
            reply_to,
            text=source.text,
            caption=caption,
            entities=list(entities),
            media=source.media,
            file_ids=list(source.file_ids),
            media_group_id=media_group_id,
            copied_from=(source.chat.id, source.message_id),
            reply_markup=self._markup_param(params),
        )

    def _copy_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, thread_id, reply_to = self._target(params)
        source = self._source_message(params, "message to copy not found")
        copy = self._copy_into(source, chat, thread_id, reply_to, params)
        return {"message_id": copy.message_id}

    def _copy_messages(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        chat, thread_id, _ = self._target(params)
        source_chat = self._chat_param(params, "from_chat_id")
        ids = self._required(params, "message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        numbers = [self._as_int(i, "message_ids") for i in ids]
        if any(b <= a for a, b in itertools.pairwise(numbers)):
            raise bad_request("message identifiers must be in a strictly increasing order")
        sources = [
            m
            for m in (source_chat.messages.get(i) for i in numbers)
            if m is not None and not m.deleted and m.kind != "service"
        ]
        if not sources:
            raise bad_request("message to copy not found")
        groups: dict[str, str] = {}
        result = []
        for source in sources:
            group = None
            if source.media_group_id is not None:
                group = groups.setdefault(source.media_group_id, str(next(self._media_group_seq)))
            copy = self._copy_into(source, chat, thread_id, None, params, media_group_id=group)
            result.append({"message_id": copy.message_id})
        return result

    def _forward_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, thread_id, _ = self._target(params)
        source = self._source_message(params, "message to forward not found")
        if source.kind == "service":
            raise bad_request("the message can't be forwarded")
        origin = source.forward_origin or {
            "type": "user",
            "date": source.date,
            "sender_user": source.sender.json(),
        }
        message = self._store_bot_message(
            chat,
            source.kind,
            thread_id,
            None,
            text=source.text,
            caption=source.caption,
            entities=list(source.entities),
            media=source.media,
            file_ids=list(source.file_ids),
            forward_origin=origin,
        )
        return message.json()

    def _editable(self, params: JSON) -> StoredMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat_param(params)
        message_id = self._as_int(self._required(params, "message_id"), "message_id")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot or message.kind == "service":
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(
        self,
        message: StoredMessage,
        *,
        text: str | None,
        caption: str | None,
        entities: list[JSON],
        markup: JSON | None,
        raw: str | None,
        params: JSON,
    ) -> JSON:
        unchanged = (
            text == message.text
            and caption == message.caption
            and entities == message.entities
            and markup == message.reply_markup
        )
        if unchanged:
            raise bad_request(NOT_MODIFIED)
        message.history.append(message.snapshot())
        message.text, message.caption, message.entities = text, caption, entities
        message.reply_markup = markup
        if raw is not None:
            message.sent_text = raw
            message.parse_mode = params.get("parse_mode") or None
        message.edit_date = self._now()
        return message.json()

    def _edit_message_text(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text, entities, raw = self._formatted(params, "text", "entities", MAX_TEXT)
        if text is None or not text.strip():
            raise bad_request("message text is empty")
        # Without reply_markup the inline keyboard is removed, as Telegram does.
        return self._apply_edit(
            message,
            text=text,
            caption=None,
            entities=entities,
            markup=self._markup_param(params),
            raw=raw,
            params=params,
        )

    def _edit_message_caption(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(params)
        if message.kind in ("text", "sticker", "location"):
            raise bad_request("there is no caption in the message to edit")
        caption, entities, raw = self._formatted(params, "caption", "caption_entities", MAX_CAPTION)
        return self._apply_edit(
            message,
            text=None,
            caption=caption,
            entities=entities,
            markup=self._markup_param(params),
            raw=raw,
            params=params,
        )

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(params)
        return self._apply_edit(
            message,
            text=message.text,
            caption=message.caption,
            entities=message.entities,
            markup=self._markup_param(params),
            raw=None,
            params=params,
        )

    def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        query_id = str(self._required(params, "callback_query_id"))
        record = self._callbacks.get(query_id)
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.answer = {k: v for k, v in params.items() if k != "callback_query_id"}
        return True

    def _forum(self, params: JSON) -> ChatRecord:
        chat = self._chat_param(params)
        self._check_can_send(chat)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        return chat

    def _managed_topic(
        self, params: JSON, right: str = "can_manage_topics"
    ) -> tuple[ChatRecord, TopicRecord]:
        chat = self._forum(params)
        value = self._required(params, "message_thread_id")
        topic = chat.topics.get(self._as_int(value, "message_thread_id"))
        if topic is None or topic.deleted:
            raise bad_request("TOPIC_ID_INVALID")
        if not topic.created_by_bot and not chat.bot_rights.get(right):
            raise bad_request("not enough rights to manage topics")
        return chat, topic

    def _service(self, chat: ChatRecord, topic: TopicRecord, service: JSON) -> None:
        self._store_bot_message(chat, "service", topic.thread_id, None, service=service)

    def _create_forum_topic(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._forum(params)
        if not chat.bot_rights.get("can_manage_topics"):
            raise bad_request("not enough rights to create a topic")
        name = str(params.get("name") or "")
        if not name.strip():
            raise bad_request("TOPIC_TITLE_EMPTY")
        if len(name) > 128:
            raise bad_request("TOPIC_TITLE_TOO_LONG")
        color = params.get("icon_color")
        if color is None:
            color = TOPIC_ICON_COLORS[len(chat.topics) % len(TOPIC_ICON_COLORS)]
        if color not in TOPIC_ICON_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")  # wording approximate
        emoji = params.get("icon_custom_emoji_id") or None
        topic = self._new_topic(chat, name, int(color), emoji, creator=self.bot)
        return topic.json()

    def _edit_forum_topic(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        _, topic = self._managed_topic(params)
        name = params.get("name")
        emoji = params.get("icon_custom_emoji_id")
        new_name = str(name) if name not in (None, "") else topic.name
        new_emoji = topic.icon_custom_emoji_id if emoji is None else (emoji or None)
        if new_name == topic.name and new_emoji == topic.icon_custom_emoji_id:
            raise bad_request("TOPIC_NOT_MODIFIED")
        if len(new_name) > 128:
            raise bad_request("TOPIC_TITLE_TOO_LONG")
        topic.name, topic.icon_custom_emoji_id = new_name, new_emoji
        chat = self._chats[topic.chat_id]
        edited: JSON = {"name": new_name}
        if new_emoji:
            edited["icon_custom_emoji_id"] = new_emoji
        self._service(chat, topic, {"forum_topic_edited": edited})
        return True

    def _topic_toggler(self, *, closed: bool) -> Handler:
        def toggle(params: JSON, files: dict[str, UploadedFile]) -> bool:
            chat, topic = self._managed_topic(params)
            if topic.closed == closed:
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic.closed = closed
            key = "forum_topic_closed" if closed else "forum_topic_reopened"
            self._service(chat, topic, {key: {}})
            return True

        return toggle

    def _delete_forum_topic(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat, topic = self._managed_topic(params, "can_delete_messages")
        if not topic.created_by_bot and not chat.bot_rights.get("can_delete_messages"):
            raise bad_request("not enough rights to delete a topic")
        self._drop_topic(chat, topic)
        return True

    def _get_file(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        file_id = str(self._required(params, "file_id"))
        record = self._files.get(file_id)
        if record is None:
            raise bad_request("invalid file_id")
        if record.size > MAX_GETFILE_SIZE:
            raise bad_request("file is too big")
        if record.file_path is None:
            folder, suffix = FILE_DIRS[record.kind]
            if record.kind == "document" and record.file_name and "." in record.file_name:
                suffix = "." + record.file_name.rsplit(".", 1)[-1]
            record.file_path = f"{folder}/file_{len(self._paths()) + 1}{suffix}"
        return record.file_json()

    def _get_chat(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_param(params)
        if chat.type != "private" and chat.bot_status in ("left", "kicked"):
            raise forbidden("bot is not a member of the supergroup chat")
        return chat.full_json()

    def _get_chat_member(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_param(params)
        user_id = self._as_int(self._required(params, "user_id"), "user_id")
        if user_id == self.bot.id:
            status = chat.bot_status if chat.type != "private" else "member"
            return self._member_json(status, self.bot, chat.bot_rights)
        user = self._users.get(user_id)
        if user is None:
            raise bad_request("PARTICIPANT_ID_INVALID")
        if chat.type == "private":
            status = "member" if user_id == chat.id else "left"
        else:
            status = chat.members.get(user_id, "left")
        return self._member_json(status, user)

    def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_param(params)
        message_id = self._as_int(self._required(params, "message_id"), "message_id")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if message.service and "forum_topic_created" in message.service:
            raise bad_request("message can't be deleted")
        if (
            chat.type != "private"
            and not message.from_bot
            and not chat.bot_rights.get("can_delete_messages")
        ):
            raise bad_request("message can't be deleted")
        message.deleted = True
        return True

    def _set_message_reaction(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_param(params)
        message_id = self._as_int(self._required(params, "message_id"), "message_id")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("MESSAGE_ID_INVALID")
        reaction = params.get("reaction") or []
        if not isinstance(reaction, list):
            raise bad_request("can't parse reaction types JSON object")
        for item in reaction:
            if not isinstance(item, dict) or item.get("type") not in (
                "emoji",
                "custom_emoji",
                "paid",
            ):
                raise bad_request("REACTION_INVALID")
        if len(reaction) > 1:
            raise bad_request("REACTIONS_TOO_MANY")
        message.reactions = list(reaction)
        return True

    def _send_chat_action(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_param(params)
        self._check_can_send(chat)
        self._thread_param(chat, params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True
