"""The buyer's side of the desk: choosing a shop, FAQ answers, opening and feeding
cases, ratings, the case list and the language choice.

:class:`BuyerConversation` handles every update from a buyer's private chat: the
commands here, messages (:mod:`bot.desk.buyer_messages`) and buttons
(:mod:`bot.desk.buyer_buttons`), on the shared state of :mod:`bot.desk.buyer_chat`.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sellerdesk.bot.desk import cases
from sellerdesk.bot.desk.buyer_buttons import BuyerButtons
from sellerdesk.bot.desk.buyer_chat import BuyerChat, Where
from sellerdesk.bot.desk.buyer_messages import BuyerMessages
from sellerdesk.bot.desk.callbacks import Button, data
from sellerdesk.bot.desk.inbound import Incoming
from sellerdesk.bot.i18n.texts import LANGUAGE_NAMES, LANGUAGES, text
from sellerdesk.faq.content.model import PRODUCT_SEPARATOR, START_PAYLOAD
from sellerdesk.storage.models import CaseKind, ReturnDecision
from sellerdesk.storage.repo import buyers
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import returns as returns_repo

log = logging.getLogger(__name__)

#: Deep-link payload: ``<seller-id>`` or ``<seller-id>__<offer-id>``. Telegram allows
#: only ``A-Za-z0-9_-`` and 64 characters in a payload, so products whose offer id
#: has other characters cannot be linked directly (their seller can).
#: The buyers' commands, in the order the menu and /help show them.
COMMANDS = ("start", "help", "cases", "close", "return", "complain", "language", "forget_me")
#: What /cases says of an open return, by staff's decision.
RETURN_STATUS: dict[ReturnDecision | None, str] = {
    ReturnDecision.APPROVING: "pending",
    ReturnDecision.APPROVED: "approved",
    ReturnDecision.REJECTED: "rejected",
}
#: Cases listed by /cases.
CASES_LISTED = 10


class BuyerConversation(BuyerMessages, BuyerButtons, BuyerChat):
    """Handles updates from buyers' private chats: commands here, messages and buttons
    in the parts it inherits."""

    def start(self, msg: Incoming) -> None:
        """``/start [payload]``: open a seller (and product) from a deep link, or offer
        a choice of sellers."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = Where(session, buyer, msg.chat_id)
            payload = msg.args.split()[0] if msg.args.split() else ""
            lang = self._lang(buyer, None, msg.user_lang)
            if not payload:
                seller = self.ctx.faq.only_seller()
                if seller is None:
                    sellers = self.ctx.content.sellers.values()
                    buttons = [[(s.name, data(Button.SELLER, s.id))] for s in sellers]
                    self._say(w, "pick_seller", lang, buttons=buttons)
                    return
                self._choose(w, seller, None, msg.user_lang)
                return
            seller_id, _, offer = payload.partition(PRODUCT_SEPARATOR)
            seller = (
                self.ctx.faq.seller(seller_id.lower()) if START_PAYLOAD.match(payload) else None
            )
            if seller is None:
                self._say(w, "unknown_seller", lang, seller=payload[:64])
                return
            product = None
            if offer:
                product = seller.product(offer) or next(
                    (p for p in seller.products if p.offer_id.lower() == offer.lower()), None
                )
            self._choose(w, seller, product.offer_id if product else None, msg.user_lang)
        if product is not None:
            # The card's lines are encoded now, after the transaction: the buyer's first
            # question from the card does not wait for them.
            self.ctx.faq.matcher(seller).prepare_offer(product.offer_id)

    def greet(self, msg: Incoming) -> None:
        """An unknown command: the greeting (or the choice of sellers)."""
        self.start(replace(msg, args=""))

    def help(self, msg: Incoming) -> None:
        """``/help``: what the bot does and every command, in the buyer's language, in
        any state (mid-case, mid-return, before choosing a shop)."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            lines = [text("help_intro", lang)]
            lines += [f"/{c} — {text(f'cmd_{c}', lang)}" for c in COMMANDS if c != "help"]
            self._send(Where(session, buyer, msg.chat_id), "\n".join(lines))

    def list_cases(self, msg: Incoming) -> None:
        """``/cases``: the buyer's cases with every seller, newest first."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = Where(session, buyer, msg.chat_id)
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            found = cases_repo.list_buyer_cases(session, buyer.id, limit=CASES_LISTED)
            if not found:
                self._say(w, "cases_none", lang)
                return
            lines = [text("cases_header", lang)]
            for case in found:
                seller = self.ctx.seller(case.seller_id)
                shop = seller.name if seller else case.seller_id
                status = text("status_open" if cases.is_open(case) else "status_closed", lang)
                if case.kind is CaseKind.RETURN and cases.is_open(case):
                    # What the buyer waits for is the decision, not the case.
                    request = returns_repo.get_by_case(session, case.id)
                    decision = request.decision if request else None
                    status = text(f"status_return_{RETURN_STATUS.get(decision, 'pending')}", lang)
                subject = cases.clip(" ".join((case.subject or "").split()), 60)
                if case.kind is CaseKind.RETURN and case.subject:
                    # Its subject is in the staff's language; the buyer reads their own.
                    order = case.order_numbers[0] if case.order_numbers else ""
                    subject = text("return_subject", lang, order=order).strip()
                line = f"#{case.number} · {shop} · {status}"
                lines.append(f"{line} · {subject}" if subject else line)
            self._send(w, "\n".join(lines))

    def language(self, msg: Incoming) -> None:
        """``/language``: buttons to choose the language the bot speaks."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = Where(session, buyer, msg.chat_id)
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            buttons = [[(LANGUAGE_NAMES[code], data(Button.LANG, code)) for code in LANGUAGES]]
            self._say(w, "language_pick", lang, buttons=buttons)

    def start_return(self, msg: Incoming) -> None:
        """``/return``: start the return flow with the current shop."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            seller = self._seller(buyer)
            lang = self._lang(buyer, seller, msg.user_lang)
            self.returns.start(session, buyer, msg.chat_id, seller, lang)

    def cancel(self, msg: Incoming) -> None:
        """``/cancel``: abandon the return flow at whatever step it is."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            self.returns.cancel(session, buyer, msg.chat_id, lang)

    def skip(self, msg: Incoming) -> None:
        """``/skip``: no comment on the return request, or no rating comment after all."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = Where(session, buyer, msg.chat_id)
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            if self.returns.skip(session, buyer, msg.chat_id, lang):
                return
            buyers.set_comment_case(session, buyer.id, None)
            self._say(w, "comment_skipped", self._lang(buyer, self._seller(buyer), msg.user_lang))

    def complain(self, msg: Incoming) -> None:
        """``/complain``: take the buyer's case to the platform admins (the open case
        with the current shop, else their latest case)."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = Where(session, buyer, msg.chat_id)
            seller = self._seller(buyer)
            case = cases_repo.find_open_case(session, buyer.id, seller.id) if seller else None
            if case is None:
                latest = cases_repo.list_buyer_cases(session, buyer.id, limit=1)
                case = latest[0] if latest else None
            self._complain(w, case, self._lang(buyer, seller, msg.user_lang))

    def close(self, msg: Incoming) -> None:
        """``/close``: the buyer closes their open case with the current shop (the
        question was settled, or they no longer need it); staff are told and the buyer
        is asked to rate it, as when staff close it."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = Where(session, buyer, msg.chat_id)
            seller = self._seller(buyer)
            case = cases_repo.find_open_case(session, buyer.id, seller.id) if seller else None
            lang = self._lang(buyer, seller, msg.user_lang)
            if case is None or seller is None:
                self._say(w, "close_none", lang)
                return
            name = text("the_buyer", cases.staff_lang(seller))
            cases.close(session, self.ctx, case, seller, actor="buyer", name=name)

    def forget_me(self, msg: Incoming) -> None:
        """``/forget_me``: ask for confirmation before deleting the buyer's data (a
        stray tap on a command must not erase a conversation)."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = Where(session, buyer, msg.chat_id)
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            buttons = [
                [
                    (text("button_forget_yes", lang), data(Button.FORGET, "yes")),
                    (text("button_forget_no", lang), data(Button.FORGET, "no")),
                ]
            ]
            self._say(w, "forget_confirm", lang, buttons=buttons)
