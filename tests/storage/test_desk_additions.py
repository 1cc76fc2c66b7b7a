"""Repository additions for the desk over Telegram: stored settings, album collection,
a buyer's current product and pending comment, case figures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.storage.repo import buyers, cases, outbox, privacy, settings, stats
from tests.storage.factories import T0, buyer, case, run_threads


def test_setting_is_made_once(sessions: sessionmaker[Session]) -> None:
    made: list[str] = []

    def work(index: int) -> None:
        with sessions() as session, session.begin():
            value = settings.get_or_create_setting(session, "alias_key", lambda: f"v{index}")
            made.append(value)

    run_threads(4, work)
    assert len(set(made)) == 1


def test_album_items_join_the_pending_copy(session: Session) -> None:
    row = outbox.enqueue(
        session,
        kind="copy_message",
        chat_id=-100,
        payload={"message_ids": [5]},
        dedupe_key="album:1:g",
        not_before=T0 + timedelta(seconds=1),
        now=T0,
    )
    assert row is not None
    assert outbox.append_message_id(session, "album:1:g", 7)
    assert outbox.append_message_id(session, "album:1:g", 6)
    assert outbox.get_message_by_key(session, "album:1:g") is row
    assert row.payload["message_ids"] == [5, 6, 7]
    claimed = outbox.claim_batch(session, "w", now=T0 + timedelta(seconds=2))
    assert [c.id for c in claimed] == [row.id]
    assert not outbox.append_message_id(session, "album:1:g", 8)  # already being sent
    assert not outbox.append_message_id(session, "album:other", 8)


def test_current_product_and_pending_comment_are_forgotten(session: Session) -> None:
    owner = buyer(session)
    opened = case(session)
    buyers.set_current_seller(session, owner.id, "shop", "PB-20K")
    buyers.set_comment_case(session, owner.id, opened.id)
    assert (owner.current_offer_id, owner.comment_case_id) == ("PB-20K", opened.id)
    buyers.set_current_seller(session, owner.id, "shop")
    assert owner.current_offer_id is None
    buyers.set_current_seller(session, owner.id, "shop", "PB-20K")
    assert privacy.forget_buyer(session, 1001)
    assert (owner.current_offer_id, owner.comment_case_id) == (None, None)


def test_case_figures(session: Session) -> None:
    first = case(session, 1001)
    cases.record_staff_reply(session, first.id, T0 + timedelta(minutes=5))
    cases.close_case(session, first.id, actor="staff:1", now=T0 + timedelta(hours=1))
    cases.rate_case(session, first.id, 4, now=T0 + timedelta(hours=1))
    case(session, 1002, now=T0 + timedelta(days=3))  # outside the period
    figures = stats.case_figures(session, "shop", T0, T0 + timedelta(days=1))
    assert (figures.opened, figures.closed, figures.open_now) == (1, 1, 1)
    assert figures.first_reply_seconds == [300.0]
    assert figures.ratings == {4: 1}
    assert stats.case_figures(session, "other", T0, T0 + timedelta(days=1)).opened == 0
