"""Buyers: find or create by Telegram id, their settings, and their alias per seller."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, exists, or_, select
from sqlalchemy.orm import Session, lazyload

from sellerdesk.storage.models import (
    ALIAS_LEN,
    LANG_LEN,
    NAME_LEN,
    OFFER_ID_LEN,
    RETURN_FLOW_STEPS,
    Buyer,
    BuyerAlias,
    Case,
    CaseKind,
    CaseStatus,
    ReturnRequest,
    ReturnStep,
)
from sellerdesk.storage.repo._sql import (
    clip,
    fixed,
    in_literals,
    insert_ignore,
    insert_ignore_object,
)
from sellerdesk.storage.types import utcnow

#: Alias length by attempt: 4 hex characters while they are likely free (65,536 per
#: seller; a collision needs eight in a row, which stays rare until a seller has tens
#: of thousands of buyers), then 6, then 8 so the loop always ends.
ALIAS_SHORT_ATTEMPTS = 8
ALIAS_MEDIUM_ATTEMPTS = 16
ALIAS_MAX_ATTEMPTS = 64


def get_buyer(session: Session, buyer_id: int) -> Buyer | None:
    """The buyer with internal id ``buyer_id``."""
    return session.get(Buyer, buyer_id)


#: Statements of every update, built once (see :mod:`storage.repo._sql`).
_BY_TELEGRAM_ID = select(Buyer).where(Buyer.telegram_id == bindparam("telegram_id"))


def get_buyer_by_telegram_id(session: Session, telegram_id: int) -> Buyer | None:
    """The (not forgotten) buyer with this Telegram user id."""
    return session.scalars(_BY_TELEGRAM_ID, {"telegram_id": telegram_id}).one_or_none()


@dataclass(frozen=True)
class BuyerState:
    """A buyer with what their next message depends on, read in one statement."""

    buyer: Buyer
    #: The buyer's open question case with their current seller, else their open
    #: return case with that seller (None: neither). Only about
    #: ``buyer.current_seller_id``: for another seller, ask
    #: :func:`storage.repo.cases.find_open_case`.
    open_case: Case | None
    #: A return flow of the buyer's is in progress, or staff await their details on
    #: a submitted one (False: neither, so the message is nothing of the return flow's).
    returns_pending: bool
    #: Made by this call: no case with any seller, no return request.
    created: bool = False


#: The buyer, their open question case with their current seller (else their open
#: return case there: what they write after a return's decision is for its staff), and
#: whether any
#: return request of theirs wants their message (``awaiting`` is the marker of one
#: waiting for the buyer's details).
_STATE = (
    select(
        Buyer,
        Case,
        exists()
        .where(
            ReturnRequest.buyer_id == Buyer.id,
            or_(
                in_literals(ReturnRequest.step, RETURN_FLOW_STEPS),
                and_(
                    ReturnRequest.step == fixed(ReturnStep.SUBMITTED),
                    ReturnRequest.staff_awaiting == bindparam("awaiting"),
                ),
            ),
        )
        .label("returns_pending"),
    )
    .outerjoin(
        Case,
        and_(
            Case.buyer_id == Buyer.id,
            Case.seller_id == Buyer.current_seller_id,
            Case.status == fixed(CaseStatus.OPEN),
            in_literals(Case.kind, (CaseKind.QUESTION, CaseKind.RETURN)),
        ),
    )
    .where(Buyer.telegram_id == bindparam("telegram_id"))
    # Both open: the question case (a buyer has at most one open case of each kind).
    .order_by(case((Case.kind == fixed(CaseKind.RETURN), 1), else_=0))
    .limit(1)
    # The case's buyer is the one read here: no join of its own (the ORM finds it in
    # the session when asked).
    .options(lazyload(Case.buyer))
)


def buyer_state(
    session: Session, telegram_id: int, awaiting: str, now: datetime | None = None
) -> BuyerState:
    """The buyer for ``telegram_id`` (created on first contact, as
    :func:`get_or_create_buyer` does) and what their next message depends on: one
    statement where the separate reads took three.

    ``awaiting``: the ``staff_awaiting`` marker of a return request waiting for the
    buyer's details.
    """
    params = {"telegram_id": telegram_id, "awaiting": awaiting}
    row = session.execute(_STATE, params).one_or_none()
    if row is None:
        created = _create(session, telegram_id, now=now)
        if created is not None:  # new: no case, no return request
            return BuyerState(created, None, False, created=True)
        row = session.execute(_STATE, params).one()
    return BuyerState(row[0], row[1], bool(row[2]))


def _create(
    session: Session,
    telegram_id: int,
    language: str | None = None,
    username: str | None = None,
    first_name: str | None = None,
    now: datetime | None = None,
) -> Buyer | None:
    """A new buyer; None if one with ``telegram_id`` exists after all (another process
    made it since this one looked)."""
    values = {
        "telegram_id": telegram_id,
        "language": language,
        "username": username,
        "first_name": first_name,
        "current_seller_id": None,
        "current_offer_id": None,
        "comment_case_id": None,
        "created_at": now or utcnow(),
        "forgotten_at": None,
    }
    return insert_ignore_object(session, Buyer, values)


def get_or_create_buyer(
    session: Session,
    telegram_id: int,
    *,
    language: str | None = None,
    username: str | None = None,
    first_name: str | None = None,
    now: datetime | None = None,
) -> Buyer:
    """The buyer for ``telegram_id``, created on first contact.

    Username and first name are refreshed when given (people rename themselves);
    ``language`` is only the initial guess: once set, it changes through
    :func:`set_language`, so a buyer's choice is not overwritten by their client's
    locale. Safe when two processes see the buyer's first message at once.
    """
    language, username, first_name = (
        clip(language, LANG_LEN),
        clip(username, NAME_LEN),
        clip(first_name, NAME_LEN),
    )
    buyer = get_buyer_by_telegram_id(session, telegram_id)
    if buyer is None:
        buyer = _create(session, telegram_id, language, username, first_name, now)
    if buyer is None:  # made by another process a moment ago
        buyer = session.scalars(_BY_TELEGRAM_ID, {"telegram_id": telegram_id}).one()
    # Assigning an unchanged value writes nothing: the ORM compares before UPDATE.
    if username is not None:
        buyer.username = username
    if first_name is not None:
        buyer.first_name = first_name
    if buyer.language is None and language is not None:
        buyer.language = language
    session.flush()
    return buyer


def set_language(session: Session, buyer_id: int, language: str) -> None:
    """Remember the language the buyer chose."""
    buyer = session.get_one(Buyer, buyer_id)
    buyer.language = language[:LANG_LEN]
    session.flush()


def set_current_seller(
    session: Session, buyer_id: int, seller_id: str | None, offer_id: str | None = None
) -> None:
    """Set which seller (and product, from a product deep link) the buyer's private chat
    is about, or none. Choosing a seller forgets the product of the previous link."""
    buyer = session.get_one(Buyer, buyer_id)
    buyer.current_seller_id = seller_id
    buyer.current_offer_id = clip(offer_id, OFFER_ID_LEN)
    session.flush()


def set_comment_case(session: Session, buyer_id: int, case_id: int | None) -> None:
    """Mark the case whose rating comment the buyer's next text is (None: no comment awaited)."""
    buyer = session.get_one(Buyer, buyer_id)
    buyer.comment_case_id = case_id
    session.flush()


