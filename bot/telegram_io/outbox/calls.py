"""The Bot API call each kind of outbox row makes."""

from __future__ import annotations

from telegram import Bot, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest

from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.telegram_io.outbox.jobs import Job, keyboard
from sellerdesk.storage.models import OutboxKind

#: Telegram's answer to a topic edit that changes nothing (taken as done).
NOT_MODIFIED = "TOPIC_NOT_MODIFIED"


async def call(bot: Bot, job: Job) -> list[int]:
    """Make the row's call; returns the ids of the messages it created."""
    p = job.payload
    if job.kind == OutboxKind.SEND_TEXT:
        message = await bot.send_message(
            job.chat_id,
            p["text"],
            parse_mode=ParseMode.HTML if p.get("html") else None,
            message_thread_id=job.thread_id,
            reply_parameters=reply_parameters(job),
            reply_markup=keyboard(p.get("buttons")),
        )
        return [message.message_id]
    if job.kind == OutboxKind.COPY_MESSAGE and "folded_text" in p:
        # Plain texts of one case folded into one message (see outbox.folding).
        message = await bot.send_message(
            job.chat_id,
            p["folded_text"],
            message_thread_id=job.thread_id,
            reply_parameters=reply_parameters(job),
        )
        return [message.message_id]
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


def reply_parameters(job: Job) -> ReplyParameters | None:
    """Reply parameters for the row's ``reply_to``, if it has one."""
    if job.reply_to is None:
        return None
    # The replied-to message may be gone (deleted, or in a deleted topic): send anyway.
    return ReplyParameters(job.reply_to, allow_sending_without_reply=True)
