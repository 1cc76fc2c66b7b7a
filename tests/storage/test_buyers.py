"""Buyers, their aliases per seller, and sellers seen."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sellerdesk.storage.models import NAME_LEN, Buyer, BuyerAlias, CaseKind, ReturnStep
from sellerdesk.storage.repo import buyers, cases, returns, sellers
from tests.storage.factories import T0

KEY = b"test-alias-key"


def test_get_or_create_buyer_creates_once(session: Session) -> None:
    first = buyers.get_or_create_buyer(
        session, 5_000_000_000, language="ru", username="ann", first_name="Ann", now=T0
    )
    again = buyers.get_or_create_buyer(session, 5_000_000_000, now=T0 + timedelta(days=1))
    assert again.id == first.id
    assert first.telegram_id == 5_000_000_000  # beyond 32 bits: BigInteger
    assert (first.language, first.username, first.first_name) == ("ru", "ann", "Ann")
    assert first.created_at == T0
    assert session.scalar(select(func.count()).select_from(Buyer)) == 1


def test_get_or_create_buyer_refreshes_names_but_keeps_the_chosen_language(
    session: Session,
) -> None:
    buyer = buyers.get_or_create_buyer(session, 1, language="ru", username="old", now=T0)
    buyers.set_language(session, buyer.id, "zh")
    buyers.get_or_create_buyer(session, 1, language="en", username="new", first_name="A", now=T0)
    session.expire_all()
    fresh = buyers.get_buyer(session, buyer.id)
    assert fresh is not None
    assert (fresh.language, fresh.username, fresh.first_name) == ("zh", "new", "A")


def test_long_names_are_clipped_to_the_column(session: Session) -> None:
    buyer = buyers.get_or_create_buyer(session, 1, first_name="Я" * 500, now=T0)
    session.expire_all()
    assert buyers.get_buyer(session, buyer.id).first_name == "Я" * NAME_LEN  # type: ignore[union-attr]


def test_get_buyer_by_telegram_id(session: Session) -> None:
    assert buyers.get_buyer_by_telegram_id(session, 42) is None
    created = buyers.get_or_create_buyer(session, 42, now=T0)
    assert buyers.get_buyer_by_telegram_id(session, 42) is created


def test_set_current_seller(session: Session) -> None:
    buyer = buyers.get_or_create_buyer(session, 1, now=T0)
    buyers.set_current_seller(session, buyer.id, "shop")
    assert buyer.current_seller_id == "shop"
    buyers.set_current_seller(session, buyer.id, None)
    assert buyer.current_seller_id is None


def test_concurrent_first_messages_create_one_buyer(sessions: sessionmaker[Session]) -> None:
    barrier = threading.Barrier(4)
    ids: list[int] = []
    errors: list[BaseException] = []

    def first_contact() -> None:
        try:
            with sessions() as session, session.begin():
                barrier.wait()
                ids.append(buyers.get_or_create_buyer(session, 77, now=T0).id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=first_contact) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 1


def test_alias_is_four_hex_characters_stable_and_per_seller(session: Session) -> None:
    buyer = buyers.get_or_create_buyer(session, 1, now=T0)
    alias = buyers.buyer_alias(session, buyer.id, "shop", KEY, now=T0)
    assert re.fullmatch(r"[0-9A-F]{4}", alias)
    assert buyers.buyer_alias(session, buyer.id, "shop", KEY) == alias
    assert buyers.get_alias(session, buyer.id, "shop") == alias
    assert buyers.get_alias(session, buyer.id, "other") is None


def test_alias_depends_on_the_key() -> None:
    # Without the deployment's key the alias of a buyer id cannot be computed.
    ours = [buyers._alias_candidate(KEY, "shop", buyer_id, 0) for buyer_id in range(50)]
    theirs = [buyers._alias_candidate(b"other", "shop", buyer_id, 0) for buyer_id in range(50)]
    assert sum(a != b for a, b in zip(ours, theirs, strict=True)) >= 45


def test_alias_collisions_take_the_next_candidate(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = buyers._alias_candidate

    def colliding(key: bytes, seller_id: str, buyer_id: int, attempt: int) -> str:
        # Every buyer's first candidate is the same: the second buyer must move on.
        return "A7F3" if attempt == 0 else real(key, seller_id, buyer_id, attempt)

    monkeypatch.setattr(buyers, "_alias_candidate", colliding)
    first = buyers.get_or_create_buyer(session, 1, now=T0)
    second = buyers.get_or_create_buyer(session, 2, now=T0)
    assert buyers.buyer_alias(session, first.id, "shop", KEY) == "A7F3"
    second_alias = buyers.buyer_alias(session, second.id, "shop", KEY)
    assert second_alias == real(KEY, "shop", second.id, 1)
    # The same alias is fine at another seller.
    assert buyers.buyer_alias(session, second.id, "other", KEY) == "A7F3"
    pairs = session.execute(select(BuyerAlias.seller_id, BuyerAlias.alias)).all()
    assert len(pairs) == len(set(pairs)) == 3


def test_alias_candidates_grow_longer_after_repeated_collisions() -> None:
    lengths = [len(buyers._alias_candidate(KEY, "shop", 1, attempt)) for attempt in (0, 8, 16)]
    assert lengths == [4, 6, 8]


def test_alias_needs_a_key(session: Session) -> None:
    buyer = buyers.get_or_create_buyer(session, 1, now=T0)
    with pytest.raises(ValueError, match="key"):
        buyers.buyer_alias(session, buyer.id, "shop", b"")


def test_mark_seller_seen_is_true_once(session: Session) -> None:
    assert sellers.mark_seller_seen(session, "shop", T0) is True
    assert sellers.mark_seller_seen(session, "shop", T0 + timedelta(days=1)) is False
    sellers.mark_seller_seen(session, "another", T0 + timedelta(hours=1))
    seen = sellers.list_sellers(session)
    assert [(s.seller_id, s.first_seen_at) for s in seen] == [
        ("shop", T0),
        ("another", T0 + timedelta(hours=1)),
    ]


def test_case_numbers_count_per_seller(session: Session) -> None:
    assert [sellers.next_case_number(session, "shop", T0) for _ in range(3)] == [1, 2, 3]
    assert sellers.next_case_number(session, "other", T0) == 1


def test_a_first_case_number_marks_the_seller_seen_and_one_can_be_given_back(
    session: Session,
) -> None:
    sellers.mark_seller_seen(session, "old", T0)
    assert sellers.next_case_number(session, "new", T0 + timedelta(days=1)) == 1
    assert sellers.next_case_number(session, "old", T0 + timedelta(days=2)) == 1
    seen = {s.seller_id: s.first_seen_at for s in sellers.list_sellers(session)}
    # The first number made the row; later ones keep its first sighting.
    assert seen == {"old": T0, "new": T0 + timedelta(days=1)}
    assert sellers.next_case_number(session, "new", T0) == 2
    sellers.give_back_case_number(session, "new", 2)
    sellers.give_back_case_number(session, "new", 2)  # not the last number any more: no-op
    assert sellers.next_case_number(session, "new", T0) == 2


# ---------------------------------------------------------------------- buyer_state

AWAITING = "buyer"


def test_buyer_state_makes_a_new_buyer_with_nothing_pending(session: Session) -> None:
    state = buyers.buyer_state(session, 77, AWAITING, now=T0)
    assert state.created
    assert state.open_case is None and not state.returns_pending
    assert (state.buyer.telegram_id, state.buyer.created_at) == (77, T0)
    assert state.buyer.current_seller_id is None and state.buyer.comment_case_id is None
    again = buyers.buyer_state(session, 77, AWAITING)
    assert not again.created
    assert again.buyer is state.buyer  # one object per row in the session
    session.expire_all()
    stored = buyers.get_buyer_by_telegram_id(session, 77)
    assert stored is not None and stored.id == state.buyer.id and stored.created_at == T0
    assert session.scalar(select(func.count()).select_from(Buyer)) == 1


def test_buyer_state_finds_the_open_case_with_the_current_seller(
    session: Session,
) -> None:
    buyer = buyers.get_or_create_buyer(session, 1, now=T0)
    buyers.set_current_seller(session, buyer.id, "shop")
    assert buyers.buyer_state(session, 1, AWAITING).open_case is None
    other, _ = cases.open_case(session, buyer_id=buyer.id, seller_id="other", now=T0)
    assert buyers.buyer_state(session, 1, AWAITING).open_case is None  # not the current one
    returned, _ = cases.open_case(
        session, buyer_id=buyer.id, seller_id="shop", kind=CaseKind.RETURN, now=T0
    )
    # An open return: its staff get what the buyer writes, unless a question is open.
    assert buyers.buyer_state(session, 1, AWAITING).open_case is returned
    mine, _ = cases.open_case(session, buyer_id=buyer.id, seller_id="shop", now=T0)
    state = buyers.buyer_state(session, 1, AWAITING)
    assert state.open_case is mine and not state.created
    assert state.open_case.buyer is buyer
    assert cases.close_case(session, mine.id, actor="staff:1")
    assert buyers.buyer_state(session, 1, AWAITING).open_case is returned
    assert cases.close_case(session, returned.id, actor="staff:1")
    assert buyers.buyer_state(session, 1, AWAITING).open_case is None
    buyers.set_current_seller(session, buyer.id, "other")
    assert buyers.buyer_state(session, 1, AWAITING).open_case is other


def test_buyer_state_says_when_a_return_request_wants_the_message(session: Session) -> None:
    buyer = buyers.get_or_create_buyer(session, 1, now=T0)
    assert not buyers.buyer_state(session, 1, AWAITING).returns_pending
    flow = returns.start_flow(session, buyer.id, "shop", "ru", T0)
    assert buyers.buyer_state(session, 1, AWAITING).returns_pending  # a flow in progress
    assert returns.advance(session, flow.id, ReturnStep.ORDER, {"step": ReturnStep.SUBMITTED})
    assert not buyers.buyer_state(session, 1, AWAITING).returns_pending
    assert returns.set_staff_awaiting(session, flow.id, "reject")
    assert not buyers.buyer_state(session, 1, AWAITING).returns_pending  # staff's own step
    assert returns.set_staff_awaiting(session, flow.id, AWAITING)
    assert buyers.buyer_state(session, 1, AWAITING).returns_pending  # staff asked the buyer
    assert not buyers.buyer_state(session, 1, "another marker").returns_pending
    other = buyers.get_or_create_buyer(session, 2, now=T0)
    assert not buyers.buyer_state(session, 2, AWAITING).returns_pending
    assert other.id != buyer.id
