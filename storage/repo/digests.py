"""The daily digest's claim: one row per seller and local day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sellerdesk.storage.models import DigestSent


def claim_digest(session: Session, seller_id: str, day: str, now: datetime) -> bool:
    """Claim the seller's digest of ``day``; True for exactly one caller ever.

    The insert runs in a savepoint, so losing the race (the primary key refuses a
    second row, whichever process wrote the first) leaves the caller's transaction
    usable. Committed together with the digest's outbox row: both or neither.
    """
    try:
        with session.begin_nested():
            session.add(DigestSent(seller_id=seller_id, day=day, sent_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True
