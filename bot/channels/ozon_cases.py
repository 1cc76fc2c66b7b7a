"""Ozon buyer chats with staff: a question the FAQ cannot settle opens a case.

A buyer message in an Ozon chat that the FAQ does not answer surely (and every message
of a chat whose case is open) goes to the seller's staff group like a bot-chat
buyer's: a case, its forum topic, its card (with the chat's order number), deadlines,
reminders. Each Ozon chat has a key of its own in the desk (``storage.repo.channels``),
like a Telegram Business chat: its buyer is a buyer without a Telegram id, and what
the desk writes to that key (staff replies, notes) goes out through this module's
:class:`OzonCaseSender` into the Ozon chat: texts in parts of at most 1,000
characters, files (a staff photo or document) through ``/v1/chat/send/file``.

What Ozon chats cannot carry is not sent there: buttons (ratings, the complaint
button): those notes are left out. Ozon refusing a send (the chat's reply window has
closed, 48 hours after the buyer's last message for FBO, 72 hours after delivery for
FBS) fails the row at once and tells staff in the topic, rather than trying again.
"""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from telegram import Bot

from sellerdesk.bot.channels.ozon_client import OzonApiError, OzonRefusedError, split_text
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.telegram_io.outbox.jobs import Job
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import channels
from sellerdesk.storage.types import utcnow

if TYPE_CHECKING:  # ozon_chats hands messages to this module: imported for types only
    from sellerdesk.bot.channels.ozon_chats import OzonChats

log = logging.getLogger(__name__)

#: Names Ozon's file send gets for each Telegram media kind.
FILE_NAMES = {"photo": "photo.jpg", "document": "document", "video": "video.mp4"}
#: Files larger than this are not sent into Ozon chats, nor fetched from them.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: A picture in an Ozon chat message: a Markdown image link (``![name](url)``).
PICTURE = re.compile(r"!\[[^\]]*\]\((\S+?)\)")
#: Pictures of one message passed on at most.
MAX_PICTURES = 10


def relay(
    session: Session,
    ctx: DeskContext,
    seller: Seller,
    chat_id: str,
    message_id: str,
    body: str,
    lang: str,
    order_number: str | None,
) -> bool:
    """Hand an Ozon buyer's message to staff: into the chat's open case, or a new case
    (its card carries a short question whole). Pictures in it (Markdown image links)
    follow as photos, fetched from Ozon when sent. Returns whether a case was opened."""
    pictures = PICTURE.findall(body)
    body = PICTURE.sub("", body).strip() or ("📷" if pictures else "📎")
    chat, buyer = channels.ozon_buyer(session, seller.id, chat_id, lang)
    key = channels.ozon_chat_key(chat)
    number = _message_number(message_id)
    case, created = cases.open_case(
        session,
        ctx,
        seller,
        buyer,
        subject=body,
        lang=lang,
        chat_id=key,
        carries=(key, number) if cases.carries_message(body, False) else None,
        orders=[order_number] if order_number else [],
    )
    if not created and order_number and order_number not in case.order_numbers:
        cases_repo.update_details(session, case.id, add_order_number=order_number)
    if created and cases.carries_message(body, False) and case.admin_id is None:
        cases.carried_to_staff(session, case, seller, utcnow())
    else:
        cases.relay_to_staff(
            session,
            case,
            seller,
            buyer_chat_id=key,
            message_id=number,
            body=body,
        )
    for n, url in enumerate(pictures[:MAX_PICTURES], 1):
        cases.relay_to_staff(
            session,
            case,
            seller,
            buyer_chat_id=key,
            message_id=number + (n << 56),
            media=(outgoing.OZON_PICTURE, url),
        )
    return created


def _message_number(message_id: str) -> int:
    """Ozon's uint64 message id as a number the mapping's BIGINT column holds (the bits
    above 56 number the message's pictures)."""
    return int(message_id) % (1 << 56) if message_id.isdigit() else 0


class OzonCaseSender:
    """Sends the outbox rows written to Ozon chats' keys (see the module)."""

    def __init__(self, db: Database, bot: Bot, chats: OzonChats) -> None:
        self.db = db
        self.bot = bot
        self.chats = chats

    def _route(self, key: int) -> tuple[str, str] | None:
        with self.db.transaction() as session:
            return channels.ozon_route(session, key)

    async def send(self, job: Job) -> list[int]:
        """Make the row's sends into its Ozon chat; returns the row's id as the one
        message id (Ozon names none), so the mapping stays unique.

        Raises:
            OzonRefusedError: Ozon will not take it (a closed window...): do not retry.
            OzonApiError: anything else: try again later.
        """
        route = await self.db.run(self._route, job.chat_id)
        seller = self.chats.ctx.seller(route[0]) if route else None
        if route is None or seller is None or seller.ozon is None:
            raise OzonRefusedError("the Ozon chat or its seller is no longer known")
        client = await self.chats.client_for(seller)
        if client is None:
            raise OzonApiError(f"no access to Ozon for {seller.id} now")
        payload: dict[str, Any] = job.payload
        content = payload.get("content") or {}
        body = str(payload.get("folded_text") or content.get("body") or payload.get("text") or "")
        media = content.get("media")
        if media:
            data = await self._download(str(media[1]))
            name = FILE_NAMES.get(str(media[0]), "file")
            await client.send_file(route[1], name, base64.b64encode(data).decode())
        for item in payload.get("media") or ():
            # An FAQ answer's files (``outgoing.SEND_MEDIA``), from the seller's folder.
            await client.send_local_file(route[1], Path(str(item["path"])))
        for part in split_text(body):
            await client.send(route[1], part)
        return [job.id]

    async def picture(self, job: Job, url: str) -> bytes:
        """A buyer's picture from their Ozon chat, for a row showing it to staff.

        Raises:
            OzonRefusedError: Ozon will not give it (or the address is not Ozon's).
            OzonApiError: try again later.
        """
        case_seller = await self.db.run(self._seller_of_case, job.case_id)
        seller = self.chats.ctx.seller(case_seller) if case_seller else None
        if seller is None or seller.ozon is None:
            raise OzonRefusedError("the case's seller no longer has Ozon")
        client = await self.chats.client_for(seller)
        if client is None:
            raise OzonApiError(f"no access to Ozon for {seller.id} now")
        return await client.fetch_file(url, MAX_FILE_BYTES)

    def _seller_of_case(self, case_id: int | None) -> str | None:
        with self.db.transaction() as session:
            case = cases_repo.get_case(session, case_id) if case_id else None
            return case.seller_id if case else None

    async def _download(self, file_id: str) -> bytes:
        found = await self.bot.get_file(file_id)
        if found.file_size is not None and found.file_size > MAX_FILE_BYTES:
            raise OzonRefusedError(f"the file is over {MAX_FILE_BYTES // 2**20} MB")
        return bytes(await found.download_as_bytearray())


def has_open_case(session: Session, seller_id: str, chat_id: str) -> bool:
    """Whether the Ozon chat has a case open with staff (its messages then go there)."""
    buyer_id = channels.ozon_chat_buyer(session, seller_id, chat_id)
    return (
        buyer_id is not None and cases_repo.find_open_case(session, buyer_id, seller_id) is not None
    )
