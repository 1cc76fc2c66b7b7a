"""Cases as the desk runs them: opening one (topic, card, the buyer told), relaying
messages both ways, claiming, closing with a rating request, reopening.

Each function works inside the caller's transaction and writes what must be sent to
the outbox (:mod:`bot.desk.outgoing`), so a state change and its messages commit together.
Nothing here calls Telegram.

Longer than ~500 lines on purpose: a case's life (open, relay, claim, close, reopen)
and its card and topic name are one state machine; each step reads the others'
rules, so they stay side by side.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.callbacks import Button, data, fits
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.bot.schedule import deadlines
from sellerdesk.bot.staff_chats import StaffChats
from sellerdesk.faq.content.hours import WEEKDAYS
from sellerdesk.faq.content.model import Content, Seller
from sellerdesk.faq.matching.decision import Candidate
from sellerdesk.faq.matching.normalize import ORDER_NUMBER
from sellerdesk.storage.models import (
    SUBJECT_LEN,
    Buyer,
    Case,
    CaseKind,
    CaseStatus,
    Direction,
    OutboxKind,
)
from sellerdesk.storage.repo import buyers, cases, channels, outbox, questions, reminders
from sellerdesk.storage.repo import returns as returns_repo
from sellerdesk.storage.types import utcnow

#: Telegram's limit on a forum topic's name, in characters.
TOPIC_NAME_CHARS = 128
#: Characters of the buyer's question in a topic name: enough to tell cases apart
#: in the topic list, which shows about this much on a phone.
TOPIC_SUBJECT_CHARS = 40
#: Characters of the shop's name in a topic name (shared staff groups only).
TOPIC_SHOP_CHARS = 24
#: Characters of the question on the case card. A message holds 4096; the whole
#: question is copied into the topic anyway, so the card keeps a readable excerpt.
CARD_QUESTION_CHARS = 1000
#: FAQ candidates listed on the card ("which entries came close").
CARD_NEAR_MISSES = 3
#: How long the first album item waits for the rest before the album is copied.
#: Telegram delivers an album's updates within milliseconds of each other; a second
#: also covers a slow poll, and only delays that one chat's queue.
ALBUM_COLLECT = timedelta(seconds=1)


@dataclass(frozen=True)
class DeskContext:
    """What every part of the desk needs: content, FAQ, the alias key, the admins.

    The content is read through ``faq.live`` on each call, so a reload reaches every
    part of the desk at once.
    """

    faq: FaqAnswers
    alias_key: bytes
    admin_chat_id: int | None = None
    admin_user_ids: frozenset[int] = frozenset()
    #: Language of the bot's texts in the admin chat (``ADMIN_LANGUAGE``).
    admin_language: str = "ru"
    #: Staff groups the bot cannot work in now (see :mod:`bot.staff_chats`).
    staff_chats: StaffChats = field(default_factory=StaffChats)

    @property
    def content(self) -> Content:
        """The sellers of the content files now."""
        return self.faq.content

    def seller(self, seller_id: str) -> Seller | None:
        """A seller of the files, or one removed from them that still has open cases."""
        return self.faq.live.current.seller(seller_id)

    def topic_shop(self, seller: Seller, chat_id: int | None = None) -> str | None:
        """The shop's name for its topic names when the staff group ``chat_id``
        (default ``support_chat_id``) is shared with another seller (two "#1" side by
        side must say whose), else None."""
        chat = seller.support_chat_id if chat_id is None else chat_id
        return seller.name if len(self.sellers_of_chat(chat)) > 1 else None

    def sellers_of_chat(self, chat_id: int) -> list[Seller]:
        """Sellers whose staff work in ``chat_id`` (normally one): its
        ``support_chat_id`` or one of its ``support_chats``."""
        return self.faq.live.current.chat_owners.get(chat_id, [])

    def is_staff(self, seller: Seller, user_id: int, chat_id: int | None = None) -> bool:
        """May ``user_id``, writing in the staff group ``chat_id`` (default
        ``support_chat_id``), act on ``seller``'s cases?

        The seller's ``staff`` list when it has one, else anyone writing in the
        support chat (the update came from there, so they are a member) unless that chat
        is shared with another seller: then nobody but the listed staff (``faq check``
        says so); platform admins always.
        """
        if user_id in self.admin_user_ids:
            return True
        if seller.staff:
            return user_id in seller.staff
        chat = seller.support_chat_id if chat_id is None else chat_id
        return len(self.sellers_of_chat(chat)) <= 1

    def staff_groups(self, seller: Seller) -> list[int]:
        """The seller's staff groups the desk uses: ``support_chat_id`` and the
        ``support_chats`` that are not another seller's group by mistake."""
        owners = self.faq.live.current.chat_owners
        return [c for c in seller.staff_chat_ids if _owns(owners, c, seller)]

    def staff_group(self, session: Session, seller: Seller, lang: str | None) -> int:
        """The staff group a new case of a buyer writing in ``lang`` opens in.

        A group whose ``languages`` include ``lang``; otherwise ``support_chat_id``
        and the groups without ``languages``; among several, the one with the fewest
        open cases of the seller. A further group the bot cannot work in now (see
        :mod:`bot.staff_chats`), or another seller's group not marked ``shared``, is
        passed over; ``support_chat_id`` is the last resort. One query, only for a
        seller with more than one group.
        """
        if not seller.support_chats:
            return seller.support_chat_id
        owners = self.faq.live.current.chat_owners
        usable = frozenset(
            g.chat_id
            for g in seller.support_chats
            if _owns(owners, g.chat_id, seller) and self.staff_chats.problem(g.chat_id) is None
        )
        candidates = seller.groups_for(lang, usable)
        if len(candidates) == 1:
            return candidates[0]
        working = [c for c in candidates if not self.staff_chats.blocked(c)] or candidates
        load = cases.open_cases_by_chat(session, seller.id, working)
        return min(working, key=lambda chat: load.get(chat, 0))


