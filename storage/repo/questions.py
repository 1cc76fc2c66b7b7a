"""The FAQ question log: one anonymous row per matcher decision, and the statistics over it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, delete, func, insert, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from sellerdesk.storage.models import ENTRY_ID_LEN, LANG_LEN, Case, FaqQuestionLog, QuestionOutcome
from sellerdesk.storage.repo._sql import (
    clip,
    insert_returning_object,
    rowcount,
    table_of,
    update_rows,
)
from sellerdesk.storage.types import utcnow

#: The matcher's hand-off and answer actions, as ``faq.matching.decision.Action``
#: spells them (storage may not import faq, so the values are repeated here and tested
#: there).
HANDOFF_ACTION = "handoff"
ANSWER_ACTION = "answer"
#: Most frequent unanswered questions listed by default.


class UtcDay(FunctionElement[date]):
    """The UTC calendar day of a :class:`UTCDateTime` column, on either backend."""

    type = Date()
    name = "utc_day"
    inherit_cache = True


@compiles(UtcDay)
def _utc_day_default(element: UtcDay, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTC text ("2025-01-31 23:59:59.000000"); date() cuts the day off it.
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(UtcDay, "postgresql")
def _utc_day_postgresql(element: UtcDay, compiler: Any, **kw: Any) -> str:
    # timestamptz::date would use the session's time zone; pin the day to UTC.
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


@dataclass(frozen=True)
class ActionDayCount:
    day: date
    action: str
    count: int


#: Channels a question was asked in.
TELEGRAM = "telegram"
OZON_CHAT = "ozon_chat"
#: A public question under an Ozon product card.
OZON_QUESTION = "ozon_question"
#: A chat of the seller's own Telegram account (Telegram Business).
TELEGRAM_BUSINESS = "tg_business"


@dataclass(frozen=True)
class Deflection:
    """How many questions the FAQ settled without a person."""

    total: int
    handed_off: int
    #: Answered or suggested, but the buyer said it did not help.
    not_helped: int

    @property
    def deflected(self) -> int:
        return self.total - self.handed_off - self.not_helped

    @property
    def rate(self) -> float:
        """Share of questions deflected, in [0, 1]; 0 when there were none."""
        return self.deflected / self.total if self.total else 0.0


def log_question(
    session: Session,
    *,
    seller_id: str,
    question: str,
    action: str,
    best_entry: str | None = None,
    score: float | None = None,
    lang: str | None = None,
    now: datetime | None = None,
    buyer_id: int | None = None,
) -> FaqQuestionLog:
    """Log one matcher decision (no Telegram id; personal details masked, see
    :func:`mask_personal`)."""
    values = _log_values(seller_id, question, action, best_entry, score, lang, now)
    values["buyer_id"] = buyer_id
    return insert_returning_object(session, FaqQuestionLog, _INSERT, values)


#: What a question may hold that names or reaches a person: e-mail addresses, phone
#: numbers, and runs of five or more digits (order, card and account numbers).
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d ()-]{8,}\d(?!\w)")
_DIGITS = re.compile(r"\d{5,}")
MASK = "***"


def mask_personal(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and long digit runs masked: the
    question log keeps what buyers ask, not who they are or their order numbers."""
    text = _EMAIL.sub(MASK, text)
    text = _PHONE.sub(MASK, text)
    return _DIGITS.sub(MASK, text)


def log_question_id(
    session: Session,
    *,
    seller_id: str,
    question: str,
    action: str,
    best_entry: str | None = None,
    score: float | None = None,
    lang: str | None = None,
    now: datetime | None = None,
    buyer_id: int | None = None,
    channel: str = TELEGRAM,
) -> int:
    """:func:`log_question`, returning only the new row's id: what a buyer's answer
    needs (for its buttons), without building an object of the session for it.
    ``channel``: where the buyer asked (:data:`TELEGRAM`, :data:`OZON_CHAT`,
    :data:`TELEGRAM_BUSINESS`)."""
    values = _log_values(seller_id, question, action, best_entry, score, lang, now)
    values["buyer_id"] = buyer_id
    values["channel"] = channel
    row_id: int = session.execute(_INSERT, values).scalar_one()
    return row_id


def _log_values(
    seller_id: str,
    question: str,
    action: str,
    best_entry: str | None,
    score: float | None,
    lang: str | None,
    now: datetime | None,
) -> dict[str, Any]:
    return {
        "seller_id": seller_id,
        "question": mask_personal(question),
        "action": action,
        "best_entry": clip(best_entry, ENTRY_ID_LEN),
        "score": score,
        "lang": clip(lang, LANG_LEN),
        "at": now or utcnow(),
        "channel": TELEGRAM,
        "outcome": None,
    }


_TABLE = table_of(FaqQuestionLog)
_INSERT = insert(_TABLE).returning(_TABLE.c.id)


def get_question(session: Session, log_id: int) -> FaqQuestionLog | None:
    """One logged question by id (a "helped?" button carries it)."""
    return session.get(FaqQuestionLog, log_id)


def record_outcome(session: Session, log_id: int, outcome: QuestionOutcome) -> bool:
    """Store the buyer's "helped? yes / no" for a logged question; False if unknown id."""
    changed = update_rows(
        session, FaqQuestionLog.id, {"outcome": outcome}, FaqQuestionLog.id == log_id
    )
    return bool(changed)


