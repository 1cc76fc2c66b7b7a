"""Cases that reach the platform: a missed deadline, a buyer's complaint.

Both post the case card to the admin chat (``ADMIN_CHAT_ID``) with a link to the
case's topic, tell the seller's staff in the topic, and (for a missed deadline)
offer the buyer to complain. The admin chat's messages about a case are mapped to
it, so an admin addresses a case by replying to one of them (see :mod:`bot.desk.admin`).
Everything is written to the outbox in the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.callbacks import Button, data
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.models import Case, CaseEventKind, CaseKind, Direction, ReturnDecision
from sellerdesk.storage.repo import buyers, messages
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import returns as returns_repo
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: Messages of the case copied to the admin chat with a complaint: enough to see
#: what went wrong, few enough not to flood the chat (the topic link has the rest).
HISTORY_MESSAGES = 5
#: Case events listed on a complaint (the newest ones).
HISTORY_EVENTS = 8
#: Telegram supergroup ids are ``-100`` followed by the id used in t.me/c links.
_SUPERGROUP_PREFIX = "-100"


def topic_link(chat_id: int | None, thread_id: int | None) -> str | None:
    """The t.me link to a forum topic (members of the chat can open it); None when the
    chat is not a supergroup or the case has no topic."""
    if chat_id is None or thread_id is None or not str(chat_id).startswith(_SUPERGROUP_PREFIX):
        return None
    return f"https://t.me/c/{str(chat_id).removeprefix(_SUPERGROUP_PREFIX)}/{thread_id}"


def admin_card(
    session: Session, ctx: DeskContext, case: Case, seller: Seller, reason: str, now: datetime
) -> str:
    """The admin chat's message about a case (HTML): why it is here, the case card, the
    topic link and how to act on it."""
    alias = buyers.buyer_alias(session, case.buyer_id, seller.id, ctx.alias_key, now)
    number = str(case.number)
    title = text(reason, ctx.admin_language, shop=seller.name, number=number)
    lines = [
        f"<b>{cases.escape(title)}</b>",
        "",
        cases.card_text(case, seller, alias, ctx.faq, lang=ctx.admin_language).split("\n\n<i>")[0],
    ]
    request = returns_repo.get_by_case(session, case.id) if case.kind is CaseKind.RETURN else None
    if request is not None and request.decision is ReturnDecision.REJECTED:
        # A dispute is about this: the admins read staff's reason with the card.
        label = text("admin_reject_reason", ctx.admin_language)
        lines.append(f"<b>{label}:</b> {cases.escape(request.reject_reason or '—')}")
    if case.awaiting_reply_since is not None:
        waited = case.awaiting_reply_since.strftime("%d.%m.%Y %H:%M UTC")
        lines.append(f"<b>{text('admin_waiting_since', ctx.admin_language)}:</b> {waited}")
    link = topic_link(case.staff_chat_id, case.thread_id)
    if link is not None:
        lines.append(
            f'<a href="{link}">{cases.escape(text("admin_topic_link", ctx.admin_language))}</a>'
        )
    lines.append("")
    usage = text("admin_help", ctx.admin_language, seller=seller.id, number=number)
    lines.append(f"<i>{cases.escape(usage)}</i>")
    return "\n".join(lines)


def _post_admin(
    session: Session,
    ctx: DeskContext,
    case: Case,
    seller: Seller,
    reason: str,
    *,
    key: str,
    now: datetime,
) -> bool:
    if ctx.admin_chat_id is None:
        log.warning("case %s of %s needs the admins but ADMIN_CHAT_ID is unset", case.id, seller.id)
        return False
    outgoing.send_text(
        session,
        chat_id=ctx.admin_chat_id,
        text=admin_card(session, ctx, case, seller, reason, now),
        side=Side.ADMIN,
        case_id=case.id,
        html=True,
        record=Direction.SYSTEM,
        dedupe_key=f"{key}:admin",
        now=now,
    )
    return True


def complain_button(case: Case) -> list[list[tuple[str, str]]]:
    return [[(text("button_complain", pick_language(case.lang)), data(Button.COMPLAIN, case.id))]]


def missed_deadline(
    session: Session, ctx: DeskContext, case: Case, seller: Seller, *, key: str, now: datetime
) -> None:
    """The case is past ``escalate_after``: the admins get its card, the topic is told,
    and the buyer is offered to complain. ``key`` makes each message once-only."""
    cases_repo.mark_escalated(session, case.id, now)
    cases_repo.add_event(session, case.id, CaseEventKind.ESCALATED, actor="system", now=now)
    _post_admin(session, ctx, case, seller, "admin_missed", key=key, now=now)
    cases.staff_note(
        session, case, seller, "staff_escalated", number=str(case.number), dedupe_key=f"{key}:staff"
    )
    buyer_chat = cases.buyer_chat(case)
    if buyer_chat is not None and ctx.admin_chat_id is not None:
        outgoing.send_text(
            session,
            chat_id=buyer_chat,
            text=text("buyer_late", pick_language(case.lang), number=str(case.number)),
            side=Side.BUYER,
            case_id=case.id,
            buttons=complain_button(case),
            record=Direction.SYSTEM,
            dedupe_key=f"{key}:buyer",
            now=now,
        )


def complaint(
    session: Session, ctx: DeskContext, case: Case, seller: Seller, *, now: datetime | None = None
) -> bool:
    """The buyer complains about an open case: the admins get the card and its recent
    history; the topic is told. False if there is no admin chat to complain to, or
    the buyer already complained about this case (a second press queues nothing)."""
    now = now or utcnow()
    if ctx.admin_chat_id is None:
        return False
    earlier = [
        e for e in cases_repo.list_events(session, case.id) if e.kind == CaseEventKind.COMPLAINED
    ]
    if earlier:
        return False
    cases_repo.mark_escalated(session, case.id, now)
    cases_repo.add_event(session, case.id, CaseEventKind.COMPLAINED, actor="buyer", now=now)
    key = f"complaint:{case.id}:{case.opened_at:%Y%m%d%H%M%S}"
    _post_admin(session, ctx, case, seller, "admin_complaint", key=key, now=now)
    _history(session, ctx, case, ctx.admin_chat_id, now)
    cases.staff_note(session, case, seller, "staff_complaint", number=str(case.number), now=now)
    return True


#: Event kinds and actors the admin chat's case history names in words (the texts
#: ``event_<kind>`` and ``actor_<role>``).
LABELLED_EVENTS = (
    "opened",
    "claimed",
    "unclaimed",
    "closed",
    "reopened",
    "rated",
    "forgotten",
    "escalated",
    "complained",
    "taken_over",
    "handed_back",
    "note",
    "return_approved",
    "return_rejected",
    "return_asked",
    "buyer_blocked",
    "topic_recreated",
    "no_topic_rights",
)
ACTORS = ("buyer", "staff", "admin", "system")


def _event_label(kind: str, lang: str) -> str:
    """An event kind as admins read it ("закрыто"); one the texts do not know shows as
    it is."""
    return text(f"event_{kind}", lang) if kind in LABELLED_EVENTS else kind


def _actor_label(actor: str, lang: str) -> str:
    """Who did it, without their id: buyer, staff, admin or system."""
    role = actor.split(":")[0] or "system"
    return text(f"actor_{role}", lang) if role in ACTORS else role


def _history(
    session: Session, ctx: DeskContext, case: Case, admin_chat: int, now: datetime
) -> None:
    """The case's last events as text, then copies of its last messages (copies, so the
    admins see photos too; never forwards, so nobody's identity shows)."""
    events = cases_repo.list_events(session, case.id)[-HISTORY_EVENTS:]
    lines = [text("admin_history", ctx.admin_language, number=str(case.number))]
    lang = ctx.admin_language
    lines += [
        f"{e.at:%d.%m %H:%M:%S} · {_event_label(e.kind, lang)} · "
        f"{_actor_label(e.actor or 'system', lang)}"
        for e in events
    ]
    outgoing.send_text(
        session,
        chat_id=admin_chat,
        text="\n".join(lines),
        side=Side.ADMIN,
        case_id=case.id,
        record=Direction.SYSTEM,
        now=now,
    )
    relayed = [
        m
        for m in messages.list_case_messages(session, case.id)
        if m.direction in (Direction.TO_STAFF, Direction.TO_BUYER)
    ][-HISTORY_MESSAGES:]
    for m in relayed:
        source = (
            (m.buyer_chat_id, m.buyer_message_id)
            if m.direction is Direction.TO_STAFF
            else (m.staff_chat_id, m.staff_message_id)
        )
        if source[0] is None or source[1] is None:
            continue
        outgoing.copy_messages(
            session,
            chat_id=admin_chat,
            from_chat_id=source[0],
            message_ids=[source[1]],
            side=Side.ADMIN,
            case_id=case.id,
            record=None,
            now=now,
        )