def _owns(owners: dict[int, list[Seller]], chat_id: int, seller: Seller) -> bool:
    return any(s.id == seller.id for s in owners.get(chat_id, ()))


def staff_lang(seller: Seller) -> str:
    """The language of texts in the seller's support chat: seller.yaml's
    ``staff_language``, else the seller's first language (English when the bot has
    no texts in it)."""
    return pick_language(seller.staff_language or seller.default_language)


def escape(value: str) -> str:
    """``value`` safe inside an HTML-formatted message."""
    return html.escape(value, quote=False)


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, with an ellipsis when cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def topic_name(case: Case, alias: str, *, closed: bool = False, shop: str | None = None) -> str:
    """The case's forum topic name: number, the shop (``shop``: in a staff group shared
    by several sellers), buyer alias, a short subject."""
    subject = " ".join((case.subject or "").split())
    name = f"#{case.number} · Buyer #{alias}"
    if shop:
        name = f"#{case.number} · {clip(shop, TOPIC_SHOP_CHARS)} · Buyer #{alias}"
    if subject:
        name += f" · {clip(subject, TOPIC_SUBJECT_CHARS)}"
    if closed:
        name = f"✅ {name}"
    return clip(name, TOPIC_NAME_CHARS)


def order_numbers(value: str) -> list[str]:
    """Ozon order numbers (``12345678-0001``, ``12345678-0001-1``) mentioned in ``value``."""
    return list(dict.fromkeys(m.group(0) for m in ORDER_NUMBER.finditer(value)))


def deadline_text(case: Case, seller: Seller) -> str:
    """When staff will have answered by, as the buyer reads it: in the shop's
    ``timezone``, named ("07.12.2026 13:33 (Moscow)"; the bot does not know the buyer's
    zone, and saying which beats a wrong local time)."""
    hours = deadlines.business_hours(seller)
    due = deadlines.due_at(case.opened_at, seller.sla.first_reply, hours)
    due = due.astimezone(ZoneInfo(seller.timezone))
    if seller.timezone == "UTC":
        return f"{due:%d.%m.%Y %H:%M} UTC"
    city = seller.timezone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{due:%d.%m.%Y %H:%M} ({city})"


