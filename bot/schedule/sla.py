"""Reply deadlines: the schedule a case gets when its reply clock starts, and the sweep
that turns due schedule rows into reminders and escalations.

The schedule lives in the database (``storage.repo.reminders``); the scheduler only
ticks. Each tick claims the due rows and, in the same transaction, writes their
messages to the outbox and marks them done, so a crash before the commit leaves the
rows to be claimed again and a commit leaves them done: a reminder is sent once,
whichever process (or restart) gets to it. Every message also carries a dedupe key
derived from the reminder's id, so even a claim taken over after a lost lease cannot
queue it twice.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, escalation, outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import text
from sellerdesk.bot.schedule.deadlines import case_sla, deadline, format_duration
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.models import Case, Direction, Reminder, ReminderKind
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import reminders
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)


def mention(case: Case, lang: str) -> str:
    """Who a reminder calls, in HTML: the member who claimed the case (a mention by id,
    which notifies them), or the staff as a whole."""
    if case.claimed_by is None:
        return cases.escape(text("sla_staff", lang))
    return f'<a href="tg://user?id={case.claimed_by}">{cases.escape(text("sla_owner", lang))}</a>'


def reminder_text(case: Case, seller: Seller, reminder: Reminder, now: datetime) -> str:
    """The reminder for the case's topic (HTML): who, how long the buyer has waited,
    how long is left before the deadline (or how long it is overdue)."""
    lang = cases.staff_lang(seller)
    start = case.awaiting_reply_since or reminder.due_at
    left = deadline(start, case_sla(case, seller, start)) - now
    values = {
        "number": str(case.number),
        "who": mention(case, lang),
        "waited": cases.escape(format_duration(now - start, lang)),
    }
    if left > timedelta(0):
        return text("sla_reminder", lang, left=cases.escape(format_duration(left, lang)), **values)
    return text("sla_overdue", lang, late=cases.escape(format_duration(-left, lang)), **values)


class SlaSweep:
    """One process's share of the deadline work: claim what is due, queue its messages."""

    def __init__(
        self, db: Database, ctx: DeskContext, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.ctx = ctx
        self.clock = clock
        self.worker_id = f"sla:{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    def tick(self, now: datetime | None = None) -> int:
        """Handle every reminder due at ``now`` (blocking); returns how many were sent.

        Batches are claimed until none is left, each in its own transaction, so a
        backlog after downtime (or a clock that jumped) clears in one tick, earliest
        due first.
        """
        sent = 0
        while True:
            handled, batch = self._batch(now or self.clock())
            sent += handled
            if batch < reminders.DEFAULT_BATCH:
                return sent

    def _batch(self, now: datetime) -> tuple[int, int]:
        with self.db.transaction() as session:
            due = reminders.claim_due(session, self.worker_id, now=now)
            sent = 0
            for reminder in due:
                if not reminders.mark_done(session, reminder.id, self.worker_id, now=now):
                    continue  # cancelled meanwhile: staff answered
                if self._handle(session, reminder, now):
                    sent += 1
            return sent, len(due)

    def _handle(self, session: Session, reminder: Reminder, now: datetime) -> bool:
        case = cases_repo.get_case(session, reminder.case_id)
        seller = self.ctx.seller(case.seller_id) if case else None
        # A case closed or answered has its rows cancelled; this guards rows of a
        # seller removed from the content, and clocks stopped without cancelling.
        if case is None or seller is None or not cases.is_open(case):
            return False
        if case.awaiting_reply_since is None:
            return False
        if reminder.kind is ReminderKind.REMINDER:
            outgoing.send_text(
                session,
                chat_id=case.staff_chat_id or seller.support_chat_id,
                text=reminder_text(case, seller, reminder, now),
                side=Side.STAFF,
                case_id=case.id,
                html=True,
                record=Direction.SYSTEM,
                dedupe_key=f"sla:{reminder.id}",
                later=outgoing.Urgency.NOTICE,
                now=now,
            )
            cases_repo.add_event(
                session, case.id, "reminded", actor="system", data={"step": reminder.step}, now=now
            )
            return True
        escalation.missed_deadline(
            session, self.ctx, case, seller, key=f"sla:{reminder.id}", now=now
        )
        return True
