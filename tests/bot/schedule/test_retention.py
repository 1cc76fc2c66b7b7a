"""The retention sweep deletes sent messages' texts and old update ids, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from sellerdesk.bot.database import Database
from sellerdesk.bot.schedule.retention import EVERY, SENT_KEPT, UPDATES_KEPT, RetentionSweep
from sellerdesk.storage.models import OutboxKind, OutboxMessage, ProcessedUpdate
from sellerdesk.storage.repo import outbox, updates

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _row(db: Database, chat_id: int, sent_at: datetime | None) -> int:
    """An outbox row to ``chat_id``, sent at ``sent_at`` (None: still pending)."""
    with db.transaction() as session:
        row = outbox.enqueue(
            session,
            kind=OutboxKind.SEND_TEXT,
            chat_id=chat_id,
            payload={"text": "the buyer's words"},
            now=sent_at or NOW,
        )
        assert row is not None
        if sent_at is not None:
            assert outbox.claim_batch(session, "w", limit=10, now=sent_at)
            assert outbox.mark_sent(session, row.id, "w", [1], now=sent_at)
        return row.id


def _left(db: Database) -> tuple[set[int], set[int]]:
    with db.transaction() as session:
        rows = set(session.scalars(select(OutboxMessage.id)))
        ids = set(session.scalars(select(ProcessedUpdate.update_id)))
        return rows, ids


def test_old_sent_rows_and_update_ids_go_recent_and_pending_ones_stay(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.prepare()
    old = _row(db, 1, NOW - SENT_KEPT - timedelta(hours=1))
    recent = _row(db, 2, NOW - SENT_KEPT + timedelta(hours=1))
    pending = _row(db, 3, None)
    with db.transaction() as session:
        assert updates.mark_processed(session, 10, now=NOW - UPDATES_KEPT - timedelta(hours=1))
        assert updates.mark_processed(session, 11, now=NOW - timedelta(hours=1))

    sweep = RetentionSweep(db)
    assert sweep.tick(NOW) == 2
    assert _left(db) == ({recent, pending}, {11})
    assert old not in _left(db)[0]

    # Within the hour it does not run again, then it does.
    with db.transaction() as session:
        assert updates.mark_processed(session, 12, now=NOW - UPDATES_KEPT - timedelta(hours=2))
    assert sweep.tick(NOW + EVERY / 2) == 0
    assert 12 in _left(db)[1]
    assert sweep.tick(NOW + EVERY) == 1
    assert _left(db) == ({recent, pending}, {11})
