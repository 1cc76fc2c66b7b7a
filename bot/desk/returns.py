"""Returns and after-sales: the buyer's ``/return`` flow and staff's decision on it.

The flow (order number, product, reason, photos, comment) keeps its state in the
database (``storage.repo.returns``), so a restart mid-flow loses nothing, and it
sends nothing to staff until the buyer finishes: a flow cancelled or timed out
leaves no trace in the support chat. Finishing opens a case of kind ``return`` in a
new topic with the return card and the decision buttons; the decision has its own
deadline (seller.yaml ``returns.decide_within``), reminded and escalated by the
same machinery as reply deadlines (:mod:`bot.schedule.sla`).

Everything runs inside the caller's transaction and writes to the outbox.

Longer than ~500 lines on purpose: the buyer's steps and staff's decision are one flow
whose states both sides read.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.callbacks import Button, data, fits
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.inbound import Incoming, Kind, Press, PressResult
from sellerdesk.bot.desk.outgoing import Buttons, Side
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.bot.schedule.deadlines import business_hours, case_sla, due_at, schedule_steps
from sellerdesk.faq.content.model import Seller
from sellerdesk.faq.matching.normalize import ORDER_NUMBER
from sellerdesk.storage.models import (
    Buyer,
    Case,
    CaseKind,
    Direction,
    ReturnRequest,
    ReturnStep,
)
from sellerdesk.storage.repo import buyers, reminders
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import returns as returns_repo
from sellerdesk.storage.types import utcnow

#: Reasons a buyer picks from, in the order shown.
REASONS = (
    "defect",
    "wrong_item",
    "not_as_described",
    "missing_parts",
    "size",
    "changed_mind",
    "other",
)
#: Reasons staff cannot judge without seeing the item.
PHOTOS_REQUIRED = frozenset({"defect", "wrong_item", "missing_parts"})
#: Photos of one return at most: staff get them as one album, and an album holds ten.
MAX_PHOTOS = 10
#: Characters of a return method's button label.
METHOD_LABEL_CHARS = 48
#: A catalog this small is offered as buttons; a bigger one would be a wall of
#: buttons on a phone, so the buyer types the product instead.
PRODUCT_BUTTONS = 8
#: Return methods offered when no ``return-*`` template covers them.
FIXED_METHODS = ("address", "refund", "replace")
#: Template ids that are return methods start with this.
METHOD_TEMPLATE_PREFIX = "return-"
#: What the next staff message in a return topic is for (``staff_awaiting``).
AWAIT_REJECT = "reject"
AWAIT_QUESTION = "question"
#: The buyer's next message answers staff's question.
AWAIT_BUYER = "buyer"
#: Event kinds of a return case (the column is free text).
EVENT_APPROVED = "return_approved"
EVENT_REJECTED = "return_rejected"
EVENT_ASKED = "return_asked"


def _say(
    session: Session, chat_id: int, key: str, lang: str, buttons: Buttons = (), **values: str
) -> None:
    outgoing.send_text(
        session, chat_id=chat_id, text=text(key, lang, **values), side=Side.BUYER, buttons=buttons
    )


def _reason_label(reason: str | None, lang: str) -> str:
    return text(f"return_reason_{reason}", lang) if reason in REASONS else (reason or "—")


def expired(flow: ReturnRequest, timeout: timedelta, now: datetime) -> bool:
    return now - flow.updated_at > timeout


# ---------------------------------------------------------------------- the buyer's flow


class ReturnFlow:
    """The buyer's side: ``/return``, the flow's answers and buttons, ``/cancel``."""

    def __init__(self, ctx: DeskContext, timeout: timedelta) -> None:
        self.ctx = ctx
        self.timeout = timeout

    def _current(
        self, session: Session, buyer: Buyer, chat_id: int, lang: str, now: datetime
    ) -> ReturnRequest | None:
        """The buyer's flow in progress; one that timed out is closed here, and the
        buyer told, when they come back (nothing of it ever reached staff)."""
        return self._unexpired(
            session, returns_repo.active_flow(session, buyer.id), chat_id, lang, now
        )

    def _unexpired(
        self, session: Session, flow: ReturnRequest | None, chat_id: int, lang: str, now: datetime
    ) -> ReturnRequest | None:
        """``flow``, unless it timed out: then it is closed and the buyer told."""
        if flow is None:
            return None
        if expired(flow, self.timeout, now):
            returns_repo.advance(session, flow.id, flow.step, {"step": ReturnStep.EXPIRED}, now)
            minutes = str(max(1, int(self.timeout.total_seconds() // 60)))
            _say(session, chat_id, "return_expired", flow.lang or lang, minutes=minutes)
            return None
        return flow

    def start(
        self, session: Session, buyer: Buyer, chat_id: int, seller: Seller | None, lang: str
    ) -> None:
        now = utcnow()
        self._current(session, buyer, chat_id, lang, now)
        if seller is None:
            _say(session, chat_id, "no_seller", lang)
            return
        open_return = cases_repo.find_open_case(session, buyer.id, seller.id, CaseKind.RETURN)
        if open_return is not None:
            _say(session, chat_id, "return_already_open", lang, number=str(open_return.number))
            return
        returns_repo.start_flow(session, buyer.id, seller.id, lang, now)
        minutes = str(max(1, int(self.timeout.total_seconds() // 60)))
        _say(session, chat_id, "return_ask_order", lang, shop=seller.name, minutes=minutes)

    def cancel(self, session: Session, buyer: Buyer, chat_id: int, lang: str) -> None:
        now = utcnow()
        if returns_repo.active_flow(session, buyer.id) is None:
            _say(session, chat_id, "return_nothing_to_cancel", lang)
            return
        flow = self._current(session, buyer, chat_id, lang, now)
        if flow is None:
            return  # it had timed out: the buyer was just told so
        returns_repo.advance(session, flow.id, flow.step, {"step": ReturnStep.CANCELLED}, now)
        _say(session, chat_id, "return_cancelled", flow.lang or lang)

    def skip(self, session: Session, buyer: Buyer, chat_id: int, lang: str) -> bool:
        """``/skip``: past the optional photos, or submitting without a comment; at a step
        that cannot be skipped, its question again. False when no flow is there."""
        now = utcnow()
        flow = self._current(session, buyer, chat_id, lang, now)
        if flow is None:
            return False
        lang = flow.lang or lang
        if flow.step is ReturnStep.COMMENT:
            self._submit(session, buyer, flow, chat_id, None)
        elif flow.step is ReturnStep.PHOTOS and (
            flow.reason not in PHOTOS_REQUIRED or flow.photo_ids
        ):
            returns_repo.advance(
                session, flow.id, ReturnStep.PHOTOS, {"step": ReturnStep.COMMENT}, now
            )
            _say(session, chat_id, "return_ask_comment", lang)
        elif flow.step is ReturnStep.PHOTOS:
            _say(session, chat_id, "return_photos_required", lang, buttons=self._done(flow, lang))
        else:
            _say(session, chat_id, "return_cannot_skip", lang)
        return True

    def message(
        self, session: Session, buyer: Buyer, msg: Incoming, lang: str, *, pending: bool = True
    ) -> bool:
        """The buyer's message while a flow is in progress (or while staff wait for more
        details on a return); True if it was taken.

        ``pending``: False when the caller knows the buyer has neither (see
        :func:`storage.repo.buyers.buyer_state`); nothing is read then.
        """
        if not pending:
            return False
        now = utcnow()
        found = returns_repo.active_flow(session, buyer.id)
        flow = self._unexpired(session, found, msg.chat_id, lang, now)
        if flow is None:
            return found is not None or self._more_details(session, buyer, msg)
        lang = flow.lang or lang
        body = msg.body.strip()
        if flow.step is ReturnStep.ORDER:
            match = ORDER_NUMBER.fullmatch(body) if msg.kind is Kind.TEXT else None
            if match is None:
                _say(session, msg.chat_id, "return_bad_order", lang)
                return True
            returns_repo.advance(
                session,
                flow.id,
                ReturnStep.ORDER,
                {"order_number": body, "step": ReturnStep.PRODUCT},
                now,
            )
            self._ask_product(session, buyer, flow, msg.chat_id, lang)
        elif flow.step is ReturnStep.PRODUCT:
            if msg.kind is not Kind.TEXT or not body:
                self._ask_product(session, buyer, flow, msg.chat_id, lang)
                return True
            values = {"product": cases.clip(body, 255), "step": ReturnStep.REASON}
            returns_repo.advance(session, flow.id, ReturnStep.PRODUCT, values, now)
            self._ask_reason(session, flow, msg.chat_id, lang)
        elif flow.step is ReturnStep.REASON:
            self._ask_reason(session, flow, msg.chat_id, lang)
        elif flow.step is ReturnStep.PHOTOS:
            if msg.kind is not Kind.MEDIA:
                key = (
                    "return_photos_required"
                    if flow.reason in PHOTOS_REQUIRED
                    else "return_ask_photos_optional"
                )
                _say(session, msg.chat_id, key, lang, buttons=self._done(flow, lang))
                return True
            if len(flow.photo_ids) >= MAX_PHOTOS:
                # Staff get the photos as one album: Telegram's albums hold ten.
                outgoing.send_text(
                    session,
                    chat_id=msg.chat_id,
                    text=text("return_photos_enough", lang, count=str(MAX_PHOTOS)),
                    side=Side.BUYER,
                    buttons=self._done(flow, lang),
                    # Once per album, as the acknowledgement below.
                    dedupe_key=f"retenough:{flow.id}:{msg.media_group_id or msg.message_id}",
                )
                return True
            count = returns_repo.add_photo(session, flow, msg.message_id, now)
            # One acknowledgement per album, not one per photo in it; it goes with the
            # album's first photo, before the rest are counted, so it names no number.
            album = f"retphoto:{flow.id}:{msg.media_group_id}" if msg.media_group_id else None
            got = (
                text("return_album_got", lang)
                if album
                else text("return_photo_got", lang, count=str(count))
            )
            outgoing.send_text(
                session,
                chat_id=msg.chat_id,
                text=got,
                side=Side.BUYER,
                buttons=self._done(flow, lang),
                dedupe_key=album,
            )
        elif flow.step is ReturnStep.COMMENT:
            if msg.kind is not Kind.TEXT or not body:
                _say(session, msg.chat_id, "return_ask_comment", lang)
                return True
            self._submit(session, buyer, flow, msg.chat_id, body)
        return True

    def _more_details(self, session: Session, buyer: Buyer, msg: Incoming) -> bool:
        """Staff asked for more: the buyer's next message goes to the return's topic."""
        request = returns_repo.awaiting_buyer(session, buyer.id, AWAIT_BUYER)
        case = (
            cases_repo.get_case(session, request.case_id) if request and request.case_id else None
        )
        seller = self.ctx.seller(case.seller_id) if case else None
        if request is None or case is None or seller is None or not cases.is_open(case):
            return False
        returns_repo.set_staff_awaiting(session, request.id, None)
        cases.relay_to_staff(
            session,
            case,
            seller,
            buyer_chat_id=msg.chat_id,
            message_id=msg.message_id,
            body=msg.body,
            media_group_id=msg.media_group_id,
        )
        cases.buyer_note(session, case, "return_info_sent", number=str(case.number))
        return True

    def _done(self, flow: ReturnRequest, lang: str) -> Buttons:
        return [[(text("return_button_done", lang), data(Button.RETURN_DONE, flow.id))]]

    def _ask_product(
        self, session: Session, buyer: Buyer, flow: ReturnRequest, chat_id: int, lang: str
    ) -> None:
        seller = self.ctx.seller(flow.seller_id)
        products = list(seller.products) if seller else []
        if len(products) > PRODUCT_BUTTONS:
            # Too many to list: the product the buyer came about, if any, else typing.
            current = (
                seller.product(buyer.current_offer_id)
                if seller and buyer.current_offer_id
                else None
            )
            products = [current] if current is not None else []
        rows: list[list[tuple[str, str]]] = [
            [(cases.clip(p.name, 60), data(Button.RETURN_PRODUCT, flow.id, p.offer_id))]
            for p in products
            if fits(data(Button.RETURN_PRODUCT, flow.id, p.offer_id))
        ]
        if rows:
            rows.append(
                [(text("return_button_other", lang), data(Button.RETURN_PRODUCT, flow.id, ""))]
            )
            _say(session, chat_id, "return_ask_product", lang, buttons=rows)
        else:
            _say(session, chat_id, "return_ask_product_text", lang)

    def _ask_reason(self, session: Session, flow: ReturnRequest, chat_id: int, lang: str) -> None:
        rows = [[(_reason_label(r, lang), data(Button.RETURN_REASON, flow.id, r))] for r in REASONS]
        _say(session, chat_id, "return_ask_reason", lang, buttons=rows)

    def press(
        self, session: Session, buyer: Buyer, press: Press, kind: str, rest: str, lang: str
    ) -> PressResult | None:
        """``rprod``, ``rreason``, ``rdone``: a button of the flow. None: not the buyer's
        flow (forged, or from a flow long gone)."""
        flow_id, _, value = rest.partition(":")
        now = utcnow()
        active = returns_repo.active_flow(session, buyer.id)
        if active is None or str(active.id) != flow_id:
            return None
        flow = self._current(session, buyer, press.chat_id, lang, now)
        if flow is None:
            return PressResult(remove_buttons=True)
        lang = flow.lang or lang
        if kind == Button.RETURN_PRODUCT and flow.step is ReturnStep.PRODUCT:
            seller = self.ctx.seller(flow.seller_id)
            product = seller.product(value) if seller and value else None
            if product is None:
                _say(session, press.chat_id, "return_ask_product_text", lang)
                return PressResult(remove_buttons=True)
            values = {
                "offer_id": product.offer_id,
                "product": product.name,
                "step": ReturnStep.REASON,
            }
            returns_repo.advance(session, flow.id, ReturnStep.PRODUCT, values, now)
            self._ask_reason(session, flow, press.chat_id, lang)
            return PressResult(remove_buttons=True)
        if kind == Button.RETURN_REASON and flow.step is ReturnStep.REASON and value in REASONS:
            values = {"reason": value, "step": ReturnStep.PHOTOS}
            returns_repo.advance(session, flow.id, ReturnStep.REASON, values, now)
            if value in PHOTOS_REQUIRED:
                _say(session, press.chat_id, "return_ask_photos", lang)
            else:
                _say(
                    session,
                    press.chat_id,
                    "return_ask_photos_optional",
                    lang,
                    buttons=self._done(flow, lang),
                )
            return PressResult(remove_buttons=True)
        if kind == Button.RETURN_DONE and flow.step is ReturnStep.PHOTOS:
            if flow.reason in PHOTOS_REQUIRED and not flow.photo_ids:
                return PressResult(text("return_photos_required", lang))
            returns_repo.advance(
                session, flow.id, ReturnStep.PHOTOS, {"step": ReturnStep.COMMENT}, now
            )
            _say(session, press.chat_id, "return_ask_comment", lang)
            return PressResult(remove_buttons=True)
        return PressResult(remove_buttons=True)  # a button of a step already answered

    def _submit(
        self, session: Session, buyer: Buyer, flow: ReturnRequest, chat_id: int, comment: str | None
    ) -> None:
        """The flow is complete: open the return case with its card, photos and clock."""
        now = utcnow()
        lang = flow.lang or "en"
        seller = self.ctx.seller(flow.seller_id)
        if seller is None:
            returns_repo.advance(session, flow.id, flow.step, {"step": ReturnStep.CANCELLED}, now)
            _say(session, chat_id, "no_seller", lang)
            return
        case, created = cases_repo.open_case(
            session,
            buyer_id=buyer.id,
            seller_id=seller.id,
            subject=text("return_subject", cases.staff_lang(seller), order=flow.order_number or ""),
            lang=lang,
            offer_id=flow.offer_id,
            order_numbers=[flow.order_number] if flow.order_number else [],
            kind=CaseKind.RETURN,
            staff_chat_id=self.ctx.staff_group(session, seller, lang),
            now=now,
        )
        if not created:  # another return was filed meanwhile (a second device)
            returns_repo.advance(session, flow.id, flow.step, {"step": ReturnStep.CANCELLED}, now)
            _say(session, chat_id, "return_already_open", lang, number=str(case.number))
            return
        values = {"step": ReturnStep.SUBMITTED, "comment": comment, "case_id": case.id}
        returns_repo.advance(session, flow.id, ReturnStep.COMMENT, values, now)
        if cases_repo.start_reply_clock(session, case.id, now):
            steps = schedule_steps(case_sla(case, seller, now))
            reminders.schedule(session, case.id, now, steps, now=now)
        alias = buyers.buyer_alias(session, buyer.id, seller.id, self.ctx.alias_key, now)
        card = card_text(case, flow, seller, alias, comment)
        cases.place_in_staff_chat(
            session,
            case,
            seller,
            alias,
            card,
            decision_buttons(case, seller),
            now,
            placed=True,
            shop=self.ctx.topic_shop(seller, case.staff_chat_id),
        )
        if flow.photo_ids:
            # One copyMessages call: photos sent as an album stay one album.
            outgoing.copy_messages(
                session,
                chat_id=case.staff_chat_id or seller.support_chat_id,
                from_chat_id=chat_id,
                message_ids=flow.photo_ids,
                side=Side.STAFF,
                case_id=case.id,
                record=Direction.TO_STAFF,
                now=now,
            )
        due = due_at(now, seller.returns.decide_within, business_hours(seller))
        cases.buyer_note(
            session,
            case,
            "return_submitted",
            tail=cases.away_note(seller, case.lang, now),
            number=str(case.number),
            deadline=due.strftime("%d.%m.%Y %H:%M UTC"),
            now=now,
        )


def card_text(
    case: Case, flow: ReturnRequest, seller: Seller, alias: str, comment: str | None
) -> str:
    """The return card in HTML: who, the order, product, reason, photos, comment."""
    lang = cases.staff_lang(seller)

    def line(key: str, value: str) -> str:
        return f"<b>{text(key, lang)}:</b> {cases.escape(value)}"

    product = flow.product or "—"
    if flow.offer_id:
        product = f"{product} ({flow.offer_id})"
    lines = [
        f"<b>{cases.escape(text('return_card_title', lang, number=str(case.number)))}</b>",
        line("card_buyer", f"Buyer #{alias}"),
        line("card_language", case.lang or "?"),
        line("card_shop", seller.name),
        line("card_orders", flow.order_number or "—"),
        line("card_product", product),
        line("return_card_reason", _reason_label(flow.reason, lang)),
        line("return_card_photos", str(len(flow.photo_ids))),
        line("return_card_comment", comment or "—"),
        "",
        f"<i>{cases.escape(text('return_card_help', lang))}</i>",
    ]
    return "\n".join(lines)


def decision_buttons(case: Case, seller: Seller) -> Buttons:
    lang = cases.staff_lang(seller)
    return [
        [
            (text("return_button_approve", lang), data(Button.RETURN_APPROVE, case.id)),
            (text("return_button_reject", lang), data(Button.RETURN_REJECT, case.id)),
        ],
        [(text("return_button_more", lang), data(Button.RETURN_MORE, case.id))],
    ]


# ---------------------------------------------------------------------- staff's decision


def methods(seller: Seller) -> list[tuple[str, str]]:
    """(id, label) of the return methods: the seller's ``return-*`` templates, then the
    fixed ones (the address only when no template gives it)."""
    lang = cases.staff_lang(seller)
    found = [
        (t.id, _method_label(t.text_in(lang, seller.languages)) or t.id)
        for t in seller.templates
        if t.id.startswith(METHOD_TEMPLATE_PREFIX)
    ]
    fixed = [m for m in FIXED_METHODS if not (found and m == "address")]
    return found + [(m, text(f"return_method_{m}", lang)) for m in fixed]


def _method_label(template_text: str) -> str:
    """A button label from a method template's text in the staff's language: its first
    clause ("Возврат оформляется через Ozon"), not the template's id."""
    first = re.split(r"[.:!?\n]", template_text.strip(), maxsplit=1)[0].strip()
    return cases.clip(first, METHOD_LABEL_CHARS)


