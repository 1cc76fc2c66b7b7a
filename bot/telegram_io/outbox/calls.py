"""The Bot API call each kind of outbox row makes."""

from __future__ import annotations

from typing import Any

from telegram import Bot, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest

from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.telegram_io.outbox.jobs import Job, markup
from sellerdesk.storage.models import OutboxKind

#: Telegram's answer to a topic edit that changes nothing (taken as done).
NOT_MODIFIED = "TOPIC_NOT_MODIFIED"


#: The Bot API call that sends each media kind anew by file id, and whether it takes a caption.
MEDIA_SENDERS = {
    "photo": ("send_photo", True),
    "video": ("send_video", True),
    "animation": ("send_animation", True),
    "document": ("send_document", True),
    "audio": ("send_audio", True),
    "voice": ("send_voice", True),
    "video_note": ("send_video_note", False),
    "sticker": ("send_sticker", False),
}
#: Telegram's limit on a caption, in characters.
CAPTION_CHARS = 1024


async def call(bot: Bot, job: Job, upload: bytes | None = None) -> list[int]:
    """Make the row's call; returns the ids of the messages it created.

    A row for a Telegram Business chat goes to the buyer's Telegram id (``to``) on
    behalf of the business connection (``business``). ``upload``: the bytes of a picture
    fetched for the row (a buyer's picture from an Ozon chat), sent as a photo."""
    p = job.payload
    to = p.get("to", job.chat_id)
    business = p.get("business")
    if job.kind == OutboxKind.SEND_TEXT:
        message = await bot.send_message(
            to,
            p["text"],
            parse_mode=ParseMode.HTML if p.get("html") else None,
            message_thread_id=job.thread_id,
            reply_parameters=reply_parameters(job),
            reply_markup=markup(p),
            business_connection_id=business,
        )
        return [message.message_id]
    if job.kind == OutboxKind.COPY_MESSAGE and "folded_text" in p:
        # Plain texts of one case folded into one message (see outbox.folding).
        message = await bot.send_message(
            to,
            p["folded_text"],
            message_thread_id=job.thread_id,
            reply_parameters=reply_parameters(job),
            business_connection_id=business,
        )
        return [message.message_id]
    if job.kind == OutboxKind.COPY_MESSAGE and p.get("content") is not None:
        return await send_content(bot, job, to, business, upload)
    if job.kind == OutboxKind.COPY_MESSAGE:
        ids = list(p["message_ids"])
        if len(ids) == 1:
            copied = await bot.copy_message(
                job.chat_id,
                p["from_chat_id"],
                ids[0],
                message_thread_id=job.thread_id,
                reply_parameters=reply_parameters(job),
            )
            return [copied.message_id]
        # copyMessages keeps an album an album; it has no reply parameter.
        copies = await bot.copy_messages(
            job.chat_id, p["from_chat_id"], ids, message_thread_id=job.thread_id
        )
        return [c.message_id for c in copies]
    if job.kind == OutboxKind.CREATE_FORUM_TOPIC:
        topic = await bot.create_forum_topic(job.chat_id, p["name"])
        return [topic.message_thread_id]
    if job.thread_id is None:
        return []  # a topic call for a case without a topic: nothing to change
    try:
        if job.kind == OutboxKind.EDIT_FORUM_TOPIC:
            await bot.edit_forum_topic(job.chat_id, job.thread_id, name=p["name"])
        elif job.kind == outgoing.CLOSE_FORUM_TOPIC:
            await bot.close_forum_topic(job.chat_id, job.thread_id)
        elif job.kind == outgoing.REOPEN_FORUM_TOPIC:
            await bot.reopen_forum_topic(job.chat_id, job.thread_id)
        else:
            raise ValueError(f"unknown outbox kind {job.kind!r}")
    except BadRequest as error:
        if NOT_MODIFIED not in error.message:
            raise
    return []


async def send_content(
    bot: Bot, job: Job, to: int, business: str | None, upload: bytes | None = None
) -> list[int]:
    """A message sent anew from its content (a copy to or from a business chat):
    its file by file id with the text as caption, or its text. A caption over
    Telegram's limit goes as a text after the file."""
    content = job.payload["content"]
    body = str(content.get("body") or "")
    media = content.get("media")
    common: dict[str, Any] = {
        "message_thread_id": job.thread_id,
        "business_connection_id": business,
    }
    ids: list[int] = []
    if upload is not None:
        sent = await bot.send_photo(
            to, upload, reply_parameters=reply_parameters(job), caption=body or None, **common
        )
        return [sent.message_id]
    if media and media[0] in MEDIA_SENDERS:
        method, captioned = MEDIA_SENDERS[media[0]]
        caption = body if captioned and 0 < len(body) <= CAPTION_CHARS else None
        sent = await getattr(bot, method)(
            to,
            media[1],
            reply_parameters=reply_parameters(job),
            **common,
            **({"caption": caption} if caption else {}),
        )
        ids.append(sent.message_id)
        if caption is not None or not body.strip():
            return ids
    if body.strip():
        sent = await bot.send_message(
            to,
            outgoing.fit_message(body, html=False),
            reply_parameters=None if ids else reply_parameters(job),
            **common,
        )
        ids.append(sent.message_id)
    return ids


def reply_parameters(job: Job) -> ReplyParameters | None:
    """Reply parameters for the row's ``reply_to``, if it has one."""
    if job.reply_to is None:
        return None
    # The replied-to message may be gone (deleted, or in a deleted topic): send anyway.
    return ReplyParameters(job.reply_to, allow_sending_without_reply=True)
