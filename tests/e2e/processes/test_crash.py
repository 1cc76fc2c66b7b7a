"""The bot process killed with SIGKILL in the middle of relaying a burst, restarted on
the same SQLite file: every buyer message reaches the topic once, in order.

Telegram may have accepted a copy just before the process died, unanswered; it
offers no idempotency key, so the restarted sender sends the row again and then
looks for the earlier copy (see ``OutboxSender._keep_first_copy``): found, the
repeat is deleted. The same check runs after a connection that broke mid-call,
tested here in-process with the double's faults, one case each way: the earlier
try landed (the repeat goes), and it did not while others wrote in the chat (the
repeat stays, nothing is deleted).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sellerdesk.bot.settings import Pacing
from sellerdesk.bot.telegram_io.outbox import jobs as outbox_jobs
from sellerdesk.storage.models import CaseMessage, OutboxMessage, OutboxStatus
from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage
from testing.processes import start_crash_runner
from tests.e2e.harness import BUYER, DEMO, STAFF, SUPPORT, Desk, open_db, run_desk, settings_for

ROOT = Path(__file__).resolve().parents[3]
QUESTION = "Можете сшить костюм на заказ для свадьбы?"
LINE = "сообщение "
#: Buyer messages in the burst, and how many copies the double must have seen before
#: the kill: well inside the burst, so rows are still queued and one is in flight.
BURST = 30
KILL_AFTER = 8
#: Each copyMessage is answered this much later: the burst takes seconds, so the kill
#: lands mid-burst, and a copy is likely to be in the double's hands at the kill.
COPY_DELAY_S = 0.05
#: The restarted process's lease wait is this short so the test stays quick.
LEASE_S = 3.0
START_TIMEOUT_S = 30
DELIVERY_TIMEOUT_S = 30
#: The sender's pacing set far above what the burst needs: this is about crashes, and
#: a row waiting for its turn longer than the lease would be taken again meanwhile.
FAST_PACING_ENV = {
    "TELEGRAM_GLOBAL_RATE": "1000",
    "TELEGRAM_CHAT_RATE": "1000",
    "TELEGRAM_CHAT_BURST": "100",
    "TELEGRAM_GROUP_RATE": "60000",
    "TELEGRAM_GROUP_BURST": "100",
}
FAST_PACING = Pacing(
    global_rate=1000, chat_rate=1000, chat_burst=100, group_rate_per_min=60000, group_burst=100
)


def _start(api: BotApiDouble, db_url: str) -> subprocess.Popen[str]:
    return start_crash_runner(api.url, api.token, db_url, DEMO, LEASE_S, FAST_PACING_ENV)


def _shown(api: BotApiDouble, *, include_deleted: bool = False) -> list[str]:
    """The burst's lines the staff chat shows, in order: a copy's text, or each line of
    a message that folded several (``HH:MM · text``)."""
    lines = []
    for m in api.messages_in(SUPPORT, include_deleted=include_deleted):
        if include_deleted and not m.deleted:
            continue
        for line in (m.text or "").split("\n"):
            body = line.split(" · ", 1)[1] if m.copied_from is None and " · " in line else line
            if body.startswith(LINE):
                lines.append(body)
    return lines


def _in_flight(db_url: str) -> int:
    """Rows to the support chat claimed but not marked sent: what the kill left open."""
    from sellerdesk.storage.db import make_engine, session_factory

    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            query = select(func.count()).where(
                OutboxMessage.chat_id == SUPPORT, OutboxMessage.status == OutboxStatus.SENDING
            )
            return int(session.scalar(query) or 0)
    finally:
        engine.dispose()


def test_sigkill_mid_burst_delivers_each_message_once(api: BotApiDouble, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    procs: list[subprocess.Popen[str]] = []
    try:
        procs.append(_start(api, db_url))
        api.user_sends_text(BUYER, "/start lotus-wear")
        api.wait_for_message(BUYER, count=1, timeout=10)
        api.user_sends_text(BUYER, QUESTION)
        # The case's card carries the question (no copy of it).
        api.wait_for(
            lambda: any(QUESTION in (m.text or "") for m in api.messages_in(SUPPORT)),
            START_TIMEOUT_S,
        )

        api.delay("copyMessage", COPY_DELAY_S)
        api.delay("sendMessage", COPY_DELAY_S)
        expected = [f"{LINE}{n:02d}" for n in range(BURST)]
        for text in expected:
            # Spread a little: each send folds only the few lines that queued behind it,
            # so the kill lands with rows of both kinds waiting and one in flight.
            api.user_sends_text(BUYER, text)
            time.sleep(0.02)
        api.wait_for(lambda: len(_shown(api)) >= KILL_AFTER, DELIVERY_TIMEOUT_S)
        os.kill(procs[0].pid, signal.SIGKILL)
        procs[0].wait(timeout=10)
        delivered_before = len(_shown(api))
        in_flight = _in_flight(db_url)
        assert delivered_before < BURST, "the kill came after the burst; nothing was tested"

        procs.append(_start(api, db_url))
        api.wait_for(lambda: set(_shown(api)) == set(expected), DELIVERY_TIMEOUT_S)
        procs[1].send_signal(signal.SIGTERM)
        assert procs[1].wait(timeout=20) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # Every line once, in the buyer's order, copied or folded (deleted repeats are not
    # in the chat); a chat's rows go out one at a time, so at most one was in flight.
    assert _shown(api) == expected
    assert in_flight <= 1
    # Only repeats were deleted: at most the one in flight.
    deleted = {m.message_id for m in api.messages_in(SUPPORT, include_deleted=True) if m.deleted}
    assert len(deleted) <= in_flight
    assert set(_shown(api, include_deleted=True)) <= set(expected)


# ---------------------------------------------------------------------- a broken call

#: Backoff after a broken call: short, so the next try comes at once.
QUICK_BACKOFF_S = 0.05
#: Backoff long enough for others to write in the chat before the next try.
SLOW_BACKOFF_S = 1.0
SECOND = "у меня рост 170, обхват груди 88"
STAFF_ANSWER = "Да, сошьём по вашим меркам"
COLLEAGUE = 700000102


async def _open_case(desk: Desk) -> int:
    """The buyer opens a case; returns its topic."""
    await desk.buyer_asks("/start lotus-wear")
    desk.buyer_says(QUESTION)
    topic = await desk.topic()
    # The card carries the question (no copy of it).
    await desk.in_topic(topic.thread_id, lambda m: QUESTION in (m.text or ""))
    return topic.thread_id


def _copies_of(api: BotApiDouble, message: StoredMessage) -> list[StoredMessage]:
    return [
        m
        for m in api.messages_in(SUPPORT, include_deleted=True)
        if m.copied_from == (BUYER, message.message_id)
    ]


def _probes(api: BotApiDouble) -> dict[int, str | None]:
    """The edits that checked for an earlier copy: message id -> Telegram's answer."""
    return {
        int(e.params["message_id"]): e.description
        for e in api.history
        if e.method == "editMessageReplyMarkup" and int(e.params["chat_id"]) == SUPPORT
    }


