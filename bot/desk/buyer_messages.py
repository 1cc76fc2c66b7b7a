"""A buyer's message: a rating comment, words for their case, or a question for the FAQ
(answered, answered with buttons, or handed to staff as a new case)."""

from __future__ import annotations

import logging

from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.buyer_chat import BuyerChat, Where
from sellerdesk.bot.desk.callbacks import Button, data, fits
from sellerdesk.bot.desk.inbound import Incoming, Kind, NotMappedYet
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.desk.returns import AWAIT_BUYER
from sellerdesk.bot.desk.small_talk import small_talk
from sellerdesk.bot.i18n.texts import text
from sellerdesk.faq.content.model import Seller
from sellerdesk.faq.matching.decision import Action, Decision
from sellerdesk.faq.matching.matcher import MAX_QUESTION_CHARS
from sellerdesk.faq.matching.normalize import normalize
from sellerdesk.storage.models import Case, CaseKind, CaseStatus, Direction
from sellerdesk.storage.repo import buyers, channels, outbox, questions, updates
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: How long after rating a case the buyer's next text counts as the rating comment.
#: Long enough to type a paragraph, short enough that a question the next day is
#: not mistaken for a comment.
COMMENT_WINDOW_S = 30 * 60


class BuyerMessages(BuyerChat):
    """Messages from buyers' private chats."""

    def message(
        self, msg: Incoming, *, final: bool = True, home: str | None = None, quiet: bool = False
    ) -> None:
        """Any message from a buyer: a rating comment, a message for their case, or a
        question for the FAQ (which may open a case).

        ``home``: the seller whose Telegram Business account the buyer wrote to
        (``msg.chat_id`` is then that chat's key); ``quiet``: a person of that account
        is writing in the chat, so the bot only passes the buyer's words to an open case.

        Raises:
            NotMappedYet: unless ``final``, for an edit of a message whose copy to the
                case is in flight.
        """
        with self.db.transaction() as session:
            if not updates.mark_processed(session, msg.update_id):
                log.info("update %s already handled", msg.update_id)
                return
            # The buyer, their open case and their return flow's state in one read.
            state = buyers.buyer_state(session, msg.user_id, AWAIT_BUYER)
            buyer = state.buyer
            w = Where(session, buyer, msg.chat_id)
            if msg.edited:
                self._edited(w, msg, final)
                return
            flooding = self._flood_check(w, msg)
            shop = self.ctx.seller(home) if home else self._seller(buyer)
            lang = self._lang(buyer, shop, msg.user_lang)
            # The return flow and rating comments live in the bot's own chat.
            if home is None and self.returns.message(
                session, buyer, msg, lang, pending=state.returns_pending
            ):
                return
            if home is None and self._comment(w, msg):
                return
            case = self._replied_case(w, msg)
            seller = self.ctx.seller(case.seller_id) if case else shop
            if seller is None:
                self._say(w, "no_seller", self._lang(buyer, None, msg.user_lang))
                return
            if (
                case is None
                and msg.reply_to is None
                and (state.created or seller.id == buyer.current_seller_id)
            ):
                # Read with the buyer, and no case has changed since.
                case = state.open_case
            elif case is None:
                # As the state's case: a question case, else an open return (what the
                # buyer writes after its decision is for its staff, in its topic).
                case = cases_repo.find_open_case(
                    session, buyer.id, seller.id
                ) or cases_repo.find_open_case(session, buyer.id, seller.id, CaseKind.RETURN)
            if case is not None:
                self._relay(w, case, seller, msg)
                # Not for a flood: its words go to staff; matching each of hundreds of
                # messages would only take time from other buyers.
                if (
                    msg.kind is Kind.TEXT
                    and msg.reply_to is None
                    and case.admin_id is None
                    and not flooding
                    and not quiet
                ):
                    self._answer_in_case(w, case, seller, msg)
                return
            if quiet:
                return  # a person of the business account is answering this buyer
            lang = self._lang(buyer, seller, msg.user_lang)
            if msg.kind is Kind.TEXT and (talk := small_talk(msg.body)) is not None:
                # A greeting, thanks or an emoji: a short reply, never a case.
                talk_lang = self._lang(buyer, seller, normalize(msg.body).lang, msg.user_lang)
                self._say(w, f"smalltalk_{talk.value}", talk_lang, reply_to=msg.message_id)
            elif msg.kind is Kind.TEXT and msg.body.strip():
                self._question(w, seller, msg)
            elif msg.kind is Kind.MEDIA:
                # A photo of a defect needs a person, with or without words.
                if not self._may_open_case(w, lang):
                    return
                case, _ = cases.open_case(
                    session,
                    self.ctx,
                    seller,
                    buyer,
                    subject=msg.body or None,
                    lang=lang,
                    chat_id=msg.chat_id,
                )
                self._relay(w, case, seller, msg)
            elif msg.kind is Kind.CONTACT:
                self._say(w, "contact_withheld", lang)
            else:
                self._say(w, "text_only", lang)

    def _answer_in_case(self, w: Where, case: Case, seller: Seller, msg: Incoming) -> None:
        """A question the FAQ answers surely gets its answer even while a case is open
        (the buyer need not wait for staff to retype it); staff see the question, as
        always, and a note of what the bot answered."""
        question = msg.body.strip()
        if not question or small_talk(question) is not None:
            return
        decision = self.ctx.faq.matcher(seller).decide(
            question[:MAX_QUESTION_CHARS], offer_id=self._context_offer(w, seller)
        )
        best = decision.best
        if decision.action is not Action.ANSWER or best is None or decision.rest:
            return
        entry = None if best.is_product else seller.entry(best.ref)
        if entry is not None and entry.handoff:
            return  # an entry that hands off: staff have the case already
        lang = self._lang(w.buyer, seller, decision.lang, msg.user_lang)
        self._send(w, self.ctx.faq.answer(seller, best.target, lang), reply_to=msg.message_id)
        self._log_question(w, seller, question, Action.ANSWER, decision)
        staff = cases.staff_lang(seller)
        label = self.ctx.faq.label(seller, best.target, staff)
        cases.staff_note(w.session, case, seller, "staff_faq_answered", entry=label)

    @staticmethod
    def _log_question(
        w: Where, seller: Seller, question: str, action: Action, decision: Decision
    ) -> int:
        """Log the question with the decision on it (for statistics and FAQ gaps);
        returns the row's id, which the answer's buttons carry."""
        best = decision.best
        return questions.log_question_id(
            w.session,
            seller_id=seller.id,
            question=question[:MAX_QUESTION_CHARS],
            action=action.value,
            best_entry=best.target if best else None,
            score=best.score if best else None,
            lang=decision.lang,
            buyer_id=w.buyer.id,
            channel=(
                questions.TELEGRAM_BUSINESS
                if channels.is_business_chat(w.chat_id)
                else questions.TELEGRAM
            ),
        )

    def _flood_check(self, w: Where, msg: Incoming) -> bool:
        """Count the message; on a flood, tell the buyer once per window. The message
        itself is handled whatever this decides: nothing is dropped. Returns whether
        the buyer is flooding now."""
        window = self.flood.hit(w.buyer.id)
        if window is None:
            return self.flood.flooding(w.buyer.id)
        lang = self._lang(w.buyer, self._seller(w.buyer), msg.user_lang)
        outgoing.send_text(
            w.session,
            chat_id=w.chat_id,
            text=text("flood_notice", lang),
            side=Side.BUYER,
            # Another process counting the same flood must not send a second notice.
            dedupe_key=f"flood:{w.buyer.id}:{window}",
        )
        return True

    def _replied_case(self, w: Where, msg: Incoming) -> Case | None:
        """The case of the message the buyer replied to, reopened if it was closed:
        a reply continues its case rather than starting a new one."""
        if msg.reply_to is None:
            return None
        case = cases_repo.find_case_by_buyer_message(w.session, msg.chat_id, msg.reply_to)
        if case is None or case.buyer_id != w.buyer.id:
            return None
        seller = self.ctx.seller(case.seller_id)
        if seller is None:
            return None
        if case.status is CaseStatus.CLOSED and not cases.reopen(
            w.session, self.ctx, case, seller, actor="buyer", name=None
        ):
            return None  # the buyer has another open case with the seller: that one wins
        return case

    def _comment(self, w: Where, msg: Incoming) -> bool:
        """The buyer's text right after rating is the rating's comment; True if it was."""
        case_id = w.buyer.comment_case_id
        if case_id is None:
            return False
        buyers.set_comment_case(w.session, w.buyer.id, None)
        case = cases_repo.get_case(w.session, case_id)
        seller = self.ctx.seller(case.seller_id) if case else None
        if (
            case is None
            or seller is None
            or case.buyer_id != w.buyer.id
            or case.rating is None
            or case.rated_at is None
            or (utcnow() - case.rated_at).total_seconds() > COMMENT_WINDOW_S
            or msg.kind is not Kind.TEXT
            or not msg.body.strip()
            or msg.reply_to is not None
        ):
            return False
        cases_repo.rate_case(w.session, case.id, case.rating, msg.body.strip())
        cases.staff_note(w.session, case, seller, "staff_comment", comment=msg.body.strip())
        self._say(w, "comment_thanks", self._lang(w.buyer, seller, msg.user_lang))
        return True

    def _edited(self, w: Where, msg: Incoming, final: bool) -> None:
        """An edited message that was relayed: staff see the new wording as a reply to
        the copy. Edits of FAQ questions change nothing (the answer was given)."""
        case = cases_repo.find_case_by_buyer_message(w.session, msg.chat_id, msg.message_id)
        if case is None and not final and outbox.has_unsent_copy(w.session, msg.chat_id):
            raise NotMappedYet
        seller = self.ctx.seller(case.seller_id) if case else None
        if case is None or seller is None or not cases.is_open(case) or not msg.body.strip():
            return
        outgoing.send_text(
            w.session,
            chat_id=case.staff_chat_id or seller.support_chat_id,
            text=text("staff_buyer_edited", cases.staff_lang(seller), text=msg.body),
            side=Side.STAFF,
            case_id=case.id,
            reply_ref=(msg.chat_id, msg.message_id),
            record=Direction.SYSTEM,
        )

    def _question(self, w: Where, seller: Seller, msg: Incoming) -> None:
        """Ask the FAQ: answer (with Helped / Talk to a person), suggest, or hand off."""
        question = msg.body.strip()
        decision = self.ctx.faq.matcher(seller).decide(
            question, offer_id=self._context_offer(w, seller)
        )
        lang = self._lang(w.buyer, seller, decision.lang, msg.user_lang)
        best = decision.best
        entry = seller.entry(best.ref) if best is not None and not best.is_product else None
        handoff_entry = decision.action is Action.ANSWER and entry is not None and entry.handoff
        # An entry that answers and opens a case did not settle the question.
        action = Action.HANDOFF if handoff_entry else decision.action
        logged = self._log_question(w, seller, question, action, decision)
        human = (text("button_human", lang), data(Button.HUMAN, seller.id, logged))
        if decision.action is Action.ANSWER and best is not None:
            answer = self.ctx.faq.answer(seller, best.target, lang)
            if decision.rest and not handoff_entry:
                # A message that asked two things: the part the FAQ answers is answered,
                # the rest is for a person (the button below opens a case with the
                # whole message).
                with_rest = self.ctx.faq.with_rest(answer.text, decision.rest, lang)
                answer = self.ctx.faq.answer(seller, best.target, lang, with_rest)
            if handoff_entry:
                self._send(w, answer, reply_to=msg.message_id)
                self._handoff(w, seller, msg, lang, decision, answered=best.target)
                return
            helped = (text("button_helped", lang), data(Button.HELPED, logged))
            self._send(w, answer, buttons=[[helped], [human]], reply_to=msg.message_id)
        elif decision.action is Action.SUGGEST:
            rows = [
                [
                    (
                        self.ctx.faq.label(seller, c.target, lang),
                        data(Button.FAQ, seller.id, c.target),
                    )
                ]
                for c in decision.suggestions
            ]
            rows = [row for row in rows if fits(row[0][1])]
            self._say(w, "suggest", lang, buttons=[*rows, [human]], reply_to=msg.message_id)
        elif not self._handoff(w, seller, msg, lang, decision):
            # Relayed into a case opened meanwhile: no "case opened" note says it.
            self._say(w, "handoff", lang, reply_to=msg.message_id)

    @staticmethod
    def _context_offer(w: Where, seller: Seller) -> str | None:
        """The product the buyer came from (a deep link to its card), when it is one of
        this seller's products: "а длина какая?" is about it."""
        offer = w.buyer.current_offer_id
        if not offer or w.buyer.current_seller_id != seller.id:
            return None
        return offer if seller.product(offer) is not None else None

    def _handoff(
        self,
        w: Where,
        seller: Seller,
        msg: Incoming,
        lang: str,
        decision: Decision,
        answered: str | None = None,
    ) -> bool:
        """Open a case with the message (its note to the buyer says it reached staff);
        False when the buyer's open case took it instead. (No case open with this
        seller: the caller found none.) Over the buyer's limit of new cases, they are
        told when they can write again and True is returned: nothing more to say."""
        if not self._may_open_case(w, lang):
            return True
        near = [c for c in decision.candidates if c.target != answered]
        # A short plain question is shown whole by the new case's card: no copy of it.
        carry = msg.reply_to is None and cases.carries_message(msg.body, msg.formatted)
        case, created = cases.open_case(
            w.session,
            self.ctx,
            seller,
            w.buyer,
            subject=msg.body,
            lang=lang,
            near=near,
            answered=answered,
            carries=(msg.chat_id, msg.message_id) if carry else None,
            chat_id=msg.chat_id,
        )
        if created and carry and case.admin_id is None:
            cases.carried_to_staff(w.session, case, seller, utcnow())
        else:
            self._relay(w, case, seller, msg)
        return created
