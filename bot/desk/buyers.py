"""The buyer's side of the desk: choosing a shop, FAQ answers, opening and feeding
cases, ratings, the case list and the language choice.

Each public method handles one update in one transaction: it claims the update
(a redelivered update does nothing), changes state, and writes every reply to the
outbox. Methods are blocking; handlers run them through :meth:`Database.run`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, escalation, outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.flood import FloodGate
from sellerdesk.bot.desk.inbound import Incoming, Kind, NotMappedYet, Press, PressResult
from sellerdesk.bot.desk.outgoing import Buttons, Side
from sellerdesk.bot.desk.returns import AWAIT_BUYER, ReturnFlow
from sellerdesk.bot.i18n.texts import LANGUAGE_NAMES, LANGUAGES, pick_language, text
from sellerdesk.bot.settings import DEFAULT_RETURN_FLOW_TIMEOUT_S
from sellerdesk.faq.content.model import Seller
from sellerdesk.faq.matching.decision import Action, Decision
from sellerdesk.faq.matching.matcher import MAX_QUESTION_CHARS
from sellerdesk.storage.models import Buyer, Case, CaseStatus, Direction, QuestionOutcome
from sellerdesk.storage.repo import buyers, outbox, privacy, questions, updates
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: Deep-link payload: ``<seller-id>`` or ``<seller-id>__<offer-id>``. Telegram allows
#: only ``A-Za-z0-9_-`` and 64 characters in a payload, so products whose offer id
#: has other characters cannot be linked directly (their seller can).
PRODUCT_SEPARATOR = "__"
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: How long after rating a case the buyer's next text counts as the rating comment.
#: Long enough to type a paragraph, short enough that a question the next day is
#: not mistaken for a comment.
COMMENT_WINDOW_S = 30 * 60
#: Cases listed by /cases.
CASES_LISTED = 10
DEFAULT_RETURN_TIMEOUT = timedelta(seconds=DEFAULT_RETURN_FLOW_TIMEOUT_S)


@dataclass(frozen=True)
class _Where:
    """The buyer's chat and the update being handled."""

    session: Session
    buyer: Buyer
    chat_id: int