def _alias_candidate(key: bytes, seller_id: str, buyer_id: int, attempt: int) -> str:
    if attempt < ALIAS_SHORT_ATTEMPTS:
        length = 4
    elif attempt < ALIAS_MEDIUM_ATTEMPTS:
        length = 6
    else:
        length = ALIAS_LEN
    message = f"{seller_id}\x1f{buyer_id}\x1f{attempt}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:length].upper()


def get_alias(session: Session, buyer_id: int, seller_id: str) -> str | None:
    """The buyer's alias at this seller, if one was made."""
    stmt = select(BuyerAlias.alias).where(
        BuyerAlias.buyer_id == buyer_id, BuyerAlias.seller_id == seller_id
    )
    return session.scalars(stmt).one_or_none()


def buyer_alias(
    session: Session, buyer_id: int, seller_id: str, key: bytes, now: datetime | None = None
) -> str:
    """The buyer's stable alias at this seller ("A7F3"), made on first use.

    The alias is an HMAC of the internal buyer id under ``key`` (a secret of the
    deployment), so staff cannot compute it from a Telegram id nor count buyers
    from it. Candidates are tried in a fixed order until one is free at the seller;
    the unique constraint settles races, including two calls for the same buyer.

    Raises:
        ValueError: if ``key`` is empty (aliases would be recomputable by anyone).
    """
    if not key:
        raise ValueError("alias key must not be empty")
    existing = get_alias(session, buyer_id, seller_id)
    if existing is not None:
        return existing
    for attempt in range(ALIAS_MAX_ATTEMPTS):
        alias = _alias_candidate(key, seller_id, buyer_id, attempt)
        values = {
            "buyer_id": buyer_id,
            "seller_id": seller_id,
            "alias": alias,
            "created_at": now or utcnow(),
        }
        if insert_ignore(session, BuyerAlias, values):
            return alias
        # Either another call made this buyer's alias meanwhile, or the candidate
        # belongs to another buyer of the seller: then try the next one.
        existing = get_alias(session, buyer_id, seller_id)
        if existing is not None:
            return existing
    raise RuntimeError(f"no free alias for buyer {buyer_id} at seller {seller_id!r}")