#: Days ahead from which "staff are back" names the date besides the weekday.
AWAY_DATE_DAYS = 6


def away_note(seller: Seller, lang: str | None, now: datetime) -> str:
    """What a buyer handed to staff at ``now`` is told when staff are not at work (the
    seller's ``hours``, holidays closed): the seller's ``away`` text in the buyer's
    language (else the seller's first), and when staff are back, in the seller's
    time zone. Empty within hours, and for a seller without hours."""
    hours = seller.hours
    if hours is None or hours.is_open(now):
        return ""
    parts = [seller.away_in(lang) or ""]
    back = hours.next_open(now)
    if back is not None:
        zone = ZoneInfo(seller.timezone)
        local = back.astimezone(zone)
        said = pick_language(lang)
        values = {
            "day": text(f"weekday_{WEEKDAYS[local.weekday()]}", said),
            "time": f"{local:%H:%M}",
            "zone": seller.timezone,
        }
        if (local.date() - now.astimezone(zone).date()).days >= AWAY_DATE_DAYS:
            parts.append(text("away_back_date", said, date=f"{local:%d.%m.%Y}", **values))
        else:
            parts.append(text("away_back", said, **values))
    return " ".join(p for p in parts if p)


def card_text(
    case: Case,
    seller: Seller,
    alias: str,
    faq: FaqAnswers,
    *,
    near: Sequence[Candidate] = (),
    answered: str | None = None,
    lang: str | None = None,
) -> str:
    """The case card in HTML: who, which shop, product, orders, the question, and the
    FAQ entries that came close (so staff can improve the FAQ). In the staff language
    unless ``lang`` says otherwise (the admin chat's copy)."""
    lang = lang or staff_lang(seller)

    def line(key: str, value: str) -> str:
        return f"<b>{text(key, lang)}:</b> {value}"

    lines = [f"<b>{escape(text('card_title', lang, number=str(case.number)))}</b>"]
    lines.append(line("card_buyer", escape(f"Buyer #{alias}")))
    lines.append(line("card_language", escape(case.lang or "?")))
    lines.append(line("card_shop", escape(seller.name)))
    where = case.buyer_chat_id or 0
    if channels.is_ozon_chat(where):
        lines.append(line("card_channel", escape(text("channel_ozon_chat", lang))))
    elif channels.is_business_chat(where):
        lines.append(line("card_channel", escape(text("channel_tg_business", lang))))
    if case.offer_id:
        product = seller.product(case.offer_id)
        label = f"{product.name} ({case.offer_id})" if product else case.offer_id
        lines.append(line("card_product", escape(label)))
    if case.order_numbers:
        lines.append(line("card_orders", escape(", ".join(case.order_numbers))))
    if case.subject:
        question = clip(case.subject, CARD_QUESTION_CHARS)
        lines.append(line("card_question", escape(question)))
    if answered:
        lines.append(line("card_answered", escape(answered)))
    if near:
        shown = ", ".join(f"{escape(c.target)} ({c.score:.0f})" for c in near[:CARD_NEAR_MISSES])
    else:
        shown = text("card_none", lang)
    lines.append(line("card_near", shown))
    help_key = "card_help" if seller.topics else "card_help_plain"
    lines.append("")
    lines.append(f"<i>{text(help_key, lang)}</i>")
    return "\n".join(lines)


#: FAQ entries offered under a case card as one-tap answers, at most.
ONE_TAP_ANSWERS = 3
#: Characters of an entry's label on its button.
ONE_TAP_LABEL_CHARS = 40
#: The matcher's confidence (0-100) below which an entry is not offered as an answer:
#: at the bottom of the scale it is only the least unrelated of the FAQ.
ONE_TAP_MIN_SCORE = 5.0


