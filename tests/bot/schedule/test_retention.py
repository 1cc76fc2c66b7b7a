"""The retention sweep deletes what people wrote once its period is over, and nothing
younger: sent messages, update ids, parked updates, questions, rating comments and
return photos' references."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from sellerdesk.bot.database import Database
from sellerdesk.bot.schedule.retention import EVERY, RetentionSweep
from sellerdesk.bot.settings import Retention, load_settings
from sellerdesk.storage.models import (
    Case,
    FaqQuestionLog,
    InboxUpdate,
    OutboxKind,
    OutboxMessage,
    ProcessedUpdate,
    ReturnRequest,
)
from sellerdesk.storage.repo import buyers, cases, outbox, questions, returns, updates

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEEP = Retention(sent_days=30, updates_days=7, questions_days=60, comments_days=90, photos_days=20)
H = timedelta(hours=1)


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


def _seed(db: Database) -> dict[str, int]:
    """Of each kind, one row just past its period and one just inside it."""
    ids: dict[str, int] = {}
    with db.transaction() as session:
        for name, sent_at in (("sent_old", _days(30) - H), ("sent_new", _days(30) + H)):
            row = outbox.enqueue(
                session,
                kind=OutboxKind.SEND_TEXT,
                chat_id=len(name) + sent_at.day,
                payload={},
                now=sent_at,
            )
            assert row is not None
            assert outbox.claim_batch(session, "w", limit=10, now=sent_at)
            assert outbox.mark_sent(session, row.id, "w", [1], now=sent_at)
            ids[name] = row.id
        ids["pending"] = outbox.enqueue(
            session, kind=OutboxKind.SEND_TEXT, chat_id=5, payload={}
        ).id  # type: ignore[union-attr]
        updates.mark_processed(session, 10, now=_days(7) - H)
        updates.mark_processed(session, 11, now=_days(7) + H)
        updates.store_fetched(session, [(20, {"update_id": 20})], now=_days(30) - H)
        updates.park_update(session, 20, "db", now=_days(30) - H)
        updates.store_fetched(session, [(21, {"update_id": 21})], now=_days(30) - H)
        for name, at in (("q_old", _days(60) - H), ("q_new", _days(60) + H)):
            ids[name] = questions.log_question_id(
                session, seller_id="shop", question="q", action="answer", now=at
            )
        buyer = buyers.get_or_create_buyer(session, 4242)
        for name, at in (("c_old", _days(90) - H), ("c_new", _days(90) + H)):
            case, _ = cases.open_case(session, buyer_id=buyer.id, seller_id=name, subject="q")
            cases.close_case(session, case.id, actor="staff:1")
            cases.rate_case(session, case.id, 4, "Спасибо, Анна", now=at)
            ids[name] = case.id
        for n, (name, at) in enumerate((("r_old", _days(20) - H), ("r_new", _days(20) + H))):
            other = buyers.get_or_create_buyer(session, 5000 + n)
            flow = returns.start_flow(session, other.id, "shop", "ru", at)
            returns.add_photo(session, flow, 77, at)
            ids[name] = flow.id
    return ids


def test_each_kind_goes_after_its_own_period_and_not_before(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    ids = _seed(db)
    sweep = RetentionSweep(db, KEEP)
    assert sweep.tick(NOW) == 6  # one of each kind
    with db.transaction() as session:
        assert set(session.scalars(select(OutboxMessage.id))) == {ids["sent_new"], ids["pending"]}
        assert set(session.scalars(select(ProcessedUpdate.update_id))) == {11}
        assert set(session.scalars(select(InboxUpdate.update_id))) == {21}  # not parked
        assert set(session.scalars(select(FaqQuestionLog.id))) == {ids["q_new"]}
        comments = {i: c for i, c in session.execute(select(Case.id, Case.rating_comment))}
        assert comments == {ids["c_old"]: None, ids["c_new"]: "Спасибо, Анна"}
        assert session.get_one(Case, ids["c_old"]).rating == 4  # the rating stays
        photos = {
            i: p for i, p in session.execute(select(ReturnRequest.id, ReturnRequest.photo_ids))
        }
        assert photos == {ids["r_old"]: [], ids["r_new"]: [77]}
    # Within the hour it does not run again; an hour later it does (nothing left).
    assert sweep.tick(NOW + EVERY / 2) == 0
    assert sweep.tick(NOW + EVERY) == 0
    db.dispose()


def test_retention_periods_are_settings() -> None:
    env = {"RETENTION_SENT_DAYS": "10", "RETENTION_QUESTIONS_DAYS": "400"}
    keep = load_settings(env, Path("-")).retention
    assert (keep.sent_days, keep.questions_days, keep.comments_days) == (10, 400, 365)
    # Update ids guard against doubles: never kept less than two days.
    assert load_settings({"RETENTION_UPDATES_DAYS": "0.5"}, Path("-")).retention.updates_days == 2


def test_ozon_message_ids_go_after_a_week(tmp_path: Path) -> None:
    from sellerdesk.bot.schedule.retention import OZON_IDS_DAYS
    from sellerdesk.storage.repo import channels

    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    try:
        with db.transaction() as session:
            edge = _days(OZON_IDS_DAYS)
            for message_id, at in (("1", edge - H), ("2", edge + H)):
                channels.take(session, "shop", "chat", message_id, channels.ANSWERED, now=at)
        assert RetentionSweep(db, KEEP).tick(NOW) == 1
        with db.transaction() as session:
            assert list(channels.taken(session, "shop", ["1", "2"])) == ["2"]
    finally:
        db.dispose()
