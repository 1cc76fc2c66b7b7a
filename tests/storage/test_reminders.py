"""Deadline schedules: writing, cancelling, claiming due reminders once across workers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.storage.models import Reminder, ReminderKind, ReminderStatus
from sellerdesk.storage.repo import reminders
from tests.storage import factories
from tests.storage.factories import T0, run_threads

SCHEDULE = [
    (ReminderKind.REMINDER, timedelta(minutes=30)),
    (ReminderKind.REMINDER, timedelta(hours=1)),
    (ReminderKind.ESCALATION, timedelta(hours=2)),
]


def test_schedule_writes_one_row_per_step(session: Session) -> None:
    case = factories.case(session)
    rows = reminders.schedule(session, case.id, T0, SCHEDULE, now=T0)
    assert [(r.kind, r.step, r.due_at, r.status) for r in rows] == [
        (ReminderKind.REMINDER, 0, T0 + timedelta(minutes=30), ReminderStatus.PENDING),
        (ReminderKind.REMINDER, 1, T0 + timedelta(hours=1), ReminderStatus.PENDING),
        (ReminderKind.ESCALATION, 2, T0 + timedelta(hours=2), ReminderStatus.PENDING),
    ]
    assert reminders.pending_for_case(session, case.id) == rows


def test_a_new_schedule_replaces_the_pending_one(session: Session) -> None:
    case = factories.case(session)
    old = reminders.schedule(session, case.id, T0, SCHEDULE, now=T0)
    new = reminders.schedule(session, case.id, T0 + timedelta(hours=3), SCHEDULE[:1], now=T0)
    assert {r.status for r in old} == {ReminderStatus.CANCELLED}
    assert reminders.pending_for_case(session, case.id) == new
    assert len(reminders.list_for_case(session, case.id)) == 4


def test_cancel_for_case_touches_only_that_case(session: Session) -> None:
    case = factories.case(session, telegram_id=1)
    other = factories.case(session, telegram_id=2)
    reminders.schedule(session, case.id, T0, SCHEDULE, now=T0)
    kept = reminders.schedule(session, other.id, T0, SCHEDULE, now=T0)
    assert reminders.cancel_for_case(session, case.id, now=T0) == 3
    assert reminders.cancel_for_case(session, case.id, now=T0) == 0
    assert reminders.pending_for_case(session, other.id) == kept


def test_claim_due_takes_due_rows_earliest_first(session: Session) -> None:
    first = factories.case(session, telegram_id=1)
    second = factories.case(session, telegram_id=2)
    reminders.schedule(session, first.id, T0 + timedelta(minutes=10), SCHEDULE, now=T0)
    reminders.schedule(session, second.id, T0, SCHEDULE, now=T0)
    now = T0 + timedelta(minutes=45)
    claimed = reminders.claim_due(session, "w1", now, lease=timedelta(minutes=2))
    assert [(r.case_id, r.step) for r in claimed] == [(second.id, 0), (first.id, 0)]
    assert {(r.status, r.claimed_by, r.claimed_until) for r in claimed} == {
        (ReminderStatus.CLAIMED, "w1", now + timedelta(minutes=2))
    }
    assert reminders.claim_due(session, "w2", now) == []


def test_claim_due_respects_the_limit(session: Session) -> None:
    for telegram_id in range(3):
        case = factories.case(session, telegram_id=telegram_id)
        reminders.schedule(session, case.id, T0, SCHEDULE[:1], now=T0)
    due = T0 + timedelta(hours=1)
    assert len(reminders.claim_due(session, "w1", due, limit=2)) == 2
    assert len(reminders.claim_due(session, "w1", due, limit=2)) == 1


def test_mark_done_needs_the_claim(session: Session) -> None:
    case = factories.case(session)
    (row,) = reminders.schedule(session, case.id, T0, SCHEDULE[:1], now=T0)
    due = T0 + timedelta(hours=1)
    assert not reminders.mark_done(session, row.id, "w1", due)  # not claimed
    reminders.claim_due(session, "w1", due)
    assert not reminders.mark_done(session, row.id, "w2", due)
    assert reminders.mark_done(session, row.id, "w1", due)
    assert (row.status, row.done_at) == (ReminderStatus.DONE, due)
    assert reminders.claim_due(session, "w1", due + timedelta(days=1)) == []


def test_a_reminder_cancelled_after_its_claim_is_not_done(session: Session) -> None:
    """Staff answered while the sweep was handling it: the sweep must not send it."""
    case = factories.case(session)
    (row,) = reminders.schedule(session, case.id, T0, SCHEDULE[:1], now=T0)
    due = T0 + timedelta(hours=1)
    reminders.claim_due(session, "w1", due)
    assert reminders.cancel_for_case(session, case.id, now=due) == 1
    assert not reminders.mark_done(session, row.id, "w1", due)
    assert row.status is ReminderStatus.CANCELLED


def test_an_abandoned_claim_is_taken_over_after_its_lease(session: Session) -> None:
    case = factories.case(session)
    (row,) = reminders.schedule(session, case.id, T0, SCHEDULE[:1], now=T0)
    due = T0 + timedelta(hours=1)
    lease = timedelta(minutes=2)
    reminders.claim_due(session, "w1", due, lease=lease)
    assert reminders.claim_due(session, "w2", due + lease) == []
    assert reminders.claim_due(session, "w2", due + lease + timedelta(seconds=1)) == [row]
    assert row.claimed_by == "w2"
    assert not reminders.mark_done(session, row.id, "w1", due)


def test_concurrent_sweeps_claim_each_reminder_exactly_once(
    sessions: sessionmaker[Session],
) -> None:
    total = 200
    with sessions() as session, session.begin():
        case = factories.case(session)
        session.add_all(
            Reminder(
                case_id=case.id,
                kind=ReminderKind.REMINDER,
                step=step,
                due_at=T0,
                status=ReminderStatus.PENDING,
                created_at=T0,
            )
            for step in range(total)
        )
    claimed: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 30

    def sweep(index: int) -> None:
        name = f"w{index}"
        while time.monotonic() < deadline:
            # Claim and finish in one transaction, as a sweep may.
            with sessions() as session, session.begin():
                batch = reminders.claim_due(session, name, T0, limit=10)
                for row in batch:
                    assert reminders.mark_done(session, row.id, name, T0)
                ids = [row.id for row in batch]
            with lock:
                claimed.extend(ids)
            if not ids:
                return

    run_threads(4, sweep)
    assert len(claimed) == total
    assert len(set(claimed)) == total