def card_buttons(
    case: Case, seller: Seller, answers: Sequence[tuple[str, str]] = ()
) -> list[list[tuple[str, str]]]:
    """Claim, Close, the quick replies' menu, and one button per FAQ entry that came
    close (``answers``: target and label): a press sends its answer to the buyer."""
    lang = staff_lang(seller)
    rows = [
        [
            (text("button_claim", lang), data(Button.CLAIM, case.id)),
            (text("button_close", lang), data(Button.CLOSE, case.id)),
        ],
        [(text("button_templates", lang), data(Button.TEMPLATES, case.id))],
    ]
    for target, label in answers[:ONE_TAP_ANSWERS]:
        pressed = data(Button.FAQ_SEND, case.id, target)
        if fits(pressed):
            rows.append([(f"↩ {clip(label, ONE_TAP_LABEL_CHARS)}", pressed)])
    return rows


def staff_note(
    session: Session,
    case: Case,
    seller: Seller,
    key: str,
    *,
    reply_to: int | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    **values: str,
) -> None:
    """A bot message in the case's topic (or, in a plain group, the chat), for staff only."""
    outgoing.send_text(
        session,
        chat_id=case.staff_chat_id or seller.support_chat_id,
        text=text(key, staff_lang(seller), **values),
        side=Side.STAFF,
        case_id=case.id,
        reply_to=reply_to,
        record=Direction.SYSTEM,
        dedupe_key=dedupe_key,
        # A note answering a staff member's message is their feedback: it goes at once.
        later=outgoing.Urgency.NOTICE if reply_to is None else outgoing.Urgency.NOW,
        now=now,
    )


def buyer_note(
    session: Session,
    case: Case,
    key: str,
    *,
    buttons: outgoing.Buttons = (),
    tail: str = "",
    now: datetime | None = None,
    **values: str,
) -> None:
    """A bot message to the case's buyer in their language, mapped to the case so a
    reply to it continues the case. ``tail``: a paragraph added below (the text for
    outside working hours, :func:`away_note`)."""
    chat_id = buyer_chat(case)
    if chat_id is None:  # the buyer was forgotten: nobody to tell
        return
    body = text(key, pick_language(case.lang), **values)
    outgoing.send_text(
        session,
        chat_id=chat_id,
        text=f"{body}\n\n{tail}" if tail else body,
        side=Side.BUYER,
        case_id=case.id,
        buttons=buttons,
        record=Direction.SYSTEM,
        now=now,
    )


def buyer_chat(case: Case) -> int | None:
    """Where the case's buyer side is written: the Telegram Business or Ozon chat the
    buyer wrote it from, else the bot's chat with them; None once the buyer is
    forgotten."""
    if case.buyer.forgotten_at is not None:
        return None
    return case.buyer_chat_id or case.buyer.telegram_id


