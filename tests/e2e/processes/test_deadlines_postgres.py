"""Two real bot processes on one PostgreSQL database share the deadline work: every
reminder and escalation is sent exactly once."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sellerdesk.bot.database import Database
from sellerdesk.bot.schedule.deadlines import schedule_steps
from sellerdesk.faq.content.model import Sla
from sellerdesk.storage.repo import buyers, cases, reminders
from sellerdesk.storage.types import utcnow
from testing.botapi import BotApiDouble
from testing.postgres import pg_schema
from tests.e2e.harness import ADMIN_CHAT, DEMO, SUPPORT

ROOT = Path(__file__).resolve().parents[3]
#: Cases seeded; each gets two reminders and an escalation.
CASES = 4
BUYERS = [6001 + n for n in range(CASES)]
#: Seconds each process runs after it is ready: the last step is due 1.5 s after
#: seeding; the rest is time for a duplicate to show if there were one.
RUN_S = 5
#: Seconds to wait for a process to start (imports, content, the database).
START_TIMEOUT_S = 30
SLA = Sla(
    first_reply=timedelta(seconds=2),
    remind_after=(timedelta(seconds=0.5), timedelta(seconds=1)),
    escalate_after=timedelta(seconds=1.5),
)


def _seed(db: Database) -> None:
    """Open the cases (plain-group mode: no topic to create) with their schedules."""
    now = utcnow()
    with db.transaction() as session:
        for telegram_id in BUYERS:
            buyer = buyers.get_or_create_buyer(session, telegram_id)
            case, _ = cases.open_case(
                session, buyer_id=buyer.id, seller_id="lotus-wear", subject="?", lang="ru"
            )
            cases.set_topic(session, case.id, SUPPORT, None)
            cases.start_reply_clock(session, case.id, now)
            reminders.schedule(session, case.id, now, schedule_steps(SLA), now=now)


def test_two_processes_send_each_reminder_once(api: BotApiDouble) -> None:
    for telegram_id in BUYERS:
        api.add_user(telegram_id, f"Buyer {telegram_id}", language_code="ru")
    with pg_schema("sdsla") as url:
        db_url = url.render_as_string(hide_password=False)
        db = Database(db_url)
        db.prepare()  # migrated once here: two processes migrating at once would race
        command = [
            sys.executable,
            "-m",
            "testing.sla_runner",
            api.url,
            api.token,
            db_url,
            str(DEMO),
            str(RUN_S),
        ]
        procs = [
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None
                assert proc.stdout.readline().strip() == "ready"
            _seed(db)
            for proc in procs:
                assert proc.wait(timeout=START_TIMEOUT_S + RUN_S) == 0
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            db.dispose()

    staff_notes = [m.text or "" for m in api.messages_in(SUPPORT)]
    for number in range(1, CASES + 1):
        mine = [t for t in staff_notes if f"№{number}:" in t or f"№{number} " in t]
        assert sum(t.startswith("⏰") for t in mine) == 2, staff_notes
        assert sum(t.startswith("🚨") for t in mine) == 1, staff_notes
    assert len(api.messages_in(ADMIN_CHAT)) == CASES
    for telegram_id in BUYERS:
        assert len(api.messages_in(telegram_id)) == 1  # the offer to complain, once
