"""Heartbeats of running outbox senders: how many processes share Telegram's limits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import SenderHeartbeat
from sellerdesk.storage.repo import senders
from tests.storage.factories import T0

LIVE = timedelta(seconds=15)


def test_each_running_sender_counts_once(session: Session) -> None:
    assert senders.beat(session, "host:1", LIVE, now=T0) == 1
    assert senders.beat(session, "host:2", LIVE, now=T0 + timedelta(seconds=1)) == 2
    # Beating again moves the same row, it adds none.
    assert senders.beat(session, "host:1", LIVE, now=T0 + timedelta(seconds=5)) == 2
    session.commit()
    assert len(session.scalars(select(SenderHeartbeat)).all()) == 2


def test_a_sender_not_heard_from_is_gone(session: Session) -> None:
    senders.beat(session, "crashed", LIVE, now=T0)
    senders.beat(session, "alive", LIVE, now=T0)
    later = T0 + LIVE + timedelta(seconds=1)
    assert senders.beat(session, "alive", LIVE, now=later) == 1
    # A day later its row is deleted, not only left out of the count.
    senders.beat(session, "alive", LIVE, now=T0 + senders.FORGET_AFTER + timedelta(seconds=1))
    session.commit()
    rows = session.scalars(select(SenderHeartbeat.worker_id)).all()
    assert rows == ["alive"]


def test_a_stopped_sender_leaves_the_count_at_once(session: Session) -> None:
    senders.beat(session, "a", LIVE, now=T0)
    senders.beat(session, "b", LIVE, now=T0)
    assert senders.forget(session, "b")
    assert not senders.forget(session, "b")
    assert senders.beat(session, "a", LIVE, now=T0 + timedelta(seconds=1)) == 1


def test_long_worker_ids_are_cut_to_the_column(session: Session) -> None:
    long_id = "host-" + "x" * 200
    assert senders.beat(session, long_id, LIVE, now=T0) == 1
    assert senders.beat(session, long_id, LIVE, now=T0) == 1
    assert senders.forget(session, long_id)


def test_live_senders_are_counted_without_a_heartbeat_of_ones_own(session: Session) -> None:
    assert senders.count_live(session, LIVE, now=T0) == 0
    senders.beat(session, "a", LIVE, now=T0)
    senders.beat(session, "b", LIVE, now=T0 - LIVE - timedelta(seconds=1))
    assert senders.count_live(session, LIVE, now=T0) == 1


def test_file_ids_are_kept_by_content_and_forgotten_when_unused(session: Session) -> None:
    chart, old = ("a" * 64, "photo"), ("b" * 64, "document")
    senders.remember_uploads(session, {chart: "AgAC-1", old: "BQAC-1"}, now=T0)
    assert senders.uploaded(session, [chart, old, ("c" * 64, "photo")]) == {
        chart: "AgAC-1",
        old: "BQAC-1",
    }
    # Sent again by its id: still in use; a new id replaces the old one.
    senders.touch_uploads(session, [chart], now=T0 + timedelta(days=170))
    senders.remember_uploads(session, {chart: "AgAC-2"}, now=T0 + timedelta(days=181))
    assert senders.uploaded(session, [chart, old]) == {chart: "AgAC-2"}  # old: unused 181 days
    senders.forget_uploads(session, [chart])
    assert senders.uploaded(session, [chart]) == {}