def _method_text(seller: Seller, method: str, lang: str) -> str:
    template = next((t for t in seller.templates if t.id == method), None)
    if template is not None:
        return template.text_in(lang, seller.languages)
    return text(f"return_method_{method}_buyer", lang)


def staff_press(
    session: Session, case: Case, seller: Seller, press: Press, kind: str, extra: str
) -> PressResult:
    """Approve, Reject, Ask for more, a return method. Each acts once: a second press
    (or a colleague's at the same moment) finds the decision taken."""
    lang = cases.staff_lang(seller)
    request = returns_repo.get_by_case(session, case.id)
    if request is None or not cases.is_open(case):
        return PressResult(text("stale_button", lang))
    now = utcnow()
    name = press.user_name or str(press.user_id)
    if kind == Button.RETURN_APPROVE:
        if not returns_repo.begin_approval(session, request.id, press.user_id, now):
            return PressResult(text("return_staff_decided", lang))
        cases_repo.record_staff_reply(session, case.id, now)  # decided: the clock stops
        rows = [
            [(label, data(Button.RETURN_METHOD, case.id, method))]
            for method, label in methods(seller)
            if fits(data(Button.RETURN_METHOD, case.id, method))
        ]
        outgoing.send_text(
            session,
            chat_id=case.staff_chat_id or seller.support_chat_id,
            text=text("return_staff_pick_method", lang, name=name),
            side=Side.STAFF,
            case_id=case.id,
            buttons=rows,
            record=Direction.SYSTEM,
            now=now,
        )
        return PressResult(remove_buttons=True)
    if kind == Button.RETURN_METHOD:
        if extra not in {m for m, _ in methods(seller)}:
            return PressResult(text("stale_button", lang))
        if not returns_repo.approve(session, request.id, extra, now):
            return PressResult(text("return_staff_decided", lang))
        buyer_lang = pick_language(case.lang)
        cases_repo.add_event(
            session, case.id, EVENT_APPROVED, actor=f"staff:{press.user_id}", data={"method": extra}
        )
        cases.buyer_note(
            session,
            case,
            "return_approved",
            number=str(case.number),
            method=_method_text(seller, extra, buyer_lang),
            now=now,
        )
        cases.staff_note(session, case, seller, "return_staff_approved", name=name, method=extra)
        return PressResult(remove_buttons=True)
    if kind == Button.RETURN_REJECT:
        if not returns_repo.set_staff_awaiting(session, request.id, AWAIT_REJECT):
            return PressResult(text("return_staff_decided", lang))
        cases.staff_note(session, case, seller, "return_staff_reject_ask")
        return PressResult()
    if kind == Button.RETURN_MORE:
        if not returns_repo.set_staff_awaiting(session, request.id, AWAIT_QUESTION):
            return PressResult(text("return_staff_decided", lang))
        cases.staff_note(session, case, seller, "return_staff_more_ask")
        return PressResult()
    return PressResult(text("stale_button", lang))


