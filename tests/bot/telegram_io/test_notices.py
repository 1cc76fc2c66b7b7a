"""Within a staff group's allowance, buyers' words go before notices and the digest;
a case's waiting notices go as one message; nothing is lost or sent twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.outgoing import Side, Urgency
from sellerdesk.bot.telegram_io.outbox import notices
from sellerdesk.storage.models import Direction, OutboxMessage, OutboxStatus
from sellerdesk.storage.repo import outbox
from sellerdesk.storage.types import utcnow
from tests.bot.telegram_io.test_folding import BUYER_CHAT, GROUP, two_cases

LEASE = timedelta(seconds=30)


def _notice(db: Database, case_id: int | None, text: str, later: Urgency, **extra: object) -> None:
    with db.transaction() as session:
        outgoing.send_text(
            session,
            chat_id=GROUP,
            text=text,
            side=Side.STAFF,
            case_id=case_id,
            record=Direction.SYSTEM if case_id else None,
            later=later,
            **extra,  # type: ignore[arg-type]
        )


def _words(db: Database, case_id: int, message_id: int, text: str) -> None:
    with db.transaction() as session:
        outgoing.copy_messages(
            session,
            chat_id=GROUP,
            from_chat_id=BUYER_CHAT,
            message_ids=[message_id],
            side=Side.STAFF,
            case_id=case_id,
            record=Direction.TO_STAFF,
            text=text,
        )


def _send_all(db: Database, now_shift: timedelta = timedelta()) -> list[str]:
    """Claim and 'send' one row at a time, as a group's pace does; what went, in order."""
    went: list[str] = []
    for _ in range(50):
        with db.transaction() as session:
            rows = notices.claim(session, "worker", 1, LEASE, utcnow() + now_shift)
            if not rows:
                return went
            [row] = rows
            went.append(row.payload.get("text") or "")
            outbox.mark_sent(session, row.id, "worker", [len(went)])
    raise AssertionError("the queue never emptied")


def test_buyers_words_go_before_notices_and_the_digest_last(tmp_path: Path) -> None:
    db, case, other = two_cases(tmp_path)
    _notice(db, None, "digest", Urgency.DIGEST)
    _notice(db, case, "reminder", Urgency.NOTICE)
    _words(db, other, 1, "где мой заказ")
    _words(db, case, 2, "и ещё вопрос")
    assert _send_all(db) == ["где мой заказ", "и ещё вопрос", "reminder", "digest"]
    with db.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        assert len(rows) == 4 and all(r.status is OutboxStatus.SENT for r in rows)


def test_a_cases_waiting_notices_go_as_one_message(tmp_path: Path) -> None:
    db, case, other = two_cases(tmp_path)
    _notice(db, case, "reminder 1", Urgency.NOTICE)
    _notice(db, other, "other case's note", Urgency.NOTICE)
    _notice(db, case, "<b>reminder</b> 2", Urgency.NOTICE, html=True)
    _notice(db, case, "with a button", Urgency.NOTICE, buttons=[[("ok", "x")]])
    went = _send_all(db)
    # Joined as HTML (the plain one escaped), the other case's note on its own, the
    # one with buttons on its own.
    assert went == ["reminder 1\n\n<b>reminder</b> 2", "other case's note", "with a button"]


def test_a_notice_passed_over_for_long_goes_at_its_turn(tmp_path: Path) -> None:
    db, case, other = two_cases(tmp_path)
    _notice(db, case, "reminder", Urgency.NOTICE)
    _words(db, other, 1, "слова покупателя")
    later = notices.MAX_WAIT[Urgency.NOTICE] + timedelta(seconds=1)
    assert _send_all(db, now_shift=later) == ["reminder", "слова покупателя"]


def test_feedback_to_staff_and_rows_maybe_sent_keep_their_place(tmp_path: Path) -> None:
    db, case, other = two_cases(tmp_path)
    _notice(db, case, "claimed by Olga", Urgency.NOW)
    _words(db, other, 1, "слова")
    assert _send_all(db) == ["claimed by Olga", "слова"]
    # A notice whose try may have reached Telegram is never moved: it goes as it is.
    _notice(db, case, "reminder", Urgency.NOTICE)
    with db.transaction() as session:
        [claimed] = outbox.claim_batch(session, "dead-worker", limit=1, lease=timedelta(0))
        assert claimed.attempts == 1  # its worker dies mid-call: the lease runs out
    _words(db, other, 2, "ещё слова")
    assert _send_all(db, now_shift=timedelta(seconds=1)) == ["reminder", "ещё слова"]


def test_a_crash_while_a_notice_is_put_back_leaves_the_queue_as_it_was(tmp_path: Path) -> None:
    db, case, other = two_cases(tmp_path)
    _notice(db, case, "reminder 1", Urgency.NOTICE)
    _notice(db, case, "reminder 2", Urgency.NOTICE)
    _words(db, other, 1, "слова")

    def snapshot() -> list[tuple[int, str, str]]:
        with db.transaction() as session:
            rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            return [(r.id, r.status.value, r.payload.get("text") or "") for r in rows]

    before = snapshot()
    try:
        with db.transaction() as session:
            rows = notices.claim(session, "worker", 1, LEASE, utcnow())
            assert [r.payload.get("text") for r in rows] == ["слова"]
            raise RuntimeError("the process dies before the commit")
    except RuntimeError:
        pass
    assert snapshot() == before
    assert _send_all(db) == ["слова", "reminder 1\n\nreminder 2"]


def test_a_joined_notices_dedupe_key_still_refuses_a_second_enqueue(tmp_path: Path) -> None:
    db, case, _other = two_cases(tmp_path)
    _notice(db, case, "reminder 1", Urgency.NOTICE, dedupe_key="sla:1")
    _notice(db, case, "reminder 2", Urgency.NOTICE, dedupe_key="sla:2")
    assert _send_all(db) == ["reminder 1\n\nreminder 2"]
    _notice(db, case, "reminder 2", Urgency.NOTICE, dedupe_key="sla:2")  # a sweep re-run
    assert _send_all(db) == []
