"""The buyer's chat: what every kind of buyer update needs (the update claimed, the
buyer, their shop and language, replies to the outbox, a case opened and fed).

:class:`BuyerChat` is the base of the three parts of the buyer's side, which
:class:`bot.desk.buyers.BuyerConversation` puts together: commands
(:mod:`bot.desk.buyers`), messages (:mod:`bot.desk.buyer_messages`) and buttons
(:mod:`bot.desk.buyer_buttons`). Each public method handles one update in one
transaction: it claims the update (a redelivered update does nothing), changes state,
and writes every reply to the outbox. Methods are blocking; handlers run them through
:meth:`Database.run`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, escalation, outgoing
from sellerdesk.bot.desk.answers import EntryAnswer
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.flood import CaseGate, FloodGate
from sellerdesk.bot.desk.inbound import Incoming, Kind, Press
from sellerdesk.bot.desk.outgoing import Buttons, Side
from sellerdesk.bot.desk.returns import ReturnFlow
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.bot.settings import DEFAULT_RETURN_FLOW_TIMEOUT_S
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.models import Buyer, Case
from sellerdesk.storage.repo import buyers, updates
from sellerdesk.storage.repo import cases as cases_repo

log = logging.getLogger(__name__)

DEFAULT_RETURN_TIMEOUT = timedelta(seconds=DEFAULT_RETURN_FLOW_TIMEOUT_S)


@dataclass(frozen=True)
class Where:
    """The buyer's chat and the update being handled."""

    session: Session
    buyer: Buyer
    chat_id: int