def reject(
    session: Session, case: Case, seller: Seller, user_id: int, name: str, reason: str
) -> bool:
    """Reject the return with ``reason``; the buyer is told and may dispute. False if it
    was decided already."""
    request = returns_repo.get_by_case(session, case.id)
    now = utcnow()
    if request is None or not returns_repo.reject(session, request.id, user_id, reason, now):
        cases.staff_note(session, case, seller, "return_staff_decided")
        return False
    cases_repo.record_staff_reply(session, case.id, now)
    cases_repo.add_event(
        session, case.id, EVENT_REJECTED, actor=f"staff:{user_id}", data={"reason": reason[:500]}
    )
    lang = pick_language(case.lang)
    dispute = [[(text("return_button_dispute", lang), data(Button.COMPLAIN, case.id))]]
    cases.buyer_note(
        session,
        case,
        "return_rejected",
        buttons=dispute,
        number=str(case.number),
        reason=reason,
        now=now,
    )
    cases.staff_note(session, case, seller, "return_staff_rejected", name=name)
    return True


def staff_message(session: Session, case: Case, seller: Seller, msg: Incoming) -> bool:
    """A staff message in a return topic that answers the bot's prompt: the reason of a
    rejection, or the question for the buyer. False: an ordinary message."""
    if case.kind is not CaseKind.RETURN or msg.kind is not Kind.TEXT or not msg.body.strip():
        return False
    request = returns_repo.get_by_case(session, case.id)
    if request is None or request.decision is not None:
        return False
    name = msg.user_name or str(msg.user_id)
    if request.staff_awaiting == AWAIT_REJECT:
        reject(session, case, seller, msg.user_id, name, msg.body.strip())
        return True
    if request.staff_awaiting == AWAIT_QUESTION:
        returns_repo.set_staff_awaiting(session, request.id, AWAIT_BUYER)
        cases_repo.add_event(session, case.id, EVENT_ASKED, actor=f"staff:{msg.user_id}")
        cases.buyer_note(
            session, case, "return_question", number=str(case.number), question=msg.body.strip()
        )
        cases.staff_note(session, case, seller, "return_staff_asked")
        return True
    return False
