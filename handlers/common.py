"""Reading Telegram updates into the desk's plain data (:mod:`bot.desk.inbound`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes

from sellerdesk.bot.desk.inbound import Incoming, Kind, NotMappedYet, Press
from sellerdesk.bot.reports.stats import ChartReply, StatsReports, send_chart
from sellerdesk.bot.service import DeskService

#: A PTB handler callback.
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
#: Picks the desk method that handles a message (picked at call time: the desk is
#: prepared after the handlers are registered).
Work = Callable[[DeskService], Callable[[Incoming], None]]


#: Picks a desk method that may ask to be tried again (see :class:`NotMappedYet`).
RetryingWork = Callable[[DeskService], Callable[..., None]]
#: Tries, and the pause between them, for a message that refers to a bot message whose
#: mapping the sender is still writing (milliseconds in practice; a second is generous).
MAPPING_TRIES = 5
MAPPING_PAUSE_S = 0.2


def on_message_retrying(service: DeskService, work: RetryingWork) -> Callback:
    """Like :func:`on_message`, trying again while the desk raises :class:`NotMappedYet`
    (the last try is told it is final and then acts on what it finds)."""

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = incoming(update)
        if msg is None:
            return
        for attempt in range(1, MAPPING_TRIES + 1):
            final = attempt == MAPPING_TRIES

            def run(m: Incoming, final: bool = final) -> None:
                work(service)(m, final=final)

            try:
                await service.call(run, msg)
                return
            except NotMappedYet:
                await asyncio.sleep(MAPPING_PAUSE_S)

    return handler


#: Picks the chart a ``/stats`` command asks for (staff's or the admins').
ChartWork = Callable[[StatsReports], Callable[[Incoming], ChartReply | None]]


def on_chart(service: DeskService, pick: ChartWork) -> Callback:
    """``/stats``: the desk makes the chart off the event loop, then it is sent."""

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = incoming(update)
        if msg is None:
            return
        reports = StatsReports(service.db, service.staff.ctx)
        reply = await service.call(pick(reports), msg)
        if reply is not None:
            pacer = service.sender.pacer if service.sender is not None else None
            await send_chart(context.bot, service.db, reply, pacer)

    return handler


def on_message(service: DeskService, work: Work) -> Callback:
    """A handler that reads the update's message and hands it to ``work``."""

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = incoming(update)
        if msg is not None:
            await service.call(work(service), msg)

    return handler


def _kind(message: Message) -> Kind:
    if message.text is not None:
        return Kind.TEXT
    if message.contact is not None:
        return Kind.CONTACT
    media = (
        message.photo
        or message.document
        or message.video
        or message.voice
        or message.audio
        or message.animation
        or message.video_note
    )
    return Kind.MEDIA if media else Kind.OTHER


#: Media kinds the desk can send anew by file id, in the order a message is read for them.
SENDABLE_MEDIA = (
    "photo",
    "video",
    "animation",
    "document",
    "audio",
    "voice",
    "video_note",
    "sticker",
)


def _media(message: Message) -> tuple[str, str] | None:
    """The message's file as ``(kind, file_id)`` (the largest photo size)."""
    for kind in SENDABLE_MEDIA:
        item = getattr(message, kind, None)
        if not item:
            continue
        if kind == "photo":
            item = item[-1]
        return kind, item.file_id
    return None


def _reply_to(message: Message) -> tuple[int | None, str, bool]:
    """The replied-to message, its text, and whether the bot sent it. In a forum topic
    every message "replies" to the topic's creation message: that is no reply."""
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None:
        return None, "", False
    from_bot = reply.from_user is not None and reply.from_user.is_bot
    return reply.message_id, reply.text or reply.caption or "", from_bot


def _command(body: str) -> tuple[str | None, str]:
    """``/name@bot args`` -> ``("name", "args")``; not a command -> ``(None, "")``."""
    if not body.startswith("/"):
        return None, ""
    head, _, args = body.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    return (name or None), args.strip()


#: Entity kinds Telegram finds by itself in any text it shows (a copy is not needed to
#: keep them).
FOUND_AGAIN = frozenset(
    {"url", "email", "phone_number", "mention", "hashtag", "cashtag", "bot_command"}
)


def incoming(update: Update) -> Incoming | None:
    """The message of ``update`` (new or edited) as :class:`Incoming`; None for updates
    without a message from a person."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or user.is_bot:
        return None
    body = message.text or message.caption or ""
    command, args = _command(message.text or "")
    reply_to, _, reply_to_bot = _reply_to(message)
    return Incoming(
        update_id=update.update_id,
        chat_id=message.chat_id,
        user_id=user.id,
        message_id=message.message_id,
        kind=_kind(message),
        body=body,
        user_lang=user.language_code,
        user_name=user.full_name,
        # Replies in a plain supergroup carry a thread id too; only forum topics count.
        thread_id=message.message_thread_id if message.is_topic_message else None,
        reply_to=reply_to,
        reply_to_bot=reply_to_bot,
        media_group_id=message.media_group_id,
        formatted=any(e.type not in FOUND_AGAIN for e in message.entities or ()),
        edited=update.edited_message is not None or update.edited_business_message is not None,
        command=command,
        args=args,
        media=_media(message),
        business=message.business_connection_id,
    )


def press(update: Update) -> Press | None:
    """The button press of ``update`` as :class:`Press`; None when it names no chat."""
    query = update.callback_query
    if query is None or query.message is None:
        return None
    pressed = query.message
    reply_to: int | None = None
    reply_body = ""
    thread_id: int | None = None
    if isinstance(pressed, Message):
        reply_to, reply_body, _ = _reply_to(pressed)
        thread_id = pressed.message_thread_id if pressed.is_topic_message else None
    return Press(
        update_id=update.update_id,
        chat_id=pressed.chat.id,
        user_id=query.from_user.id,
        message_id=pressed.message_id,
        data=query.data or "",
        user_lang=query.from_user.language_code,
        user_name=query.from_user.full_name,
        thread_id=thread_id,
        reply_to=reply_to,
        reply_body=reply_body,
        business=pressed.business_connection_id if isinstance(pressed, Message) else None,
    )