def test_a_copy_that_landed_unanswered_is_not_kept_twice(
    api: BotApiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_jobs, "BACKOFF_BASE_S", QUICK_BACKOFF_S)
    settings = settings_for(api, tmp_path, pacing=FAST_PACING)
    second: list[StoredMessage] = []

    async def scenario(desk: Desk) -> None:
        thread_id = await _open_case(desk)
        # The copy reaches the topic; the connection breaks before the answer.
        desk.api.fail("copyMessage", drop_connection=True, after_effect=True)
        second.append(desk.buyer_says(SECOND))
        await desk.wait(lambda: [m for m in _copies_of(desk.api, second[0]) if m.deleted], 10)
        first_copy, repeat = _copies_of(desk.api, second[0])
        assert not first_copy.deleted and repeat.message_id > first_copy.message_id
        # Staff answer the copy that stayed: the answer threads to the buyer's message.
        desk.staff_says(STAFF_ANSWER, thread_id, reply_to=first_copy.message_id)
        answer = await desk.wait(
            lambda: [m for m in desk.buyer_messages() if m.text == STAFF_ANSWER]
        )
        assert answer[0].reply_to == second[0].message_id

    run_desk(api, settings, scenario)
    first_copy, repeat = _copies_of(api, second[0])
    assert api.calls_to("deleteMessage") == [{"chat_id": SUPPORT, "message_id": repeat.message_id}]
    assert str(_probes(api)[first_copy.message_id]).startswith(
        "Bad Request: message is not modified"
    )
    with open_db(settings) as session:
        stmt = select(CaseMessage.staff_message_id).where(
            CaseMessage.buyer_chat_id == BUYER, CaseMessage.buyer_message_id == second[0].message_id
        )
        assert list(session.scalars(stmt)) == [first_copy.message_id]


