"""Reply-deadline schedules: reminder and escalation rows per case, claimed when due.

The scheduler only ticks; each tick claims what is due here, so a restart loses
nothing and two running copies of the bot never send the same reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, insert, or_, select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import WORKER_ID_LEN, Reminder, ReminderKind, ReminderStatus
from sellerdesk.storage.repo._sql import claim_ids, persist_inserted, table_of, update_rows
from sellerdesk.storage.types import utcnow

#: Reminders per sweep; a sweep runs every minute or so and each reminder is one
#: outbox row, so 50 clears any realistic backlog in one or two ticks.
DEFAULT_BATCH = 50
#: A claimed reminder is handled in milliseconds (it only enqueues a message);
#: after this its claim is considered abandoned and another worker may take it.
DEFAULT_LEASE = timedelta(minutes=2)


def schedule(
    session: Session,
    case_id: int,
    start: datetime,
    steps: Sequence[tuple[ReminderKind, timedelta]],
    now: datetime | None = None,
    *,
    replace: bool = True,
) -> list[Reminder]:
    """Write the case's deadline schedule: one row per ``(kind, offset)`` due at ``start + offset``.

    ``start`` is the reply clock's start, so the schedule survives restarts and is
    the same whichever process writes it. Pending rows of an earlier schedule are
    cancelled first: a case has one schedule at a time (``replace=False`` skips that
    for a case just opened, which has none). The rows go in one INSERT.
    """
    now = now or utcnow()
    if replace:
        cancel_for_case(session, case_id, now=now)
    if not steps:
        return []
    values = [
        {
            "case_id": case_id,
            "kind": kind,
            "step": step,
            "due_at": start + offset,
            "status": ReminderStatus.PENDING,
            "claimed_by": None,
            "claimed_until": None,
            "created_at": now,
            "done_at": None,
        }
        for step, (kind, offset) in enumerate(steps)
    ]
    session.flush()  # as the ORM's own INSERT would: pending changes go first
    # One statement for all rows (SQLAlchemy's "insertmanyvalues"), built once; the ids
    # come back in no promised order, the steps tell them apart.
    ids = {step: row_id for row_id, step in session.execute(_INSERT, values)}
    return [persist_inserted(session, Reminder, ids[v["step"]], v) for v in values]


_REMINDERS = table_of(Reminder)
_INSERT = insert(_REMINDERS).returning(_REMINDERS.c.id, _REMINDERS.c.step)


def cancel_for_case(session: Session, case_id: int, now: datetime | None = None) -> int:
    """Cancel the case's pending and claimed reminders (staff answered, case closed).

    Claimed ones too: a worker that claimed one a moment ago then fails
    :func:`mark_done` and rolls back the message it was about to send.
    """
    values = {
        "status": ReminderStatus.CANCELLED,
        "claimed_by": None,
        "claimed_until": None,
        "done_at": now or utcnow(),
    }
    cancelled = update_rows(
        session,
        Reminder.id,
        values,
        Reminder.case_id == case_id,
        Reminder.status.in_((ReminderStatus.PENDING, ReminderStatus.CLAIMED)),
    )
    return len(cancelled)


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Due pending rows, and claims whose lease ran out."""
    return or_(
        and_(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now),
        and_(Reminder.status == ReminderStatus.CLAIMED, Reminder.claimed_until < now),
    )


def claim_due(
    session: Session,
    worker_id: str,
    now: datetime | None = None,
    limit: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Reminder]:
    """Claim up to ``limit`` due reminders for ``worker_id``, earliest due first.

    Two workers claiming at once never get the same row (SKIP LOCKED on
    PostgreSQL, a conditional UPDATE on SQLite). Either commit the claim and handle
    each reminder in its own transaction ending with :func:`mark_done`, or handle
    them all in this transaction.
    """
    now = now or utcnow()
    candidates = (
        select(Reminder.id)
        .where(_claimable(now))
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    ids = claim_ids(
        session,
        Reminder.id,
        candidates,
        _claimable(now),
        {
            "status": ReminderStatus.CLAIMED,
            "claimed_by": worker_id[:WORKER_ID_LEN],
            "claimed_until": now + lease,
        },
    )
    if not ids:
        return []
    stmt = (
        select(Reminder)
        .where(Reminder.id.in_(ids))
        .order_by(Reminder.due_at, Reminder.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def mark_done(
    session: Session, reminder_id: int, worker_id: str, now: datetime | None = None
) -> bool:
    """Finish a claimed reminder; False if it was cancelled (or taken over) meanwhile,
    in which case the caller must not send it."""
    done = update_rows(
        session,
        Reminder.id,
        {"status": ReminderStatus.DONE, "claimed_until": None, "done_at": now or utcnow()},
        Reminder.id == reminder_id,
        Reminder.status == ReminderStatus.CLAIMED,
        Reminder.claimed_by == worker_id[:WORKER_ID_LEN],
    )
    return bool(done)


def list_for_case(session: Session, case_id: int) -> list[Reminder]:
    """All the case's reminder rows, in schedule order (for admins and tests)."""
    stmt = select(Reminder).where(Reminder.case_id == case_id)
    return list(session.scalars(stmt.order_by(Reminder.due_at, Reminder.id)))


def pending_for_case(session: Session, case_id: int) -> list[Reminder]:
    """The case's reminders still to come."""
    stmt = select(Reminder).where(
        Reminder.case_id == case_id, Reminder.status == ReminderStatus.PENDING
    )
    return list(session.scalars(stmt.order_by(Reminder.due_at, Reminder.id)))