def counts_by_action_per_day(
    session: Session, since: datetime, until: datetime, seller_id: str | None = None
) -> list[ActionDayCount]:
    """Questions per UTC day and action in ``[since, until)``, by day then action."""
    day = UtcDay(FaqQuestionLog.at)
    stmt = select(day, FaqQuestionLog.action, func.count()).where(
        FaqQuestionLog.at >= since, FaqQuestionLog.at < until
    )
    if seller_id is not None:
        stmt = stmt.where(FaqQuestionLog.seller_id == seller_id)
    stmt = stmt.group_by(day, FaqQuestionLog.action).order_by(day, FaqQuestionLog.action)
    return [ActionDayCount(d, action, count) for d, action, count in session.execute(stmt)]


def deflection(
    session: Session, since: datetime, until: datetime, seller_id: str | None = None
) -> Deflection:
    """Deflection over ``[since, until)``: questions neither handed off nor marked unhelpful."""
    stmt = select(FaqQuestionLog.action, FaqQuestionLog.outcome, func.count()).where(
        FaqQuestionLog.at >= since, FaqQuestionLog.at < until
    )
    if seller_id is not None:
        stmt = stmt.where(FaqQuestionLog.seller_id == seller_id)
    stmt = stmt.group_by(FaqQuestionLog.action, FaqQuestionLog.outcome)
    total = handed_off = not_helped = 0
    for action, outcome, count in session.execute(stmt):
        total += count
        if action == HANDOFF_ACTION:
            handed_off += count
        elif outcome == QuestionOutcome.NOT_HELPED:
            not_helped += count
    return Deflection(total=total, handed_off=handed_off, not_helped=not_helped)


def deflection_by_channel(
    session: Session, since: datetime, until: datetime, seller_id: str | None = None
) -> dict[str, Deflection]:
    """:func:`deflection` per channel the questions were asked in."""
    stmt = select(
        FaqQuestionLog.channel, FaqQuestionLog.action, FaqQuestionLog.outcome, func.count()
    ).where(FaqQuestionLog.at >= since, FaqQuestionLog.at < until)
    if seller_id is not None:
        stmt = stmt.where(FaqQuestionLog.seller_id == seller_id)
    stmt = stmt.group_by(FaqQuestionLog.channel, FaqQuestionLog.action, FaqQuestionLog.outcome)
    counts: dict[str, list[int]] = {}
    for channel, action, outcome, count in session.execute(stmt):
        total = counts.setdefault(channel, [0, 0, 0])
        total[0] += count
        if action == HANDOFF_ACTION:
            total[1] += count
        elif outcome == QuestionOutcome.NOT_HELPED:
            total[2] += count
    return {channel: Deflection(*numbers) for channel, numbers in counts.items()}


#: Matcher actions that left the buyer without an answer: a list of guesses, or staff.
UNANSWERED_ACTIONS = ("suggest", "handoff")


def unanswered_questions(
    session: Session, seller_id: str, since: datetime, until: datetime, limit: int = 500
) -> list[str]:
    """The seller's questions in ``[since, until)`` the FAQ could not answer outright
    (suggestions, a hand-off, or an answer the buyer said did not help), in the order
    asked (the digest and ``faq gaps`` group them)."""
    stmt = (
        select(FaqQuestionLog.question)
        .where(
            FaqQuestionLog.seller_id == seller_id,
            FaqQuestionLog.at >= since,
            FaqQuestionLog.at < until,
            FaqQuestionLog.action.in_(UNANSWERED_ACTIONS)
            | (FaqQuestionLog.outcome == QuestionOutcome.NOT_HELPED),
        )
        .order_by(FaqQuestionLog.at, FaqQuestionLog.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


# ------------------------------------------------------------------------- FAQ drafts

#: Characters of a staff answer kept for FAQ drafts (a Telegram message holds 4096).
ANSWER_CHARS = 4096


@dataclass(frozen=True)
class AnsweredCase:
    """A case opened with a buyer's question that staff answered in text."""

    number: int
    subject: str
    answer: str
    opened_at: datetime


def keep_first_answer(session: Session, case_id: int, answer: str) -> bool:
    """Keep ``answer`` as the case's first staff answer unless one is kept already;
    True if this one was kept."""
    kept = update_rows(
        session,
        Case.id,
        {"first_answer": clip(answer.strip(), ANSWER_CHARS)},
        Case.id == case_id,
        Case.first_answer.is_(None),
    )
    return bool(kept)


def answered_cases(
    session: Session, seller_id: str, since: datetime, until: datetime
) -> list[AnsweredCase]:
    """The seller's cases opened in ``[since, until)`` with a question (their subject)
    and a staff answer, oldest first. Forgotten buyers' cases have neither."""
    stmt = (
        select(Case.number, Case.subject, Case.first_answer, Case.opened_at)
        .where(
            Case.seller_id == seller_id,
            Case.opened_at >= since,
            Case.opened_at < until,
            Case.subject.is_not(None),
            Case.first_answer.is_not(None),
        )
        .order_by(Case.opened_at, Case.id)
    )
    return [
        AnsweredCase(number=number, subject=subject, answer=answer, opened_at=opened_at)
        for number, subject, answer, opened_at in session.execute(stmt)
        if subject is not None and answer is not None  # as the query says; for the types
    ]


def asking_sellers(session: Session) -> list[str]:
    """Every seller id with questions in the log, sorted."""
    stmt = select(FaqQuestionLog.seller_id).distinct().order_by(FaqQuestionLog.seller_id)
    return list(session.scalars(stmt))


def purge_questions(session: Session, older_than: datetime) -> int:
    """Delete logged questions asked before ``older_than``; returns how many."""
    stmt = delete(FaqQuestionLog).where(FaqQuestionLog.at < older_than)
    return rowcount(session.execute(stmt))