def open_case(
    session: Session,
    ctx: DeskContext,
    seller: Seller,
    buyer: Buyer,
    *,
    subject: str | None,
    lang: str,
    near: Sequence[Candidate] = (),
    answered: str | None = None,
    carries: tuple[int, int] | None = None,
    chat_id: int | None = None,
    orders: Sequence[str] = (),
    now: datetime | None = None,
) -> tuple[Case, bool]:
    """Open the buyer's case with the seller, or return the one already open.

    ``chat_id``: the buyer's chat it starts from, when that is not the bot's chat with
    them (a Telegram Business or Ozon chat). ``orders``: order numbers known besides
    those in ``subject`` (an Ozon FBS chat's order).

    ``carries``: ``(chat_id, message_id)`` of the buyer's message that is the whole of
    ``subject``; a new case's card then stands for its copy (one send less into the
    group, whose allowance is 20 a minute): see :func:`carried_to_staff`.

    A new case gets its forum topic (or, with ``topics: false``, lives in the plain
    group), the case card with its buttons, and a note to the buyer with the case
    number and the reply deadline. Order numbers in ``subject`` are attached.

    Returns:
        ``(case, created)``.
    """
    now = now or utcnow()
    case, created = cases.open_case(
        session,
        buyer_id=buyer.id,
        seller_id=seller.id,
        subject=subject.strip() if subject and subject.strip() else None,
        lang=lang,
        offer_id=buyer.current_offer_id,
        order_numbers=list(dict.fromkeys([*order_numbers(subject or ""), *orders])),
        # In the staff chat from the start, and the clock starts with the case, not
        # with its first relayed message: a case opened from a button has no message
        # to relay and still needs its deadline.
        staff_chat_id=ctx.staff_group(session, seller, lang),
        start_reply_clock=True,
        buyer_chat_id=chat_id if chat_id != buyer.telegram_id else None,
        now=now,
    )
    if not created:
        return case, False
    if buyer.comment_case_id is not None:
        buyers.set_comment_case(session, buyer.id, None)
    steps = deadlines.schedule_steps(deadlines.case_sla(case, seller, now))
    reminders.schedule(session, case.id, now, steps, now=now, replace=False)
    alias = buyers.buyer_alias(session, buyer.id, seller.id, ctx.alias_key, now)
    card = card_text(case, seller, alias, ctx.faq, near=near, answered=answered)
    place_in_staff_chat(
        session,
        case,
        seller,
        alias,
        card,
        card_buttons(
            case,
            seller,
            [
                (c.target, ctx.faq.label(seller, c.target, staff_lang(seller)))
                for c in near
                if c.score >= ONE_TAP_MIN_SCORE
            ],
        ),
        now,
        placed=True,
        shop=ctx.topic_shop(seller, case.staff_chat_id),
        carries=carries,
    )
    # The truth when nothing reaches the staff group now: the case is saved and waits.
    blocked = ctx.staff_chats.blocked(case.staff_chat_id or seller.support_chat_id)
    buyer_note(
        session,
        case,
        "case_opened_waiting" if blocked else "case_opened",
        tail=away_note(seller, case.lang, now),
        number=str(case.number),
        shop=seller.name,
        deadline=deadline_text(case, seller),
        now=now,
    )
    return case, True


def place_in_staff_chat(
    session: Session,
    case: Case,
    seller: Seller,
    alias: str,
    card: str,
    buttons: outgoing.Buttons,
    now: datetime | None,
    *,
    placed: bool = False,
    shop: str | None = None,
    carries: tuple[int, int] | None = None,
) -> None:
    """Queue a new case's place with staff: its forum topic (when the seller uses
    topics) and its card (HTML) with ``buttons``. The topic's thread is looked up
    when the card is sent, so the card lands in the topic created just before.
    ``placed``: the case was opened in its staff group (``case.staff_chat_id``),
    without a topic; else it goes to ``support_chat_id``."""
    chat_id = case.staff_chat_id if placed and case.staff_chat_id else seller.support_chat_id
    if not placed:
        cases.set_topic(session, case.id, chat_id, None)
    if seller.topics:
        outgoing.topic_call(
            session,
            OutboxKind.CREATE_FORUM_TOPIC,
            chat_id=chat_id,
            case_id=case.id,
            name=topic_name(case, alias, shop=shop),
            now=now,
        )
    outgoing.send_text(
        session,
        chat_id=chat_id,
        text=card,
        side=Side.STAFF,
        case_id=case.id,
        html=True,
        buttons=buttons,
        record=Direction.SYSTEM,
        carries=carries,
        now=now,
    )


def carries_message(body: str, formatted: bool) -> bool:
    """Whether a buyer's text can be shown in full by a new case's card instead of
    being copied: plain (no formatting only a copy keeps) and short enough for the
    case's subject, which the card quotes whole."""
    text = body.strip()
    return bool(text) and not formatted and len(text) <= SUBJECT_LEN


