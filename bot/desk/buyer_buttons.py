"""Buttons in a buyer's chat: a shop, an FAQ suggestion, Helped, Talk to a person, a
rating, a language, a complaint, forgetting, and the return flow's steps."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sellerdesk.bot.desk import cases
from sellerdesk.bot.desk.buyer_chat import BuyerChat, Where
from sellerdesk.bot.desk.callbacks import BUYER_RETURN_BUTTONS, Button, data
from sellerdesk.bot.desk.inbound import Press, PressResult
from sellerdesk.bot.i18n.texts import LANGUAGES, text
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.models import QuestionOutcome
from sellerdesk.storage.repo import buyers, privacy, questions
from sellerdesk.storage.repo import cases as cases_repo

log = logging.getLogger(__name__)


#: Topics of a forgotten buyer's cases renamed at most (newest first).
FORGET_TOPICS = 500

#: One kind of button's handler: None when the press names nothing of the buyer's.
_Handler = Callable[[Where, Press, str], PressResult | None]


class BuyerButtons(BuyerChat):
    """Presses of buttons in buyers' private chats."""

    def press(self, press: Press) -> PressResult:
        """A button in the buyer's chat: a shop, an FAQ suggestion, Helped, Talk to a
        person, a rating, a language. Anything else is a stale or forged button."""
        with self.db.transaction() as session:
            buyer = self._begin(session, press.update_id, press.user_id)
            if buyer is None:
                return PressResult()
            w = Where(session, buyer, press.chat_id)
            kind, _, rest = press.data.partition(":")
            handlers: dict[str, _Handler] = {
                Button.SELLER: self._press_seller,
                Button.FAQ: self._press_faq,
                Button.HELPED: self._press_helped,
                Button.HUMAN: self._press_human,
                Button.RATE: self._press_rate,
                Button.LANG: self._press_lang,
                Button.COMPLAIN: self._press_complain,
                Button.FORGET: self._press_forget,
            }
            handler = handlers.get(kind)
            result = handler(w, press, rest) if handler else None
            if kind in BUYER_RETURN_BUTTONS:
                lang = self._lang(buyer, self._seller(buyer), press.user_lang)
                result = self.returns.press(session, buyer, press, kind, rest, lang)
            if result is None:
                lang = self._lang(buyer, self._seller(buyer), press.user_lang)
                self._say(w, "stale_button", lang)
                return PressResult()
            return result

    def _press_seller(self, w: Where, press: Press, rest: str) -> PressResult | None:
        seller = self.ctx.faq.seller(rest)
        if seller is None:
            return None
        self._choose(w, seller, None, press.user_lang)
        return PressResult()

    def _press_faq(self, w: Where, press: Press, rest: str) -> PressResult | None:
        seller_id, _, target = rest.partition(":")
        # Sellers of the files now: one removed from them takes no new questions.
        seller = self.ctx.faq.seller(seller_id)
        if seller is None:
            return None
        is_product = target.startswith("product:")
        entry = None if is_product else seller.entry(target)
        if entry is None and not (is_product and seller.product(target.split(":", 1)[1])):
            return None
        lang = self._lang(w.buyer, seller, press.user_lang)
        answer = self.ctx.faq.answer(seller, target, lang)
        buyers.set_current_seller(w.session, w.buyer.id, seller.id, w.buyer.current_offer_id)
        if entry is not None and entry.handoff:
            self._send(w, answer, reply_to=press.reply_to)
            self._open_from_press(w, seller, press, lang, answered=target)
            return PressResult()
        buttons = [
            [(text("button_helped", lang), data(Button.HELPED, "0"))],
            [(text("button_human", lang), data(Button.HUMAN, seller.id, "0"))],
        ]
        self._send(w, answer, buttons=buttons, reply_to=press.reply_to)
        return PressResult()

    def _press_helped(self, w: Where, press: Press, rest: str) -> PressResult | None:
        if not rest.isdigit():
            return None
        seller = self._seller(w.buyer)
        self._record_outcome(w, int(rest), seller, QuestionOutcome.HELPED)
        lang = self._lang(w.buyer, seller, press.user_lang)
        return PressResult(text("helped_thanks", lang), remove_buttons=True)

    def _record_outcome(
        self, w: Where, log_id: int, seller: Seller | None, outcome: QuestionOutcome
    ) -> None:
        # The log is anonymous, so a forged id could only skew statistics; still, only
        # a question to the buyer's current seller is touched.
        logged = questions.get_question(w.session, log_id) if log_id else None
        if logged is not None and seller is not None and logged.seller_id == seller.id:
            questions.record_outcome(w.session, log_id, outcome)

    def _press_human(self, w: Where, press: Press, rest: str) -> PressResult | None:
        seller_id, _, log_id = rest.partition(":")
        # A new case only with a seller of the files now (not one removed from them).
        seller = self.ctx.faq.seller(seller_id)
        if seller is None or not log_id.isdigit():
            return None
        self._record_outcome(w, int(log_id), seller, QuestionOutcome.NOT_HELPED)
        buyers.set_current_seller(w.session, w.buyer.id, seller.id, w.buyer.current_offer_id)
        lang = self._lang(w.buyer, seller, press.user_lang)
        existing = cases_repo.find_open_case(w.session, w.buyer.id, seller.id)
        if existing is not None:
            self._say(w, "case_already_open", lang, number=str(existing.number))
            return PressResult(remove_buttons=True)
        self._open_from_press(w, seller, press, lang)
        return PressResult(remove_buttons=True)

    def _press_rate(self, w: Where, press: Press, rest: str) -> PressResult | None:
        case_id, _, rating = rest.partition(":")
        if not case_id.isdigit() or rating not in {"1", "2", "3", "4", "5"}:
            return None
        case = cases_repo.get_case(w.session, int(case_id))
        # Only the case's own buyer rates it, and only once it is closed.
        if case is None or case.buyer_id != w.buyer.id or cases.is_open(case):
            return None
        if case.rating is not None:
            # One rating per closing: a second press changes nothing and tells no one.
            return PressResult("⭐" * case.rating, remove_buttons=True)
        seller = self.ctx.seller(case.seller_id)
        if seller is None:
            return None
        cases_repo.rate_case(w.session, case.id, int(rating))
        buyers.set_comment_case(w.session, w.buyer.id, case.id)
        cases.staff_note(
            w.session, case, seller, "staff_rating", number=str(case.number), rating=rating
        )
        self._say(w, "rated_thanks", self._lang(w.buyer, seller, press.user_lang))
        return PressResult("⭐" * int(rating), remove_buttons=True)

    def _press_lang(self, w: Where, press: Press, rest: str) -> PressResult | None:
        if rest not in LANGUAGES:
            return None
        buyers.set_language(w.session, w.buyer.id, rest)
        self._say(w, "language_set", rest)
        return PressResult(remove_buttons=True)

    def _press_complain(self, w: Where, press: Press, rest: str) -> PressResult | None:
        case = cases_repo.get_case(w.session, int(rest)) if rest.isdigit() else None
        # Only the case's own buyer may complain about it.
        if case is None or case.buyer_id != w.buyer.id:
            return None
        seller = self.ctx.seller(case.seller_id)
        self._complain(w, case, self._lang(w.buyer, seller, press.user_lang))
        return PressResult(remove_buttons=True)

    def _press_forget(self, w: Where, press: Press, rest: str) -> PressResult | None:
        if rest not in ("yes", "no"):
            return None
        lang = self._lang(w.buyer, self._seller(w.buyer), press.user_lang)
        if rest == "no":
            self._say(w, "forget_kept", lang)
            return PressResult(remove_buttons=True)
        # Open cases are looked up first: forgetting closes them and clears their
        # outbox, and staff must still hear why the buyer went quiet.
        found = (
            cases_repo.find_open_case(w.session, w.buyer.id, seller_id)
            for seller_id in self.ctx.content.sellers
        )
        open_cases = [case for case in found if case is not None]
        every_case = cases_repo.list_buyer_cases(w.session, w.buyer.id, limit=FORGET_TOPICS)
        if not privacy.forget_buyer(w.session, press.user_id):
            self._say(w, "forget_nothing", lang)
            return PressResult(remove_buttons=True)
        w.session.expire_all()  # the cases' subjects are gone: read them again
        for case in every_case:
            seller = self.ctx.seller(case.seller_id)
            if seller is not None:
                # The topic names quoted the buyer's first words: renamed without them.
                cases.rename_topic(w.session, self.ctx, case, seller)
        for case in open_cases:
            seller = self.ctx.seller(case.seller_id)
            if seller is not None:
                # Queued after forget_buyer, which deletes the case's pending rows;
                # the note names only the case number, never the buyer.
                cases.staff_note(
                    w.session, case, seller, "staff_buyer_forgotten", number=str(case.number)
                )
        # The last row to this chat: it holds no personal data beyond the chat id
        # itself, which Telegram needs to deliver it.
        self._say(w, "forget_done", lang)
        return PressResult(remove_buttons=True)
