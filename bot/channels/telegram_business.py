"""Telegram Business: the bot answers buyers who write to the seller's own account.

A seller connects the bot to their Telegram Business account (Settings > Telegram
Business > Chatbots) and names the account in seller.yaml (``telegram_business``).
Telegram then sends the bot a ``business_connection`` update, and every message of the
account's private chats as ``business_message``; the bot answers on behalf of the
account (``business_connection_id`` on each send).

Each buyer's chat with the account is a chat of its own in the desk, with a key above
every Telegram id (``storage.repo.channels``): FAQ answers, cases, staff replies,
ratings and notes work there as in the bot's own chat. What differs:

* a message from the account's own person (the owner, or a manager writing as the
  account) silences the bot in that chat for the seller's ``quiet_minutes``: a person
  is talking, the bot must not interrupt; the buyer's words still reach an open case,
  and staff see what the person wrote;
* the return flow and rating comments stay in the bot's own chat;
* a connection no seller names, one the owner disabled, or one without the right to
  reply is left alone, and the admin chat hears of it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.buyers import BuyerConversation
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.inbound import Incoming, Kind, Press, PressResult
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import text
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.repo import buyers, channels, updates
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connection:
    """A ``business_connection`` update, as plain data."""

    id: str
    owner_id: int
    owner_username: str | None
    can_reply: bool
    enabled: bool


class BusinessChats:
    """Business connections and the messages and presses that come through them."""

    def __init__(self, db: Database, ctx: DeskContext, buyers_side: BuyerConversation) -> None:
        self.db = db
        self.ctx = ctx
        self.buyers = buyers_side

    def seller_of(self, owner_id: int, username: str | None) -> Seller | None:
        """The seller whose seller.yaml names the account (the first, by id, if two do)."""
        for seller_id in sorted(self.ctx.content.sellers):
            seller = self.ctx.content.sellers[seller_id]
            link = seller.telegram_business
            if link is not None and link.owns(owner_id, username):
                return seller
        return None

    def known(self, connection_id: str) -> bool:
        """Whether the desk has a record of the connection (else the handler asks
        Telegram about it: the bot may have been connected while it was down)."""
        with self.db.transaction() as session:
            return channels.get_connection(session, connection_id) is not None

    def connection(self, conn: Connection, update_id: int | None = None) -> None:
        """A connection made, changed or ended: recorded, and the admin chat told what
        the bot will do with it."""
        with self.db.transaction() as session:
            if update_id is not None and not updates.mark_processed(session, update_id):
                return
            seller = self.seller_of(conn.owner_id, conn.owner_username)
            before = channels.get_connection(session, conn.id)
            was = (before.seller_id, before.can_reply, before.enabled) if before else None
            channels.save_connection(
                session,
                conn.id,
                owner_id=conn.owner_id,
                seller_id=seller.id if seller else None,
                can_reply=conn.can_reply,
                enabled=conn.enabled,
            )
            now = (seller.id if seller else None, conn.can_reply, conn.enabled)
            if now == was:
                return
            account = f"@{conn.owner_username}" if conn.owner_username else str(conn.owner_id)
            if seller is None:
                key = "admin_business_unknown"
            elif not conn.enabled:
                key = "admin_business_disabled"
            elif not conn.can_reply:
                key = "admin_business_no_reply"
            else:
                key = "admin_business_connected"
            log.info("business connection %s of %s: %s", conn.id, account, key)
            self._tell_admins(session, key, account, seller)

    def _tell_admins(self, session: Session, key: str, account: str, seller: Seller | None) -> None:
        if self.ctx.admin_chat_id is None:
            return
        outgoing.send_text(
            session,
            chat_id=self.ctx.admin_chat_id,
            text=text(
                key,
                self.ctx.admin_language,
                account=account,
                seller=seller.id if seller else "—",
            ),
            side=Side.ADMIN,
        )

    def message(self, msg: Incoming, *, final: bool = True) -> None:
        """A message in one of a connected account's chats (new or edited)."""
        assert msg.business is not None
        now = utcnow()
        with self.db.transaction() as session:
            conn = channels.get_connection(session, msg.business)
            seller = self.ctx.seller(conn.seller_id) if conn and conn.seller_id else None
            if conn is None or seller is None or not conn.enabled or not conn.can_reply:
                # Not the desk's to answer: the update is done with.
                updates.mark_processed(session, msg.update_id)
                return
            link = seller.telegram_business
            quiet_for = timedelta(minutes=link.quiet_minutes if link else 0)
            if msg.user_id == conn.owner_id:
                # The account's person writes to the buyer (``chat_id``: the buyer).
                if updates.mark_processed(session, msg.update_id) and not msg.edited:
                    chat = channels.business_chat(session, conn.connection_id, msg.chat_id, now)
                    chat.quiet_until = now + quiet_for
                    self._person_wrote(session, seller, msg)
                return
            chat = channels.business_chat(session, conn.connection_id, msg.user_id, now)
            key = channels.business_chat_key(chat)
            quiet = chat.quiet_until is not None and chat.quiet_until > now
        self.buyers.message(replace(msg, chat_id=key), final=final, home=seller.id, quiet=quiet)

    def _person_wrote(self, session: Session, seller: Seller, msg: Incoming) -> None:
        """Staff see in the buyer's open case what the account's person told them."""
        buyer = buyers.get_buyer_by_telegram_id(session, msg.chat_id)
        case = cases_repo.find_open_case(session, buyer.id, seller.id) if buyer else None
        if case is None:
            return
        said = msg.body if msg.kind is Kind.TEXT else msg.body or "📎"
        cases.staff_note(session, case, seller, "staff_business_person_wrote", text=said)

    def press(self, press: Press) -> PressResult:
        """A button of the bot's in a business chat: pressed by the buyer, it works as in
        the bot's chat; the account's own person pressing it changes nothing."""
        assert press.business is not None
        with self.db.transaction() as session:
            conn = channels.get_connection(session, press.business)
            seller = self.ctx.seller(conn.seller_id) if conn and conn.seller_id else None
            if conn is None or seller is None or press.user_id == conn.owner_id:
                updates.mark_processed(session, press.update_id)
                return PressResult()
            chat = channels.business_chat(session, conn.connection_id, press.user_id)
            key = channels.business_chat_key(chat)
        return self.buyers.press(replace(press, chat_id=key))