def carried_to_staff(session: Session, case: Case, seller: Seller, now: datetime) -> None:
    """The buyer's first message reached staff inside the case card: start the reply
    clock as :func:`relay_to_staff` would after copying it."""
    if cases.record_buyer_message(session, case.id, now):
        deadlines.start_clock(session, case, seller, now)


def relay_to_staff(
    session: Session,
    case: Case,
    seller: Seller,
    *,
    buyer_chat_id: int,
    message_id: int,
    body: str = "",
    media_group_id: str | None = None,
    reply_to: int | None = None,
    plain: bool = False,
    media: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> None:
    """Copy a buyer's message into the case's topic and start the reply clock (and its
    reminder schedule) unless it is running.

    ``media``: the message's file (kind, file id), sent anew when the message is in a
    Telegram Business chat, where no copy can come from.

    ``plain``: the message is text without formatting of its own, which the sender may
    fold with the case's next waiting texts while the group's allowance is spent.

    Album items join one copy (see :data:`ALBUM_COLLECT`); a reply to an earlier
    case message becomes a reply to that message's counterpart in the topic.
    """
    now = now or utcnow()
    for number in order_numbers(body):
        cases.update_details(session, case.id, add_order_number=number)
    _copy(
        session,
        case,
        target_chat=case.staff_chat_id or seller.support_chat_id,
        source_chat=buyer_chat_id,
        message_id=message_id,
        side=Side.STAFF,
        record=Direction.TO_STAFF,
        media_group_id=media_group_id,
        reply_to=reply_to,
        text=body if plain and body.strip() and media_group_id is None else None,
        content=outgoing.Content(body, media),
        now=now,
    )
    if cases.record_buyer_message(session, case.id, now):
        # The first unanswered message since staff last replied: the next reply's clock.
        deadlines.start_clock(session, case, seller, now)
        away = away_note(seller, case.lang, now)
        chat_id = buyer_chat(case)
        if away and chat_id is not None:
            # Once per wait, not per message: the buyer knows when staff are back.
            outgoing.send_text(
                session,
                chat_id=chat_id,
                text=away,
                side=Side.BUYER,
                case_id=case.id,
                record=Direction.SYSTEM,
                now=now,
            )


def relay_to_buyer(
    session: Session,
    case: Case,
    *,
    staff_chat_id: int,
    message_id: int,
    media_group_id: str | None = None,
    reply_to: int | None = None,
    body: str = "",
    plain: bool = False,
    media: tuple[str, str] | None = None,
    teach: tuple[DeskContext, Seller] | None = None,
    now: datetime | None = None,
) -> bool:
    """Copy a staff message to the buyer under the shop's name; stops the reply clock.

    The first text staff send in a case (``body``: the text or caption) is kept as the
    case's answer, for ``sellerdesk faq gaps`` drafts and, with ``teach``, offered in
    the topic as a new FAQ entry (:func:`teach_offer`). ``plain``: text without
    formatting of its own, which the sender may fold with staff's next waiting texts
    while the buyer's chat is paced.

    Returns False when the buyer was forgotten and nothing can be sent.
    """
    now = now or utcnow()
    target = buyer_chat(case)
    if target is None:
        return False
    _copy(
        session,
        case,
        target_chat=target,
        source_chat=staff_chat_id,
        message_id=message_id,
        side=Side.BUYER,
        record=Direction.TO_BUYER,
        media_group_id=media_group_id,
        reply_to=reply_to,
        text=body if plain and body.strip() and media_group_id is None else None,
        content=outgoing.Content(body, media),
        now=now,
    )
    if case.kind is CaseKind.RETURN and returns_repo.undecided(session, case.id):
        # A return's clock is its decision deadline: talking does not stop it.
        cases.note_staff_message(session, case.id, now)
    else:
        cases.record_staff_reply(session, case.id, now)
    if body.strip() and questions.keep_first_answer(session, case.id, body) and teach:
        teach_offer(session, teach[0], case, teach[1], now, first_answer=body)
    return True


def _copy(
    session: Session,
    case: Case,
    *,
    target_chat: int,
    source_chat: int,
    message_id: int,
    side: Side,
    record: Direction,
    media_group_id: str | None,
    reply_to: int | None,
    now: datetime,
    text: str | None = None,
    content: outgoing.Content | None = None,
) -> None:
    reply_ref = (source_chat, reply_to) if reply_to is not None else None
    # No copy reaches into or out of a business or Ozon chat: the message is sent anew
    # from its content, album items one by one.
    channel = channels.is_channel_chat(target_chat) or channels.is_channel_chat(source_chat)
    if channel and (content is None or not (content.body.strip() or content.media)):
        return
    if channel or media_group_id is None:
        outgoing.copy_messages(
            session,
            chat_id=target_chat,
            from_chat_id=source_chat,
            message_ids=[message_id],
            side=side,
            case_id=case.id,
            record=record,
            reply_ref=reply_ref,
            text=None if channel else text,
            content=content,
            now=now,
        )
        return
    key = f"album:{source_chat}:{media_group_id}"
    if outbox.append_message_id(session, key, message_id):
        return
    # The first item, or a straggler whose album has already gone: a copy of its own,
    # keyed only when it starts the album (a straggler must not collide with the key).
    first = outbox.get_message_by_key(session, key) is None
    outgoing.copy_messages(
        session,
        chat_id=target_chat,
        from_chat_id=source_chat,
        message_ids=[message_id],
        side=side,
        case_id=case.id,
        record=record,
        reply_ref=reply_ref,
        dedupe_key=key if first else None,
        not_before=now + ALBUM_COLLECT if first else None,
        now=now,
    )


#: Marks a new FAQ entry in a teach button's data (entry ids never are "+").
TEACH_NEW = "+"


#: Case event: the buttons to teach the FAQ were posted in the topic (once a case).
EVENT_TEACH_OFFERED = "teach_offered"


def teach_offer(
    session: Session,
    ctx: DeskContext,
    case: Case,
    seller: Seller,
    now: datetime | None = None,
    first_answer: str | None = None,
) -> None:
    """Buttons to put the buyer's question into the seller's faq.yaml, as another
    wording of an entry that came close or as a new entry with staff's first answer
    (see ``StaffConversation.teach``): posted once a case, after staff's first answer
    (``first_answer``, just kept), or at closing when none came before."""
    question = (case.subject or "").strip()
    if case.kind is not CaseKind.QUESTION or not question or seller.path is None:
        return
    if any(e.kind == EVENT_TEACH_OFFERED for e in cases.list_events(session, case.id)):
        return
    answered = first_answer or case.first_answer
    lang = staff_lang(seller)
    decision = ctx.faq.matcher(seller).decide(question)
    rows: list[list[tuple[str, str]]] = []
    for c in decision.candidates:
        if c.is_product or c.score < ONE_TAP_MIN_SCORE or len(rows) >= ONE_TAP_ANSWERS:
            continue
        pressed = data(Button.TEACH, case.id, c.target)
        if fits(pressed):
            label = clip(ctx.faq.label(seller, c.target, lang), ONE_TAP_LABEL_CHARS)
            rows.append([(f"➕ {label}", pressed)])
    if answered:
        rows.append([(text("button_teach_new", lang), data(Button.TEACH, case.id, TEACH_NEW))])
    if not rows:
        return
    cases.add_event(session, case.id, EVENT_TEACH_OFFERED, actor="system")
    outgoing.send_text(
        session,
        chat_id=case.staff_chat_id or seller.support_chat_id,
        text=text("staff_teach_offer", lang, question=question),
        side=Side.STAFF,
        case_id=case.id,
        buttons=rows,
        record=Direction.SYSTEM,
        later=outgoing.Urgency.NOTICE,
        now=now,
    )


def rate_buttons(case: Case) -> list[list[tuple[str, str]]]:
    """One row of buttons 1-5 (Telegram shows five short buttons in one row on a phone)."""
    return [[(f"{n} ⭐", data(Button.RATE, case.id, n)) for n in range(1, 6)]]


def close(
    session: Session,
    ctx: DeskContext,
    case: Case,
    seller: Seller,
    *,
    actor: str,
    name: str,
    now: datetime | None = None,
) -> bool:
    """Close the case: rename and close its topic, tell staff, ask the buyer to rate.

    False when it was closed already (two people pressed Close: one wins).
    """
    now = now or utcnow()
    if not cases.close_case(session, case.id, actor=actor, now=now):
        return False
    _topic_state(session, ctx, case, seller, closed=True, now=now)
    staff_note(session, case, seller, "staff_closed", number=str(case.number), name=name, now=now)
    teach_offer(session, ctx, case, seller, now)
    if case.rating is None:
        buyer_note(
            session,
            case,
            "case_closed_rate",
            buttons=rate_buttons(case),
            number=str(case.number),
            now=now,
        )
    else:
        # Rated at an earlier closing: one rating per case.
        buyer_note(session, case, "case_closed", number=str(case.number), now=now)
    return True


def reopen(
    session: Session,
    ctx: DeskContext,
    case: Case,
    seller: Seller,
    *,
    actor: str,
    name: str | None,
    now: datetime | None = None,
) -> bool:
    """Reopen a closed case (its topic too) and tell both sides; False if it cannot be
    (open already, or the buyer has another open case with the seller)."""
    now = now or utcnow()
    if not cases.reopen_case(session, case.id, actor=actor, now=now):
        return False
    _topic_state(session, ctx, case, seller, closed=False, now=now)
    if name is None:
        staff_note(session, case, seller, "staff_reopened_by_buyer", number=str(case.number))
    else:
        staff_note(session, case, seller, "staff_reopened", number=str(case.number), name=name)
        buyer_note(session, case, "case_reopened", number=str(case.number), now=now)
    return True


def rename_topic(
    session: Session, ctx: DeskContext, case: Case, seller: Seller, now: datetime | None = None
) -> None:
    """Give the case's topic the name its record says now (after the buyer was
    forgotten: without the subject)."""
    if not seller.topics or case.thread_id is None:
        return
    alias = buyers.buyer_alias(session, case.buyer_id, seller.id, ctx.alias_key, now)
    chat_id = case.staff_chat_id or seller.support_chat_id
    outgoing.topic_call(
        session,
        OutboxKind.EDIT_FORUM_TOPIC,
        chat_id=chat_id,
        case_id=case.id,
        name=topic_name(
            case, alias, closed=not is_open(case), shop=ctx.topic_shop(seller, chat_id)
        ),
        now=now,
    )


def _topic_state(
    session: Session,
    ctx: DeskContext,
    case: Case,
    seller: Seller,
    *,
    closed: bool,
    now: datetime,
) -> None:
    if not seller.topics:
        return
    alias = buyers.buyer_alias(session, case.buyer_id, seller.id, ctx.alias_key, now)
    chat_id = case.staff_chat_id or seller.support_chat_id
    if closed:
        outgoing.topic_call(
            session,
            OutboxKind.EDIT_FORUM_TOPIC,
            chat_id=chat_id,
            case_id=case.id,
            name=topic_name(case, alias, closed=True, shop=ctx.topic_shop(seller, chat_id)),
            now=now,
        )
        outgoing.topic_call(session, outgoing.CLOSE_FORUM_TOPIC, chat_id=chat_id, case_id=case.id)
    else:
        outgoing.topic_call(session, outgoing.REOPEN_FORUM_TOPIC, chat_id=chat_id, case_id=case.id)
        outgoing.topic_call(
            session,
            OutboxKind.EDIT_FORUM_TOPIC,
            chat_id=chat_id,
            case_id=case.id,
            name=topic_name(case, alias, shop=ctx.topic_shop(seller, chat_id)),
            now=now,
        )


def is_open(case: Case) -> bool:
    return case.status is CaseStatus.OPEN
