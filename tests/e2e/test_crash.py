"""The bot process killed with SIGKILL in the middle of relaying a burst, restarted on
the same SQLite file: every buyer message reaches the topic, in order.

What is guaranteed, and asserted: at least once, in the order the buyer wrote, and
a copy appears twice only if its outbox row was claimed but not marked sent at the
kill (Telegram may have accepted the copy just before the process died; it offers no
idempotency key, so the restarted sender cannot tell and sends it again). The outbox
sends one row per chat at a time, so that is at most one duplicate per chat per crash.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from storage.models import OutboxMessage, OutboxStatus
from tests.botapi import BotApiDouble
from tests.botapi.model import StoredMessage
from tests.e2e.harness import BUYER, DEMO, SUPPORT

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Вы можете сшить платье по моим меркам?"
#: Buyer messages in the burst, and how many copies the double must have seen before
#: the kill: well inside the burst, so rows are still queued and one is in flight.
BURST = 30
KILL_AFTER = 8
#: Each copyMessage is answered this much later: the burst takes seconds, so the kill
#: lands mid-burst, and a copy is likely to be in the double's hands at the kill.
COPY_DELAY_S = 0.05
#: The restarted process's lease wait is this short so the test stays quick.
LEASE_S = 1.0
START_TIMEOUT_S = 30
DELIVERY_TIMEOUT_S = 30


def _start(api: BotApiDouble, db_url: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "tests.crash_runner",
        api.url,
        api.token,
        db_url,
        str(DEMO),
        str(LEASE_S),
    ]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _copies(api: BotApiDouble, sources: set[int]) -> list[StoredMessage]:
    return [
        m
        for m in api.messages_in(SUPPORT)
        if m.copied_from is not None and m.copied_from[0] == BUYER and m.copied_from[1] in sources
    ]


def _in_flight(db_url: str) -> int:
    """Rows to the support chat claimed but not marked sent: what the kill left open."""
    from storage.db import make_engine, session_factory

    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            query = select(func.count()).where(
                OutboxMessage.chat_id == SUPPORT, OutboxMessage.status == OutboxStatus.SENDING
            )
            return int(session.scalar(query) or 0)
    finally:
        engine.dispose()


def test_sigkill_mid_burst_loses_nothing(api: BotApiDouble, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    procs: list[subprocess.Popen[str]] = []
    try:
        procs.append(_start(api, db_url))
        api.user_sends_text(BUYER, "/start lotus-wear")
        api.wait_for_message(BUYER, count=1, timeout=10)
        question = api.user_sends_text(BUYER, QUESTION)
        api.wait_for(lambda: _copies(api, {question.message_id}), START_TIMEOUT_S)

        api.delay("copyMessage", COPY_DELAY_S)
        burst = [api.user_sends_text(BUYER, f"сообщение {n:02d}") for n in range(BURST)]
        sources = {m.message_id for m in burst}
        api.wait_for(lambda: len(_copies(api, sources)) >= KILL_AFTER, DELIVERY_TIMEOUT_S)
        os.kill(procs[0].pid, signal.SIGKILL)
        procs[0].wait(timeout=10)
        delivered_before = len(_copies(api, sources))
        in_flight = _in_flight(db_url)
        assert delivered_before < BURST, "the kill came after the burst; nothing was tested"

        procs.append(_start(api, db_url))

        def all_arrived() -> bool:
            return {m.copied_from[1] for m in _copies(api, sources) if m.copied_from} == sources

        api.wait_for(all_arrived, DELIVERY_TIMEOUT_S)
        procs[1].send_signal(signal.SIGTERM)
        assert procs[1].wait(timeout=20) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    copies = _copies(api, sources)
    order = [m.copied_from[1] for m in copies if m.copied_from]
    first_seen = list(dict.fromkeys(order))
    assert first_seen == [m.message_id for m in burst]  # every one, in the buyer's order
    assert [c.text for c in copies if c.copied_from] == [
        next(b.text for b in burst if b.message_id == source) for source in order
    ]
    duplicates = len(order) - len(first_seen)
    assert duplicates <= in_flight <= 1, (duplicates, in_flight)
