"""The outbox: enqueue, claim with leases, per-chat order, retries, and concurrent workers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.storage.models import Direction, OutboxKind, OutboxMessage, OutboxStatus
from sellerdesk.storage.repo import messages as messages_repo
from sellerdesk.storage.repo import outbox
from tests.storage import factories
from tests.storage.factories import T0, run_threads

LEASE = timedelta(seconds=60)


def put(
    session: Session,
    chat_id: int,
    text: str = "hi",
    *,
    not_before: timedelta = timedelta(0),
    thread_id: int | None = None,
) -> OutboxMessage:
    message = outbox.enqueue(
        session,
        kind=OutboxKind.SEND_TEXT,
        chat_id=chat_id,
        payload={"text": text},
        thread_id=thread_id,
        not_before=T0 + not_before,
        now=T0,
    )
    assert message is not None
    return message


def test_enqueue_stores_the_call(session: Session) -> None:
    case = factories.case(session)
    message = outbox.enqueue(
        session,
        kind=OutboxKind.COPY_MESSAGE,
        chat_id=-100500,
        thread_id=9,
        case_id=case.id,
        payload={"from_chat_id": 1001, "message_id": 3, "caption": "Привет, 你好"},
        now=T0,
    )
    assert message is not None
    session.commit()
    session.expire_all()
    stored = outbox.get_message(session, message.id)
    assert stored is not None
    assert (stored.kind, stored.chat_id, stored.thread_id, stored.case_id) == (
        "copy_message",
        -100500,
        9,
        case.id,
    )
    assert stored.payload == {"from_chat_id": 1001, "message_id": 3, "caption": "Привет, 你好"}
    assert (stored.status, stored.attempts, stored.not_before) == (OutboxStatus.PENDING, 0, T0)
    assert stored.sent_message_ids is None


def test_a_dedupe_key_is_used_once(session: Session) -> None:
    first = outbox.enqueue(
        session, kind="send_text", chat_id=1, payload={}, dedupe_key="remind:7:0", now=T0
    )
    second = outbox.enqueue(
        session, kind="send_text", chat_id=1, payload={}, dedupe_key="remind:7:0", now=T0
    )
    assert first is not None and first.dedupe_key == "remind:7:0"
    assert second is None
    assert len(session.scalars(select(OutboxMessage)).all()) == 1
    with pytest.raises(ValueError):
        outbox.enqueue(session, kind="send_text", chat_id=1, payload={}, dedupe_key="k" * 200)
    with pytest.raises(ValueError):
        outbox.enqueue(session, kind="x" * 40, chat_id=1, payload={})


def test_claim_takes_due_rows_oldest_first_and_leases_them(session: Session) -> None:
    a = put(session, 1)
    b = put(session, 2)
    later = put(session, 3, not_before=timedelta(minutes=5))
    claimed = outbox.claim_batch(session, "w1", T0, limit=10, lease=LEASE)
    assert [m.id for m in claimed] == [a.id, b.id]
    for message in claimed:
        assert message.status is OutboxStatus.SENDING
        assert message.claimed_by == "w1"
        assert message.claimed_until == T0 + LEASE
        assert message.attempts == 1
    assert outbox.claim_batch(session, "w2", T0) == []
    for message in claimed:
        outbox.mark_sent(session, message.id, "w1", [1], T0)
    assert [m.id for m in outbox.claim_batch(session, "w2", T0 + timedelta(minutes=5))] == [
        later.id
    ]


def test_claim_respects_the_limit(session: Session) -> None:
    for chat in range(5):
        put(session, chat)
    assert len(outbox.claim_batch(session, "w1", T0, limit=3)) == 3
    assert len(outbox.claim_batch(session, "w1", T0, limit=3)) == 2


def test_one_chat_gets_its_messages_one_at_a_time_in_order(session: Session) -> None:
    first = put(session, 1, "one")
    second = put(session, 1, "two")
    other_chat = put(session, 2)
    batch = outbox.claim_batch(session, "w1", T0)
    assert [m.id for m in batch] == [first.id, other_chat.id]
    # While "one" is being sent, "two" waits, whoever asks.
    assert outbox.claim_batch(session, "w2", T0) == []
    assert outbox.mark_sent(session, first.id, "w1", [900], T0)
    assert [m.id for m in outbox.claim_batch(session, "w2", T0)] == [second.id]


def test_mark_sent_records_ids_and_needs_the_claim(session: Session) -> None:
    message = put(session, 1)
    assert not outbox.mark_sent(session, message.id, "w1", [1])  # not claimed yet
    outbox.claim_batch(session, "w1", T0)
    assert not outbox.mark_sent(session, message.id, "intruder", [1])
    assert outbox.mark_sent(session, message.id, "w1", [77, 78], T0 + timedelta(seconds=1))
    assert message.status is OutboxStatus.SENT
    assert message.sent_message_ids == [77, 78]
    assert message.sent_at == T0 + timedelta(seconds=1)
    assert (message.claimed_by, message.claimed_until) == (None, None)
    assert not outbox.mark_sent(session, message.id, "w1", [1])


def test_an_expired_lease_lets_another_worker_retry(session: Session) -> None:
    message = put(session, 1)
    outbox.claim_batch(session, "w1", T0, lease=LEASE)
    assert outbox.claim_batch(session, "w2", T0 + LEASE) == []  # not yet expired
    retaken = outbox.claim_batch(session, "w2", T0 + LEASE + timedelta(seconds=1))
    assert [m.id for m in retaken] == [message.id]
    assert message.attempts == 2
    # The first worker lost it: it cannot mark it any more.
    assert not outbox.mark_sent(session, message.id, "w1", [1])
    assert outbox.mark_sent(session, message.id, "w2", [1])


def test_retry_later_holds_the_chat_until_due(session: Session) -> None:
    first = put(session, 1, "one")
    second = put(session, 1, "two")
    outbox.claim_batch(session, "w1", T0)
    retry_at = T0 + timedelta(seconds=30)
    assert outbox.retry_later(session, first.id, "w1", retry_at, "429: retry after 30")
    assert (first.status, first.not_before, first.last_error) == (
        OutboxStatus.PENDING,
        retry_at,
        "429: retry after 30",
    )
    assert outbox.claim_batch(session, "w1", T0 + timedelta(seconds=10)) == []
    again = outbox.claim_batch(session, "w1", retry_at)
    assert [m.id for m in again] == [first.id]
    assert first.attempts == 2
    outbox.mark_sent(session, first.id, "w1", [5])
    assert [m.id for m in outbox.claim_batch(session, "w1", retry_at)] == [second.id]


def test_mark_failed_unblocks_the_chat(session: Session) -> None:
    first = put(session, 1)
    second = put(session, 1)
    outbox.claim_batch(session, "w1", T0)
    assert outbox.mark_failed(session, first.id, "w1", "400: chat not found")
    assert (first.status, first.last_error) == (OutboxStatus.FAILED, "400: chat not found")
    assert [m.id for m in outbox.claim_batch(session, "w1", T0)] == [second.id]


def test_release_returns_rows_without_counting_an_attempt(session: Session) -> None:
    a = put(session, 1)
    b = put(session, 2)
    outbox.claim_batch(session, "w1", T0)
    assert outbox.release(session, [a.id, b.id], "someone-else") == 0
    assert outbox.release(session, [a.id, b.id], "w1") == 2
    assert outbox.release(session, [], "w1") == 0
    assert (a.status, a.attempts, a.claimed_by) == (OutboxStatus.PENDING, 0, None)


def test_fail_pending_for_chat(session: Session) -> None:
    put(session, 1)
    put(session, 1)
    kept = put(session, 2)
    assert outbox.fail_pending_for_chat(session, 1, "403: bot was blocked by the user") == 2
    assert outbox.count_by_status(session) == {
        OutboxStatus.PENDING: 1,
        OutboxStatus.SENDING: 0,
        OutboxStatus.SENT: 0,
        OutboxStatus.FAILED: 2,
    }
    assert kept.status is OutboxStatus.PENDING


def test_retarget_thread_moves_unsent_rows_to_the_new_topic(session: Session) -> None:
    sent = put(session, -100, thread_id=5)
    waiting = put(session, -100, thread_id=5)
    other_topic = put(session, -100, thread_id=6)
    outbox.claim_batch(session, "w1", T0)
    outbox.mark_sent(session, sent.id, "w1", [1])
    assert outbox.retarget_thread(session, -100, 5, 50) == 1
    assert (sent.thread_id, waiting.thread_id, other_topic.thread_id) == (5, 50, 6)


def test_purge_sent(session: Session) -> None:
    old = put(session, 1)
    pending = put(session, 2)
    outbox.claim_batch(session, "w1", T0)
    outbox.mark_sent(session, old.id, "w1", [1], now=T0)
    outbox.release(session, [pending.id], "w1")
    assert outbox.purge_sent(session, T0 + timedelta(days=1)) == 1
    assert [m.id for m in session.scalars(select(OutboxMessage))] == [pending.id]


def test_concurrent_workers_send_each_row_exactly_once_in_chat_order(
    sessions: sessionmaker[Session],
) -> None:
    """200 rows over 40 chats, 4 workers claiming at once (own connections, real commits)."""
    total, chats = 200, 40
    with sessions() as session, session.begin():
        for index in range(total):
            put(session, chat_id=index % chats, text=str(index))
    claims: list[tuple[str, int, int]] = []  # (worker, chat, id) in claim order
    lock = threading.Lock()
    deadline = time.monotonic() + 30

    def worker(index: int) -> None:
        name = f"w{index}"
        while time.monotonic() < deadline:
            with sessions() as session, session.begin():
                batch = outbox.claim_batch(session, name, T0, limit=10, lease=timedelta(minutes=5))
                taken = [(m.id, m.chat_id) for m in batch]
            with lock:
                claims.extend((name, chat, row_id) for row_id, chat in taken)
                done = len(claims) >= total
            if not taken:
                if done:
                    return
                time.sleep(0.002)
                continue
            with sessions() as session, session.begin():
                for row_id, _ in taken:
                    assert outbox.mark_sent(session, row_id, name, [row_id], T0)

    run_threads(4, worker)
    ids = [row_id for _, _, row_id in claims]
    assert len(ids) == total
    assert len(set(ids)) == total
    for chat in range(chats):
        in_chat = [row_id for _, c, row_id in claims if c == chat]
        assert in_chat == sorted(in_chat), f"chat {chat} out of order"
    with sessions() as session:
        assert outbox.count_by_status(session)[OutboxStatus.SENT] == total


def test_a_row_whose_try_may_have_landed_is_marked_maybe_sent(session: Session) -> None:
    crashed = put(session, 1, "the worker died mid-call")
    broken = put(session, 2, "the connection broke")
    throttled = put(session, 3, "429")
    outbox.claim_batch(session, "w1", T0, lease=LEASE)
    assert not any(m.maybe_sent for m in (crashed, broken, throttled))
    outbox.retry_later(session, broken.id, "w1", T0, "NetworkError", maybe_sent=True)
    outbox.retry_later(session, throttled.id, "w1", T0, "429: retry after 1")
    later = T0 + LEASE + timedelta(seconds=1)
    retaken = outbox.claim_batch(session, "w2", later, lease=LEASE)
    assert {m.id for m in retaken} == {crashed.id, broken.id, throttled.id}
    # Still "sending" when retaken: w1 never said how its call went.
    assert (crashed.maybe_sent, broken.maybe_sent, throttled.maybe_sent) == (True, True, False)
    # A 429 on the next try does not clear the doubt.
    outbox.retry_later(session, crashed.id, "w2", later, "429: retry after 1")
    assert [m.id for m in outbox.claim_batch(session, "w2", later, lease=LEASE)] == [crashed.id]
    assert crashed.maybe_sent


def test_message_ids_on_record_bound_the_search_for_an_earlier_copy(session: Session) -> None:
    chat = -100700
    case = factories.case(session)
    first, second, third = (put(session, chat, text) for text in ("a", "b", "c"))
    other_chat = put(session, -100800, "elsewhere")
    outbox.claim_batch(session, "w1", T0)
    outbox.mark_sent(session, first.id, "w1", [10, 11])
    outbox.mark_sent(session, other_chat.id, "w1", [14])
    outbox.claim_batch(session, "w1", T0)
    outbox.mark_sent(session, second.id, "w1", [])  # a topic edit: no message
    outbox.claim_batch(session, "w1", T0)
    messages_repo.record_message(
        session, case.id, Direction.SYSTEM, staff_chat_id=chat, staff_message_id=13
    )
    messages_repo.record_message(
        session,
        case.id,
        Direction.TO_STAFF,
        buyer_chat_id=1001,
        buyer_message_id=12,
        staff_chat_id=chat,
        staff_message_id=15,
    )
    assert outbox.last_sent_message_id(session, chat, third.id) == 11
    assert outbox.last_sent_message_id(session, chat, first.id) is None
    assert outbox.known_message_ids(session, chat, 10, 16) == {11, 13, 15}
    assert outbox.known_message_ids(session, 1001, 0, 100) == {12}
    # A worker that lost the lease of ``third`` still sent it: on record, and the
    # row's owner finds it.
    outbox.record_stray_send(session, third.id, [17])
    assert outbox.stray_message_ids(session, third.id) == [17]
    assert 17 in outbox.known_message_ids(session, chat, 16, 18)
    assert outbox.mark_sent(session, third.id, "w1", [17])
    assert outbox.stray_message_ids(session, third.id) == [17]
    assert outbox.stray_message_ids(session, second.id) == []


def test_a_row_handed_to_a_worker_is_claimed_unless_its_chat_has_an_unsent_row(
    session: Session,
) -> None:
    def hand(chat_id: int, text: str) -> OutboxMessage:
        row = outbox.enqueue(
            session,
            kind=OutboxKind.SEND_TEXT,
            chat_id=chat_id,
            payload={"text": text},
            now=T0,
            claim_for="worker",
            lease=LEASE,
        )
        assert row is not None
        return row

    first = hand(1, "a")
    behind = hand(1, "b")  # the first is still being sent
    other_chat = hand(2, "c")
    later = put(session, 3, "d", not_before=timedelta(minutes=1))
    after_later = hand(3, "e")  # waits behind a pending row, even one not due yet
    claimed = (OutboxStatus.SENDING, "worker", T0 + LEASE, 1)
    waiting = (OutboxStatus.PENDING, None, None, 0)
    expected = {first: claimed, behind: waiting, other_chat: claimed, after_later: waiting}
    for row, values in expected.items():
        assert (row.status, row.claimed_by, row.claimed_until, row.attempts) == values
    session.expire_all()  # what was stored, not what the objects say
    for row, values in expected.items():
        assert (row.status, row.claimed_by, row.claimed_until, row.attempts) == values
    assert later.status is OutboxStatus.PENDING
    assert outbox.mark_sent(session, first.id, "worker", [10], now=T0)
    assert outbox.mark_failed(session, other_chat.id, "worker", "blocked")
    assert outbox.claim_batch(session, "w2", now=T0) == [behind]
    assert hand(2, "f").status is OutboxStatus.SENDING  # a failed row holds nothing back


def test_backlog_counts_rows_due_and_not_sent(session: Session) -> None:
    assert outbox.backlog(session, now=T0) == (0, None)
    first = put(session, -100, "due a minute ago")
    put(session, -101, "due later", not_before=timedelta(minutes=5))
    sent = put(session, -102, "sent")
    claimed = outbox.claim_batch(session, "w", limit=10, now=T0 + timedelta(minutes=1))
    assert {row.id for row in claimed} == {first.id, sent.id}
    assert outbox.mark_sent(session, sent.id, "w", [1])
    # The claimed row being sent still counts; the sent one and the one not due do not.
    count, oldest = outbox.backlog(session, now=T0 + timedelta(minutes=1))
    assert count == 1 and oldest == T0
    count, _ = outbox.backlog(session, now=T0 + timedelta(minutes=6))
    assert count == 2
