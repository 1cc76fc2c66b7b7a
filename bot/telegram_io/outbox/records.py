"""Recording a send: the row marked sent, a new topic attached, copies mapped to the case
so replies thread both ways."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.telegram_io.outbox.jobs import Job
from sellerdesk.storage.models import Direction, OutboxKind
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import channels, messages, outbox

log = logging.getLogger(__name__)


def record_sent(session: Session, job: Job, sent: list[int], worker_id: str) -> None:
    """Mark the row sent by ``worker_id`` and map its messages to the case."""
    if not outbox.mark_sent(session, job.id, worker_id, sent):
        log.warning("outbox %s: lease lost; the message may go out twice", job.id)
        # On record all the same: the row's new owner keeps this copy instead of
        # its own, and no other row takes it for one of its tries.
        outbox.record_stray_send(session, job.id, sent)
        return
    if job.case_id is None:
        question = job.payload.get("ozon_question")
        if question is not None and sent:
            channels.set_question_message(session, int(question), job.chat_id, sent[0])
        return
    if job.kind == OutboxKind.CREATE_FORUM_TOPIC and sent:
        cases_repo.set_topic(session, job.case_id, job.chat_id, sent[0])
        return
    map_messages(session, job, sent)


def map_messages(session: Session, job: Job, sent: list[int]) -> None:
    """Map sent messages to the case (and to their originals, for copies)."""
    assert job.case_id is not None
    record = job.payload.get("record")
    if record is None:
        return
    direction = Direction(record)
    # The admin chat is a staff-side chat: its messages map to the case the same
    # way, so an admin replying to one addresses the case.
    to_staff = job.side in (Side.STAFF, Side.ADMIN)
    carried = job.payload.get("carries")
    if direction is Direction.SYSTEM and carried and to_staff and sent:
        # A card that shows the buyer's message in full stands for its copy; the lines
        # folded into it after that have no counterpart of their own.
        messages.record_message(
            session,
            job.case_id,
            Direction.TO_STAFF,
            buyer_chat_id=int(carried[0]),
            buyer_message_id=int(carried[1]),
            staff_chat_id=job.chat_id,
            staff_message_id=sent[0],
        )
        for message_id in job.payload.get("carries_more") or ():
            messages.record_message(
                session,
                job.case_id,
                Direction.TO_STAFF,
                buyer_chat_id=int(carried[0]),
                buyer_message_id=int(message_id),
            )
        return
    if direction is Direction.SYSTEM:
        for message_id in sent:
            if to_staff:
                messages.record_message(
                    session,
                    job.case_id,
                    direction,
                    staff_chat_id=job.chat_id,
                    staff_message_id=message_id,
                )
            else:
                messages.record_message(
                    session,
                    job.case_id,
                    direction,
                    buyer_chat_id=job.chat_id,
                    buyer_message_id=message_id,
                )
        return
    source_chat = int(job.payload["from_chat_id"])
    if "folded_text" in job.payload and sent:
        # One message carries several: the first maps to it, the rest to no counterpart
        # (a reply to the folded message finds the case through the first).
        for n, source_id in enumerate(job.payload["message_ids"]):
            here = (job.chat_id, sent[0]) if n == 0 else (None, None)
            there = (source_chat, int(source_id))
            buyer, staff = (there, here) if to_staff else (here, there)
            messages.record_message(
                session,
                job.case_id,
                direction,
                buyer_chat_id=buyer[0],
                buyer_message_id=buyer[1],
                staff_chat_id=staff[0],
                staff_message_id=staff[1],
            )
        return
    for source_id, copy_id in zip(job.payload["message_ids"], sent, strict=False):
        if to_staff:
            messages.record_message(
                session,
                job.case_id,
                direction,
                buyer_chat_id=source_chat,
                buyer_message_id=int(source_id),
                staff_chat_id=job.chat_id,
                staff_message_id=copy_id,
            )
        else:
            messages.record_message(
                session,
                job.case_id,
                direction,
                buyer_chat_id=job.chat_id,
                buyer_message_id=copy_id,
                staff_chat_id=source_chat,
                staff_message_id=int(source_id),
            )