def test_a_try_that_did_not_land_is_kept_while_others_write_in_the_chat(
    api: BotApiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_jobs, "BACKOFF_BASE_S", SLOW_BACKOFF_S)
    settings = settings_for(api, tmp_path, pacing=FAST_PACING)
    second: list[StoredMessage] = []
    others: list[StoredMessage] = []

    async def scenario(desk: Desk) -> None:
        await _open_case(desk)
        # The connection breaks before the request takes effect.
        desk.api.fail("copyMessage", drop_connection=True)
        second.append(desk.buyer_says(SECOND))
        await desk.wait(lambda: any(e.status == 0 for e in desk.api.history))
        # Before the next try, colleagues write in the group: their messages take ids
        # between the last copy on record and the next try's.
        others.append(desk.api.member_sends_text(SUPPORT, COLLEAGUE, "коллеги, кто на смене?"))
        others.append(desk.api.member_sends_text(SUPPORT, STAFF, "я"))
        await desk.wait(lambda: _copies_of(desk.api, second[0]), 10)

    run_desk(api, settings, scenario)
    copies = _copies_of(api, second[0])
    assert len(copies) == 1 and not copies[0].deleted
    assert api.calls_to("deleteMessage") == []
    probes = _probes(api)
    # Each message in the gap was checked and found to be someone else's.
    for message in others:
        assert probes[message.message_id] == "Bad Request: message can't be edited"
    assert all(message_id < copies[0].message_id for message_id in probes)


def test_a_repeat_that_cannot_be_deleted_stays_on_record(
    api: BotApiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_jobs, "BACKOFF_BASE_S", QUICK_BACKOFF_S)
    settings = settings_for(api, tmp_path, pacing=FAST_PACING)
    second: list[StoredMessage] = []
    third: list[StoredMessage] = []

    async def scenario(desk: Desk) -> None:
        await _open_case(desk)
        desk.api.fail("copyMessage", drop_connection=True, after_effect=True)
        desk.api.fail("deleteMessage", 500)
        second.append(desk.buyer_says(SECOND))
        await desk.wait(lambda: desk.api.calls_to("deleteMessage"), 10)
        # The next message's try breaks too, after it took effect: the repeat of the
        # one before, still in the chat, must not pass for its earlier copy.
        desk.api.fail("copyMessage", drop_connection=True, after_effect=True)
        third.append(desk.buyer_says("и ещё: длина 110"))
        await desk.wait(lambda: [m for m in _copies_of(desk.api, third[0]) if m.deleted], 10)

    run_desk(api, settings, scenario)
    first_copy, repeat = _copies_of(api, second[0])
    assert not first_copy.deleted and not repeat.deleted  # shown twice, never lost
    kept, deleted = _copies_of(api, third[0])
    assert not kept.deleted and deleted.deleted
    with open_db(settings) as session:
        stmt = select(OutboxMessage.sent_message_ids).where(
            OutboxMessage.chat_id == SUPPORT, OutboxMessage.kind == "copy_message"
        )
        on_record = [ids for ids in session.scalars(stmt) if ids]
        assert [first_copy.message_id, repeat.message_id] in on_record
        assert [kept.message_id] in on_record