class BuyerChat:
    """State and helpers shared by the buyer's commands, messages and buttons."""

    def __init__(
        self, db: Database, ctx: DeskContext, return_timeout: timedelta = DEFAULT_RETURN_TIMEOUT
    ) -> None:
        self.db = db
        self.ctx = ctx
        self.returns = ReturnFlow(ctx, return_timeout)
        self.flood = FloodGate()
        self.case_gate = CaseGate()

    def _may_open_case(self, w: Where, lang: str) -> bool:
        """Whether the buyer may open a new case now; if not, they are told when they
        can (their message is not relayed: they are asked to send it again then)."""
        wait = self.case_gate.take(w.buyer.telegram_id or 0)
        if wait <= 0:
            return True
        minutes = str(max(1, math.ceil(wait / 60)))
        outgoing.send_text(
            w.session,
            chat_id=w.chat_id,
            text=text("case_limit", lang, minutes=minutes),
            side=Side.BUYER,
        )
        log.info("buyer %s: new case refused, %s min to wait", w.buyer.id, minutes)
        return False

    def _begin(self, session: Session, update_id: int, user_id: int) -> Buyer | None:
        """Claim the update and find (or make) the buyer; None if already handled."""
        if not updates.mark_processed(session, update_id):
            log.info("update %s already handled", update_id)
            return None
        # No username or name is stored: the desk never needs them (data minimisation).
        return buyers.get_or_create_buyer(session, user_id)

    def _seller(self, buyer: Buyer) -> Seller | None:
        if buyer.current_seller_id:
            # A seller removed from the files is still found while it has open cases:
            # the buyer's messages must keep reaching theirs.
            seller = self.ctx.seller(buyer.current_seller_id)
            if seller is not None:
                return seller
        return self.ctx.faq.only_seller()

    def _lang(self, buyer: Buyer, seller: Seller | None, *hints: str | None) -> str:
        """The buyer's language: their /language choice, then the hints (language of
        what they wrote, their Telegram setting), then the seller's first language."""
        fallback = seller.default_language if seller else None
        return pick_language(buyer.language, *hints, fallback)

    def _say(
        self,
        w: Where,
        key: str,
        lang: str,
        *,
        buttons: Buttons = (),
        reply_to: int | None = None,
        **values: str,
    ) -> None:
        self._send(w, text(key, lang, **values), buttons=buttons, reply_to=reply_to)

    def _send(
        self,
        w: Where,
        body: str | EntryAnswer,
        *,
        buttons: Buttons = (),
        reply_to: int | None = None,
    ) -> None:
        """A text, or an FAQ answer with its files and link buttons."""
        answer = body if isinstance(body, EntryAnswer) else EntryAnswer(body)
        outgoing.send_answer(
            w.session,
            answer,
            chat_id=w.chat_id,
            side=Side.BUYER,
            buttons=buttons,
            reply_to=reply_to,
        )

    def _choose(
        self, w: Where, seller: Seller, offer_id: str | None, user_lang: str | None
    ) -> None:
        buyers.set_current_seller(w.session, w.buyer.id, seller.id, offer_id)
        lang = self._lang(w.buyer, seller, user_lang)
        greeting = self.ctx.faq.welcome(seller, lang)
        product = seller.product(offer_id) if offer_id else None
        if product is not None:
            greeting += "\n\n" + text("product_chosen", lang, product=product.name)
        self._send(w, greeting)

    def _complain(self, w: Where, case: Case | None, lang: str) -> None:
        seller = self.ctx.seller(case.seller_id) if case else None
        if case is None or seller is None:
            self._say(w, "complain_none", lang)
        elif not cases.is_open(case):
            # Nothing is pending on a closed case; a new message opens a new one.
            self._say(w, "complain_closed", lang, number=str(case.number))
        elif self.ctx.admin_chat_id is None:
            self._say(w, "complain_unavailable", lang)
        elif escalation.complaint(w.session, self.ctx, case, seller):
            self._say(w, "complain_sent", lang, number=str(case.number))
        else:
            self._say(w, "complain_already", lang, number=str(case.number))

    def _relay(self, w: Where, case: Case, seller: Seller, msg: Incoming) -> None:
        if msg.kind is Kind.CONTACT:
            # A contact card shows a name, a phone and a user id: never copied.
            cases.staff_note(w.session, case, seller, "staff_contact_withheld")
            self._say(w, "contact_withheld", self._lang(w.buyer, seller, msg.user_lang))
            return
        if case.admin_id is not None and self.ctx.admin_chat_id is not None:
            # A platform admin holds the case: they read the buyer in the admin chat.
            outgoing.copy_messages(
                w.session,
                chat_id=self.ctx.admin_chat_id,
                from_chat_id=msg.chat_id,
                message_ids=[msg.message_id],
                side=Side.ADMIN,
                case_id=case.id,
                record=None,
            )
        # The case answers where the buyer last wrote it from (the bot's chat, or the
        # seller's Telegram Business account).
        cases_repo.set_buyer_chat(
            w.session, case, None if w.chat_id == w.buyer.telegram_id else w.chat_id
        )
        cases.relay_to_staff(
            w.session,
            case,
            seller,
            buyer_chat_id=msg.chat_id,
            message_id=msg.message_id,
            body=msg.body,
            media_group_id=msg.media_group_id,
            reply_to=msg.reply_to,
            plain=msg.kind is Kind.TEXT and not msg.formatted,
            media=msg.media,
        )

    def _open_from_press(
        self, w: Where, seller: Seller, press: Press, lang: str, answered: str | None = None
    ) -> None:
        """Open a case about the question the pressed message answered, and copy that
        question into the topic so staff read the buyer's own words."""
        question = press.reply_body.strip()
        if cases_repo.find_open_case(
            w.session, w.buyer.id, seller.id
        ) is None and not self._may_open_case(w, lang):
            return
        decision = self.ctx.faq.matcher(seller).decide(question) if question else None
        near = [c for c in decision.candidates if c.target != answered] if decision else []
        case, _ = cases.open_case(
            w.session,
            self.ctx,
            seller,
            w.buyer,
            subject=question or None,
            lang=lang,
            near=near,
            answered=answered,
            chat_id=press.chat_id,
        )
        if press.reply_to is not None:
            cases.relay_to_staff(
                w.session,
                case,
                seller,
                buyer_chat_id=press.chat_id,
                message_id=press.reply_to,
                body=question,
            )
