"""Return requests: the buyer's /return flow while it is filled in, then staff's decision.

Every state change that must happen once (submit, approve, reject) is a conditional
UPDATE whose row count says whether this call did it, so a double press or two staff
members at once act once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, select
from sqlalchemy.orm import Session

from sellerdesk.storage.models import (
    RETURN_FLOW_STEPS,
    ReturnDecision,
    ReturnRequest,
    ReturnStep,
)
from sellerdesk.storage.repo._sql import fixed, in_literals, update_rows
from sellerdesk.storage.types import utcnow

_ACTIVE = in_literals(ReturnRequest.step, RETURN_FLOW_STEPS)


#: Asked on every buyer message: built once (see :mod:`storage.repo._sql`).
_ACTIVE_FLOW = select(ReturnRequest).where(ReturnRequest.buyer_id == bindparam("buyer_id"), _ACTIVE)
_AWAITING_BUYER = (
    select(ReturnRequest)
    .where(
        ReturnRequest.buyer_id == bindparam("buyer_id"),
        ReturnRequest.step == fixed(ReturnStep.SUBMITTED),
        ReturnRequest.staff_awaiting == bindparam("marker"),
    )
    .order_by(ReturnRequest.id.desc())
    .limit(1)
)


def active_flow(session: Session, buyer_id: int) -> ReturnRequest | None:
    """The buyer's return flow in progress, if any (there is at most one)."""
    return session.scalars(_ACTIVE_FLOW, {"buyer_id": buyer_id}).one_or_none()


def start_flow(
    session: Session, buyer_id: int, seller_id: str, lang: str, now: datetime | None = None
) -> ReturnRequest:
    """A new flow at its first step; an earlier unfinished flow of the buyer is cancelled
    (the buyer started over)."""
    now = now or utcnow()
    update_rows(
        session,
        ReturnRequest.id,
        {"step": ReturnStep.CANCELLED, "updated_at": now},
        ReturnRequest.buyer_id == buyer_id,
        _ACTIVE,
    )
    flow = ReturnRequest(
        buyer_id=buyer_id,
        seller_id=seller_id,
        step=ReturnStep.ORDER,
        lang=lang,
        photo_ids=[],
        started_at=now,
        updated_at=now,
    )
    session.add(flow)
    session.flush()
    return flow


def advance(
    session: Session,
    flow_id: int,
    from_step: ReturnStep,
    values: Mapping[str, Any],
    now: datetime | None = None,
) -> bool:
    """Store the buyer's answer and move on, only if the flow is still at ``from_step``
    (a stale button from an earlier step changes nothing)."""
    changed = update_rows(
        session,
        ReturnRequest.id,
        {**values, "updated_at": now or utcnow()},
        ReturnRequest.id == flow_id,
        ReturnRequest.step == from_step,
    )
    return bool(changed)


def add_photo(session: Session, flow: ReturnRequest, message_id: int, now: datetime) -> int:
    """Remember one photo of the flow; returns how many it has."""
    photos = [*flow.photo_ids, message_id]
    update_rows(
        session,
        ReturnRequest.id,
        {"photo_ids": photos, "updated_at": now},
        ReturnRequest.id == flow.id,
    )
    return len(photos)


def get_by_case(session: Session, case_id: int) -> ReturnRequest | None:
    return session.scalars(
        select(ReturnRequest).where(ReturnRequest.case_id == case_id)
    ).one_or_none()


def get(session: Session, request_id: int) -> ReturnRequest | None:
    return session.get(ReturnRequest, request_id)


def set_staff_awaiting(session: Session, request_id: int, what: str | None) -> bool:
    """Mark what the next staff message in the topic is for; only while undecided."""
    return bool(
        update_rows(
            session,
            ReturnRequest.id,
            {"staff_awaiting": what},
            ReturnRequest.id == request_id,
            ReturnRequest.decision.is_(None),
        )
    )


def begin_approval(session: Session, request_id: int, user_id: int, now: datetime) -> bool:
    """Approve pressed: True for the first press only."""
    return bool(
        update_rows(
            session,
            ReturnRequest.id,
            {
                "decision": ReturnDecision.APPROVING,
                "decided_by": user_id,
                "staff_awaiting": None,
                "decided_at": now,
            },
            ReturnRequest.id == request_id,
            ReturnRequest.decision.is_(None),
        )
    )


def approve(session: Session, request_id: int, method: str, now: datetime) -> bool:
    """The return method chosen: True for the first choice only."""
    return bool(
        update_rows(
            session,
            ReturnRequest.id,
            {"decision": ReturnDecision.APPROVED, "method": method, "decided_at": now},
            ReturnRequest.id == request_id,
            ReturnRequest.decision == ReturnDecision.APPROVING,
        )
    )


def reject(session: Session, request_id: int, user_id: int, reason: str, now: datetime) -> bool:
    """Reject with ``reason``: True only if the request was still undecided."""
    return bool(
        update_rows(
            session,
            ReturnRequest.id,
            {
                "decision": ReturnDecision.REJECTED,
                "reject_reason": reason,
                "decided_by": user_id,
                "decided_at": now,
                "staff_awaiting": None,
            },
            ReturnRequest.id == request_id,
            ReturnRequest.decision.is_(None),
        )
    )


def awaiting_buyer(session: Session, buyer_id: int, marker: str) -> ReturnRequest | None:
    """The buyer's submitted return whose staff wait for the buyer's answer, if any."""
    return session.scalars(_AWAITING_BUYER, {"buyer_id": buyer_id, "marker": marker}).first()


def undecided(session: Session, case_id: int) -> bool:
    """Is the case a return still waiting for staff's decision?"""
    stmt = select(ReturnRequest.id).where(
        ReturnRequest.case_id == case_id, ReturnRequest.decision.is_(None)
    )
    return session.scalars(stmt).first() is not None


def clear_photos(session: Session, older_than: datetime) -> int:
    """Forget the photo message ids of return requests last changed before
    ``older_than`` (a flow in progress is changed every step); returns how many."""
    changed = update_rows(
        session,
        ReturnRequest.id,
        {"photo_ids": []},
        ReturnRequest.updated_at < older_than,
        # Only lists with ids (JSON as text is "[]" on both backends when empty).
        cast(ReturnRequest.photo_ids, String) != "[]",
    )
    return len(changed)
