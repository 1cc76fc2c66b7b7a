"""FAQ answers with files (outbox rows of kind ``send_media``): a photo, a document or
an album, the answer's text as its caption.

* One file and a text within the caption limit (1,024 characters): one message, the
  file with the text and the buttons under it (a size chart and its answer arrive
  together).
* One file and a longer text: the file, then the text with the buttons.
* Several files: an album (2-10, one kind: Telegram mixes no documents with pictures),
  then the text with the buttons, since an album carries no buttons; with no buttons
  to carry, the text is the album's caption when it fits.

A file goes up once: Telegram's file id of it is stored by the file's SHA-256
(``storage.repo.senders``) and later answers send that id, in every chat. An id
Telegram no longer takes (the bot's token changed) is dropped and the files are
uploaded again in the same try. A file gone from the seller's folder since the FAQ
was loaded is left out (logged), so the buyer still gets the answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from telegram import Bot, InputFile, InputMediaDocument, InputMediaPhoto, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from sellerdesk.bot.database import Database
from sellerdesk.bot.telegram_io.outbox.calls import CAPTION_CHARS, reply_parameters
from sellerdesk.bot.telegram_io.outbox.jobs import Job, markup
from sellerdesk.faq.content.model import PHOTO
from sellerdesk.storage.repo import senders

log = logging.getLogger(__name__)

#: Telegram's answers to a file id it does not take (from another bot, or lost).
STALE_FILE_ID = re.compile(
    r"wrong (remote )?file identifier|file reference|type of file mismatch|wrong file_id",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Item:
    """One file of a row: sent by its file id when Telegram has it, else uploaded."""

    name: str
    kind: str
    digest: str
    file_id: str | None = None
    data: bytes | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.digest, self.kind

    def input(self) -> str | InputFile:
        if self.file_id is not None:
            return self.file_id
        assert self.data is not None
        return InputFile(self.data, filename=Path(self.name).name, attach=True)


class MediaSender:
    """Sends ``send_media`` rows, uploading each file once."""

    def __init__(self, db: Database, bot: Bot) -> None:
        self.db = db
        self.bot = bot

    async def send(self, job: Job) -> list[int]:
        """Send the row; returns the ids of its messages.

        Raises:
            TelegramError: as the calls raise it (the delivery settles the row).
        """
        items = await self.db.run(self._prepare, job, False)
        try:
            sent, learned = await send_media(self.bot, job, items)
        except BadRequest as error:
            stale = [i.key for i in items if i.file_id is not None]
            if not stale or not STALE_FILE_ID.search(error.message):
                raise
            log.warning("outbox %s: stored file ids refused (%s); uploading", job.id, error)
            await self.db.run(self._forget, stale)
            items = await self.db.run(self._prepare, job, True)
            sent, learned = await send_media(self.bot, job, items)
        await self.db.run(self._remember, learned, [i.key for i in items if i.file_id])
        return sent

    def _prepare(self, job: Job, fresh: bool) -> list[Item]:
        listed = [dict(m) for m in job.payload.get("media") or []]
        keys = [(str(m["digest"]), str(m["kind"])) for m in listed]
        known: dict[tuple[str, str], str] = {}
        if not fresh:
            with self.db.transaction() as session:
                known = senders.uploaded(session, keys)
        items: list[Item] = []
        for m, key in zip(listed, keys, strict=True):
            base = Item(name=str(m["name"]), kind=key[1], digest=key[0])
            if key in known:
                items.append(replace(base, file_id=known[key]))
                continue
            try:
                data = Path(str(m["path"])).read_bytes()
            except OSError as error:
                log.error(
                    "outbox %s: %s is gone from the seller's folder (%s); the answer goes "
                    "without it",
                    job.id,
                    m["name"],
                    error.strerror,
                )
                continue
            items.append(replace(base, data=data))
        return items

    def _forget(self, keys: list[tuple[str, str]]) -> None:
        with self.db.transaction() as session:
            senders.forget_uploads(session, keys)

    def _remember(self, learned: dict[tuple[str, str], str], used: list[tuple[str, str]]) -> None:
        if not learned and not used:
            return
        with self.db.transaction() as session:
            senders.remember_uploads(session, learned)
            senders.touch_uploads(session, used)


def _file_id(message: Message, kind: str) -> str | None:
    if kind == PHOTO:
        return message.photo[-1].file_id if message.photo else None
    return message.document.file_id if message.document else None


async def send_media(
    bot: Bot, job: Job, items: list[Item]
) -> tuple[list[int], dict[tuple[str, str], str]]:
    """Make the row's calls (see the module); returns the message ids and the file ids
    Telegram gave the files uploaded."""
    p = job.payload
    text = str(p.get("text") or "")
    parse_mode = ParseMode.HTML if p.get("html") else None
    keyboard = markup(p)
    common: dict[str, Any] = {
        "message_thread_id": job.thread_id,
        "business_connection_id": p.get("business"),
    }
    to = p.get("to", job.chat_id)
    fits = 0 < len(text) <= CAPTION_CHARS
    ids: list[int] = []
    learned: dict[tuple[str, str], str] = {}
    caption_used = False
    if len(items) == 1:
        item = items[0]
        method = bot.send_photo if item.kind == PHOTO else bot.send_document
        message = await method(
            to,
            item.input(),
            caption=text if fits else None,
            parse_mode=parse_mode if fits else None,
            reply_markup=keyboard if fits else None,
            reply_parameters=reply_parameters(job),
            **common,
        )
        caption_used = fits
        ids.append(message.message_id)
        messages = [message]
    elif items:
        caption_used = fits and keyboard is None
        group: list[InputMediaPhoto | InputMediaDocument] = []
        for index, item in enumerate(items):
            caption = text if caption_used and index == 0 else None
            mode = parse_mode if caption else None
            if item.kind == PHOTO:
                group.append(InputMediaPhoto(item.input(), caption=caption, parse_mode=mode))
            else:
                group.append(InputMediaDocument(item.input(), caption=caption, parse_mode=mode))
        messages = list(
            await bot.send_media_group(to, group, reply_parameters=reply_parameters(job), **common)
        )
        ids.extend(m.message_id for m in messages)
    else:
        messages = []
    for item, message in zip(items, messages, strict=False):
        found = _file_id(message, item.kind)
        if item.file_id is None and found is not None:
            learned[item.key] = found
    if not caption_used and (text.strip() or keyboard is not None):
        message = await bot.send_message(
            to,
            text or "…",
            parse_mode=parse_mode,
            reply_markup=keyboard,
            reply_parameters=None if ids else reply_parameters(job),
            **common,
        )
        ids.append(message.message_id)
    return ids, learned