class BuyerConversation:
    """Handles updates from buyers' private chats."""

    def __init__(
        self, db: Database, ctx: DeskContext, return_timeout: timedelta = DEFAULT_RETURN_TIMEOUT
    ) -> None:
        self.db = db
        self.ctx = ctx
        self.returns = ReturnFlow(ctx, return_timeout)
        self.flood = FloodGate()

    # ------------------------------------------------------------------ helpers

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
        w: _Where,
        key: str,
        lang: str,
        *,
        buttons: Buttons = (),
        reply_to: int | None = None,
        **values: str,
    ) -> None:
        self._send(w, text(key, lang, **values), buttons=buttons, reply_to=reply_to)

    def _send(
        self, w: _Where, body: str, *, buttons: Buttons = (), reply_to: int | None = None
    ) -> None:
        outgoing.send_text(
            w.session,
            chat_id=w.chat_id,
            text=body,
            side=Side.BUYER,
            buttons=buttons,
            reply_to=reply_to,
        )

    # ------------------------------------------------------------------ commands

    def start(self, msg: Incoming) -> None:
        """``/start [payload]``: open a seller (and product) from a deep link, or offer
        a choice of sellers."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = _Where(session, buyer, msg.chat_id)
            payload = msg.args.split()[0] if msg.args.split() else ""
            lang = self._lang(buyer, None, msg.user_lang)
            if not payload:
                seller = self.ctx.faq.only_seller()
                if seller is None:
                    sellers = self.ctx.content.sellers.values()
                    buttons = [[(s.name, f"seller:{s.id}")] for s in sellers]
                    self._say(w, "pick_seller", lang, buttons=buttons)
                    return
                self._choose(w, seller, None, msg.user_lang)
                return
            seller_id, _, offer = payload.partition(PRODUCT_SEPARATOR)
            seller = self.ctx.faq.seller(seller_id.lower()) if _PAYLOAD.match(payload) else None
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
        """``/help`` or an unknown command: the greeting (or the choice of sellers)."""
        self.start(replace(msg, args=""))

    def _choose(
        self, w: _Where, seller: Seller, offer_id: str | None, user_lang: str | None
    ) -> None:
        buyers.set_current_seller(w.session, w.buyer.id, seller.id, offer_id)
        lang = self._lang(w.buyer, seller, user_lang)
        greeting = self.ctx.faq.welcome(seller, lang)
        product = seller.product(offer_id) if offer_id else None
        if product is not None:
            greeting += "\n\n" + text("product_chosen", lang, product=product.name)
        self._send(w, greeting)

    def list_cases(self, msg: Incoming) -> None:
        """``/cases``: the buyer's cases with every seller, newest first."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = _Where(session, buyer, msg.chat_id)
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
                subject = cases.clip(" ".join((case.subject or "").split()), 60)
                line = f"#{case.number} · {shop} · {status}"
                lines.append(f"{line} · {subject}" if subject else line)
            self._send(w, "\n".join(lines))

    def language(self, msg: Incoming) -> None:
        """``/language``: buttons to choose the language the bot speaks."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = _Where(session, buyer, msg.chat_id)
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            buttons = [[(LANGUAGE_NAMES[code], f"lang:{code}") for code in LANGUAGES]]
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
            w = _Where(session, buyer, msg.chat_id)
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
            w = _Where(session, buyer, msg.chat_id)
            seller = self._seller(buyer)
            case = cases_repo.find_open_case(session, buyer.id, seller.id) if seller else None
            if case is None:
                latest = cases_repo.list_buyer_cases(session, buyer.id, limit=1)
                case = latest[0] if latest else None
            self._complain(w, case, self._lang(buyer, seller, msg.user_lang))

    def _complain(self, w: _Where, case: Case | None, lang: str) -> None:
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

    # ------------------------------------------------------------------ messages

    def message(self, msg: Incoming, *, final: bool = True) -> None:
        """Any message from a buyer: a rating comment, a message for their case, or a
        question for the FAQ (which may open a case).

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
            w = _Where(session, buyer, msg.chat_id)
            if msg.edited:
                self._edited(w, msg, final)
                return
            self._flood_check(w, msg)
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            if self.returns.message(session, buyer, msg, lang, pending=state.returns_pending):
                return
            if self._comment(w, msg):
                return
            case = self._replied_case(w, msg)
            seller = self.ctx.seller(case.seller_id) if case else self._seller(buyer)
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
                case = cases_repo.find_open_case(session, buyer.id, seller.id)
            if case is not None:
                self._relay(w, case, seller, msg)
                return
            lang = self._lang(buyer, seller, msg.user_lang)
            if msg.kind is Kind.TEXT and msg.body.strip():
                self._question(w, seller, msg)
            elif msg.kind is Kind.MEDIA:
                # A photo of a defect needs a person, with or without words.
                case, _ = cases.open_case(
                    session, self.ctx, seller, buyer, subject=msg.body or None, lang=lang
                )
                self._relay(w, case, seller, msg)
            else:
                self._say(w, "text_only", lang)

    def _flood_check(self, w: _Where, msg: Incoming) -> None:
        """Count the message; on a flood, tell the buyer once per window. The message
        itself is handled as usual whatever this decides: nothing is dropped."""
        window = self.flood.hit(w.buyer.id)
        if window is None:
            return
        lang = self._lang(w.buyer, self._seller(w.buyer), msg.user_lang)
        outgoing.send_text(
            w.session,
            chat_id=w.chat_id,
            text=text("flood_notice", lang),
            side=Side.BUYER,
            # Another process counting the same flood must not send a second notice.
            dedupe_key=f"flood:{w.buyer.id}:{window}",
        )

    # ------------------------------------------------------------------ forgetting

    def forget_me(self, msg: Incoming) -> None:
        """``/forget_me``: ask for confirmation before deleting the buyer's data (a
        stray tap on a command must not erase a conversation)."""
        with self.db.transaction() as session:
            buyer = self._begin(session, msg.update_id, msg.user_id)
            if buyer is None:
                return
            w = _Where(session, buyer, msg.chat_id)
            lang = self._lang(buyer, self._seller(buyer), msg.user_lang)
            buttons = [
                [
                    (text("button_forget_yes", lang), "forget:yes"),
                    (text("button_forget_no", lang), "forget:no"),
                ]
            ]
            self._say(w, "forget_confirm", lang, buttons=buttons)

    def _press_forget(self, w: _Where, press: Press, rest: str) -> PressResult | None:
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
        if not privacy.forget_buyer(w.session, press.user_id):
            self._say(w, "forget_nothing", lang)
            return PressResult(remove_buttons=True)
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

    def _relay(self, w: _Where, case: Case, seller: Seller, msg: Incoming) -> None:
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
        cases.relay_to_staff(
            w.session,
            case,
            seller,
            buyer_chat_id=msg.chat_id,
            message_id=msg.message_id,
            body=msg.body,
            media_group_id=msg.media_group_id,
            reply_to=msg.reply_to,
        )

    def _replied_case(self, w: _Where, msg: Incoming) -> Case | None:
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

    def _comment(self, w: _Where, msg: Incoming) -> bool:
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

    def _edited(self, w: _Where, msg: Incoming, final: bool) -> None:
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

    def _question(self, w: _Where, seller: Seller, msg: Incoming) -> None:
        """Ask the FAQ: answer (with Helped / Talk to a person), suggest, or hand off."""
        question = msg.body.strip()
        decision = self.ctx.faq.matcher(seller).decide(
            question, offer_id=self._context_offer(w, seller)
        )
        lang = self._lang(w.buyer, seller, decision.lang, msg.user_lang)
        best = decision.best
        entry = seller.entry(best.ref) if best is not None and not best.is_product else None
        handoff_entry = decision.action is Action.ANSWER and entry is not None and entry.handoff
        logged = questions.log_question_id(
            w.session,
            seller_id=seller.id,
            question=question[:MAX_QUESTION_CHARS],
            # An entry that answers and opens a case did not settle the question.
            action=Action.HANDOFF.value if handoff_entry else decision.action.value,
            best_entry=best.target if best else None,
            score=best.score if best else None,
            lang=decision.lang,
        )
        human = (text("button_human", lang), f"human:{seller.id}:{logged}")
        if decision.action is Action.ANSWER and best is not None:
            answer = self.ctx.faq.answer_text(seller, best.target, lang)
            if decision.rest and not handoff_entry:
                # A message that asked two things: the part the FAQ answers is answered,
                # the rest is for a person (the button below opens a case with the
                # whole message).
                answer = self.ctx.faq.with_rest(answer, decision.rest, lang)
            if handoff_entry:
                self._send(w, answer, reply_to=msg.message_id)
                self._handoff(w, seller, msg, lang, decision, answered=best.target)
                return
            helped = (text("button_helped", lang), f"helped:{logged}")
            self._send(w, answer, buttons=[[helped], [human]], reply_to=msg.message_id)
        elif decision.action is Action.SUGGEST:
            rows = [
                [(self.ctx.faq.label(seller, c.target, lang), f"faq:{seller.id}:{c.target}")]
                for c in decision.suggestions
            ]
            rows = [row for row in rows if len(row[0][1].encode()) <= cases.CALLBACK_LIMIT]
            self._say(w, "suggest", lang, buttons=[*rows, [human]], reply_to=msg.message_id)
        else:
            self._say(w, "handoff", lang, reply_to=msg.message_id)
            self._handoff(w, seller, msg, lang, decision)

    @staticmethod
    def _context_offer(w: _Where, seller: Seller) -> str | None:
        """The product the buyer came from (a deep link to its card), when it is one of
        this seller's products: "а длина какая?" is about it."""
        offer = w.buyer.current_offer_id
        if not offer or w.buyer.current_seller_id != seller.id:
            return None
        return offer if seller.product(offer) is not None else None

    def _handoff(
        self,
        w: _Where,
        seller: Seller,
        msg: Incoming,
        lang: str,
        decision: Decision,
        answered: str | None = None,
    ) -> None:
        near = [c for c in decision.candidates if c.target != answered]
        case, _ = cases.open_case(
            w.session,
            self.ctx,
            seller,
            w.buyer,
            subject=msg.body,
            lang=lang,
            near=near,
            answered=answered,
        )
        self._relay(w, case, seller, msg)

    # ------------------------------------------------------------------ buttons

    def press(self, press: Press) -> PressResult:
        """A button in the buyer's chat: a shop, an FAQ suggestion, Helped, Talk to a
        person, a rating, a language. Anything else is a stale or forged button."""
        with self.db.transaction() as session:
            buyer = self._begin(session, press.update_id, press.user_id)
            if buyer is None:
                return PressResult()
            w = _Where(session, buyer, press.chat_id)
            kind, _, rest = press.data.partition(":")
            handler = {
                "seller": self._press_seller,
                "faq": self._press_faq,
                "helped": self._press_helped,
                "human": self._press_human,
                "rate": self._press_rate,
                "lang": self._press_lang,
                "complain": self._press_complain,
                "forget": self._press_forget,
            }.get(kind)
            result = handler(w, press, rest) if handler else None
            if kind in ("rprod", "rreason", "rdone"):
                lang = self._lang(buyer, self._seller(buyer), press.user_lang)
                result = self.returns.press(session, buyer, press, kind, rest, lang)
            if result is None:
                lang = self._lang(buyer, self._seller(buyer), press.user_lang)
                self._say(w, "stale_button", lang)
                return PressResult()
            return result

    def _press_seller(self, w: _Where, press: Press, rest: str) -> PressResult | None:
        seller = self.ctx.faq.seller(rest)
        if seller is None:
            return None
        self._choose(w, seller, None, press.user_lang)
        return PressResult()

    def _press_faq(self, w: _Where, press: Press, rest: str) -> PressResult | None:
        seller_id, _, target = rest.partition(":")
        seller = self.ctx.seller(seller_id)
        if seller is None:
            return None
        is_product = target.startswith("product:")
        entry = None if is_product else seller.entry(target)
        if entry is None and not (is_product and seller.product(target.split(":", 1)[1])):
            return None
        lang = self._lang(w.buyer, seller, press.user_lang)
        answer = self.ctx.faq.answer_text(seller, target, lang)
        buyers.set_current_seller(w.session, w.buyer.id, seller.id, w.buyer.current_offer_id)
        if entry is not None and entry.handoff:
            self._send(w, answer, reply_to=press.reply_to)
            self._open_from_press(w, seller, press, lang, answered=target)
            return PressResult()
        buttons = [
            [(text("button_helped", lang), "helped:0")],
            [(text("button_human", lang), f"human:{seller.id}:0")],
        ]
        self._send(w, answer, buttons=buttons, reply_to=press.reply_to)
        return PressResult()

    def _press_helped(self, w: _Where, press: Press, rest: str) -> PressResult | None:
        if not rest.isdigit():
            return None
        seller = self._seller(w.buyer)
        self._record_outcome(w, int(rest), seller, QuestionOutcome.HELPED)
        lang = self._lang(w.buyer, seller, press.user_lang)
        return PressResult(text("helped_thanks", lang), remove_buttons=True)

    def _record_outcome(
        self, w: _Where, log_id: int, seller: Seller | None, outcome: QuestionOutcome
    ) -> None:
        # The log is anonymous, so a forged id could only skew statistics; still, only
        # a question to the buyer's current seller is touched.
        logged = questions.get_question(w.session, log_id) if log_id else None
        if logged is not None and seller is not None and logged.seller_id == seller.id:
            questions.record_outcome(w.session, log_id, outcome)

    def _press_human(self, w: _Where, press: Press, rest: str) -> PressResult | None:
        seller_id, _, log_id = rest.partition(":")
        seller = self.ctx.seller(seller_id)
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

    def _open_from_press(
        self, w: _Where, seller: Seller, press: Press, lang: str, answered: str | None = None
    ) -> None:
        """Open a case about the question the pressed message answered, and copy that
        question into the topic so staff read the buyer's own words."""
        question = press.reply_body.strip()
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

    def _press_rate(self, w: _Where, press: Press, rest: str) -> PressResult | None:
        case_id, _, rating = rest.partition(":")
        if not case_id.isdigit() or rating not in {"1", "2", "3", "4", "5"}:
            return None
        case = cases_repo.get_case(w.session, int(case_id))
        # Only the case's own buyer rates it, and only once it is closed.
        if case is None or case.buyer_id != w.buyer.id or cases.is_open(case):
            return None
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

    def _press_lang(self, w: _Where, press: Press, rest: str) -> PressResult | None:
        if rest not in LANGUAGES:
            return None
        buyers.set_language(w.session, w.buyer.id, rest)
        self._say(w, "language_set", rest)
        return PressResult(remove_buttons=True)

    def _press_complain(self, w: _Where, press: Press, rest: str) -> PressResult | None:
        case = cases_repo.get_case(w.session, int(rest)) if rest.isdigit() else None
        # Only the case's own buyer may complain about it.
        if case is None or case.buyer_id != w.buyer.id:
            return None
        seller = self.ctx.seller(case.seller_id)
        self._complain(w, case, self._lang(w.buyer, seller, press.user_lang))
        return PressResult(remove_buttons=True)
