"""The desk's tables as typed SQLAlchemy models.

Portable by construction: the same models run on SQLite (the default, one file)
and PostgreSQL (production, several bot processes). Telegram ids are
``BigInteger`` (they exceed 32 bits), datetimes are :class:`UTCDateTime`, JSON is
SQLAlchemy's generic ``JSON`` (``json`` on PostgreSQL, text on SQLite), and enums
are VARCHAR plus a CHECK constraint rather than a native PostgreSQL enum, so a
new value needs no ``ALTER TYPE``.

Personal data of buyers lives only in :class:`Buyer` (Telegram id, username,
first name), in case texts (subject, order numbers, rating comment), in the
message mappings and in the outbox payloads; ``forget_buyer`` clears exactly
those and keeps the anonymous rest for statistics.

Longer than ~500 lines on purpose: the whole schema in one module, read as one (the
migrations mirror it table by table).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sellerdesk.storage.types import UTCDateTime

#: Deterministic constraint names, so migrations can refer to them on every backend
#: (PostgreSQL would otherwise invent its own, SQLite would leave them unnamed).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Column sizes. Telegram caps names and usernames at 64 and 32 characters; the
# repositories clip free text to these lengths so PostgreSQL never rejects a row.
# Identifiers made by code or content (seller ids, kinds) are not clipped: content
# validation keeps seller ids within SELLER_ID_LEN.
SELLER_ID_LEN = 64
LANG_LEN = 8
NAME_LEN = 128
SUBJECT_LEN = 255
OFFER_ID_LEN = 64
ALIAS_LEN = 8
WORKER_ID_LEN = 64
DEDUPE_KEY_LEN = 128
KIND_LEN = 32
ACTOR_LEN = 64
ENTRY_ID_LEN = 128
SETTING_NAME_LEN = 64
#: Ozon order numbers are 8+4(+n) digits; 32 leaves room for other formats later.
ORDER_LEN = 32
#: Ozon's ids (uint64 as text, chat UUIDs) and the start of an answer kept to find it.
OZON_ID_LEN = 64
OZON_ANSWER_HEAD_LEN = 100


class Base(DeclarativeBase):
    """Declarative base holding the shared metadata (and its naming convention)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _str_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR storing the member *values*, checked by a constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseKind(StrEnum):
    """What a case is about; a buyer may have one open case of each kind per seller."""

    #: A question or problem the FAQ could not settle.
    QUESTION = "question"
    #: A return request filed through ``/return`` (see :class:`ReturnRequest`).
    RETURN = "return"


class ReturnStep(StrEnum):
    """Where a return request is: the buyer's flow steps, then its fate."""

    ORDER = "order"
    PRODUCT = "product"
    REASON = "reason"
    PHOTOS = "photos"
    COMMENT = "comment"
    #: Sent to staff as a return case.
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"
    #: The buyer went silent longer than the flow timeout.
    EXPIRED = "expired"


#: Steps of a flow still being filled in by the buyer (one per buyer at a time).
RETURN_FLOW_STEPS = ("order", "product", "reason", "photos", "comment")


class ReturnDecision(StrEnum):
    #: Approve pressed; the return method is still to be chosen.
    APPROVING = "approving"
    APPROVED = "approved"
    REJECTED = "rejected"


class Direction(StrEnum):
    """Which way a relayed message went."""

    #: A buyer's message copied into the staff chat.
    TO_STAFF = "to_staff"
    #: A staff message copied to the buyer.
    TO_BUYER = "to_buyer"
    #: The bot's own message about the case (case card, reminder): one side only.
    SYSTEM = "system"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """Kinds of outgoing calls the sender knows; the column is free text so new ones need
    no migration."""

    SEND_TEXT = "send_text"
    COPY_MESSAGE = "copy_message"
    SEND_MEDIA_GROUP = "send_media_group"
    CREATE_FORUM_TOPIC = "create_forum_topic"
    EDIT_FORUM_TOPIC = "edit_forum_topic"


class ReminderKind(StrEnum):
    #: A nudge in the case's topic.
    REMINDER = "reminder"
    #: A note to the admin chat: the deadline is missed.
    ESCALATION = "escalation"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    CANCELLED = "cancelled"


class QuestionOutcome(StrEnum):
    """What the buyer said about an FAQ answer (the "helped?" buttons)."""

    HELPED = "helped"
    NOT_HELPED = "not_helped"


class CaseEventKind(StrEnum):
    """Event kinds the storage itself records; callers may log others (free text column)."""

    OPENED = "opened"
    CLAIMED = "claimed"
    UNCLAIMED = "unclaimed"
    CLOSED = "closed"
    REOPENED = "reopened"
    RATED = "rated"
    FORGOTTEN = "forgotten"
    ESCALATED = "escalated"
    COMPLAINED = "complained"
    TAKEN_OVER = "taken_over"
    HANDED_BACK = "handed_back"


class Buyer(Base):
    """A person who wrote to the bot. The only table holding a buyer's Telegram identity."""

    __tablename__ = "buyers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: NULL once the buyer is forgotten; if they write again they are a new buyer.
    #: (Unique constraints allow many NULLs on both backends.)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    language: Mapped[str | None] = mapped_column(String(LANG_LEN))
    username: Mapped[str | None] = mapped_column(String(NAME_LEN))
    first_name: Mapped[str | None] = mapped_column(String(NAME_LEN))
    #: The seller the private chat is currently about (set by a deep link), so a
    #: plain message can be routed to the right case.
    current_seller_id: Mapped[str | None] = mapped_column(String(SELLER_ID_LEN))
    #: The product a product deep link opened the chat on; a case opened next is about it.
    current_offer_id: Mapped[str | None] = mapped_column(String(OFFER_ID_LEN))
    #: The case the buyer just rated: their next text is its rating comment. Not a
    #: foreign key: cases already point at buyers, and the cycle would complicate
    #: deletes for no gain (a stale id only means "no comment pending").
    comment_case_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BuyerAlias(Base):
    """The name staff see for a buyer at one seller ("Buyer #A7F3").

    Derived from a keyed hash of the internal buyer id, so it reveals neither the
    Telegram id nor how many buyers came before; stored because short hashes collide
    and the collision is resolved once, at creation.
    """

    __tablename__ = "buyer_aliases"
    __table_args__ = (UniqueConstraint("seller_id", "alias"),)

    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN), primary_key=True)
    alias: Mapped[str] = mapped_column(String(ALIAS_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SellerSeen(Base):
    """One row per seller the desk has served: when it was first seen, and its case counter.

    The counter lives here because the row already exists per seller and an
    ``UPDATE ... + 1`` on it serialises concurrent case openings for that seller, so
    case numbers are gapless and unique even with several processes.
    """

    __tablename__ = "sellers_seen"

    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_case_number: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    """A conversation between one buyer and one seller's staff, relayed by the bot."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("seller_id", "number"),
        # A forum topic belongs to one case; NULLs (plain-group mode) do not collide.
        UniqueConstraint("staff_chat_id", "thread_id"),
        # At most one open case per buyer and seller, even when two processes race to
        # open one: the database refuses the second and the loser reuses the winner's.
        Index(
            "uq_cases_open_buyer_seller",
            "buyer_id",
            "seller_id",
            "kind",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_cases_buyer_id_opened_at", "buyer_id", "opened_at"),
        Index("ix_cases_status_seller_id", "status", "seller_id"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN))
    #: Public number, counted per seller ("case #12").
    number: Mapped[int] = mapped_column(Integer)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"))
    status: Mapped[CaseStatus] = mapped_column(
        _str_enum(CaseStatus, "case_status"), default=CaseStatus.OPEN
    )
    kind: Mapped[CaseKind] = mapped_column(
        _str_enum(CaseKind, "case_kind"), default=CaseKind.QUESTION, server_default="question"
    )
    subject: Mapped[str | None] = mapped_column(String(SUBJECT_LEN))
    lang: Mapped[str | None] = mapped_column(String(LANG_LEN))
    offer_id: Mapped[str | None] = mapped_column(String(OFFER_ID_LEN))
    order_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The seller's staff supergroup, and the forum topic of this case (NULL in
    #: plain-group mode, where staff answer by replying to the case's messages).
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_staff_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_buyer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_staff_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The reply clock: when the oldest unanswered buyer message arrived; NULL when
    #: staff have answered everything. Deadlines count from here.
    awaiting_reply_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the case first reached the platform admin chat (a missed deadline or a
    #: complaint); NULL while the seller's staff handle it alone.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The platform admin who took the case over: their messages in the admin chat
    #: reach the buyer, signed as the platform. NULL once handed back.
    admin_id: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The text of the first staff message relayed to the buyer: the answer ``faq gaps``
    #: offers as a draft FAQ entry. Personal data (staff may name the buyer or the
    #: order): cleared when the buyer is forgotten.
    first_answer: Mapped[str | None] = mapped_column(Text)
    #: Where the buyer's side of the case is written to when it is not the bot's private
    #: chat with them: a Telegram Business chat's key (see :class:`BusinessChat`). It
    #: follows the buyer: the chat they last wrote the case from.
    buyer_chat_id: Mapped[int | None] = mapped_column(BigInteger)

    # Joined: relaying to the buyer always needs their chat id, one row, no extra query.
    buyer: Mapped[Buyer] = relationship(lazy="joined", innerjoin=True)


class CaseMessage(Base):
    """One relayed message: its id in the buyer's chat and its copy's id in the staff chat.

    Unique on each side so a reply on either side finds the message it answers, and
    so the same copy is never recorded twice.
    """

    __tablename__ = "case_messages"
    __table_args__ = (
        UniqueConstraint("buyer_chat_id", "buyer_message_id"),
        UniqueConstraint("staff_chat_id", "staff_message_id"),
        CheckConstraint(
            "buyer_message_id IS NOT NULL OR staff_message_id IS NOT NULL", name="one_side"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[Direction] = mapped_column(_str_enum(Direction, "direction"))
    buyer_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    buyer_message_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseEvent(Base):
    """The case's history: opened, claimed, closed, reminded... for admins and statistics."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_id_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(KIND_LEN))
    #: Who did it: "buyer", "staff:<user id>", "admin:<user id>", "system".
    actor: Mapped[str | None] = mapped_column(String(ACTOR_LEN))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeskSetting(Base):
    """A value the deployment keeps in its database, such as the generated alias key.

    In the database rather than a file so that several bot processes sharing one
    PostgreSQL database agree on it without sharing a disk.
    """

    __tablename__ = "desk_settings"

    name: Mapped[str] = mapped_column(String(SETTING_NAME_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SenderHeartbeat(Base):
    """An outbox sender that is running (one per bot process), and when it last said so.

    Telegram's flood limits are the bot's, whatever the number of processes sending
    for it: processes sharing one database count the live senders here and each
    paces its sends at that share of the limits.
    """

    __tablename__ = "sender_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(WORKER_ID_LEN), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MediaUpload(Base):
    """A file sent with FAQ answers, as Telegram knows it: sent by its file id once
    uploaded. Keyed by the file's SHA-256, so an edited file is uploaded anew. Holds
    the seller's own files' ids only, nothing of a buyer's; rows unused for
    ``storage.repo.senders.FORGET_UPLOADS_AFTER`` are deleted."""

    __tablename__ = "media_uploads"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: How it was sent: "photo" or "document" (a file id serves one kind).
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    file_id: Mapped[str] = mapped_column(Text)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class InboxUpdate(Base):
    """An update fetched by long polling and not handled yet.

    Stored before Telegram is told it was received (the next ``getUpdates`` offset),
    deleted once handled: a crash, a database outage or a full disk delays an update,
    never loses it. ``parked_at``: handling kept failing; it waits for the next start
    (or an admin) and shows in ``/health``.
    """

    __tablename__ = "inbox_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    error: Mapped[str | None] = mapped_column(String(200))


class OzonChatMessage(Base):
    """A buyer's message in an Ozon buyer chat that the desk has taken up: the guard
    against answering it twice (the chat is polled again, a push repeats it) and, while
    ``state`` is ``answering``, the record that an answer may be on its way.

    No text of the buyer is kept; ``answer_head`` is the start of the FAQ answer sent
    (the seller's own text), to find it in the chat's history after a crash.
    """

    __tablename__ = "ozon_chat_messages"

    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN), primary_key=True)
    #: Ozon's uint64 message id, as the JSON string Ozon gives.
    message_id: Mapped[str] = mapped_column(String(OZON_ID_LEN), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(OZON_ID_LEN))
    #: ``answering`` (the answer may be on its way), ``answered``, ``staff`` (left for
    #: people: not confident, or not text).
    state: Mapped[str] = mapped_column(String(16))
    answer_head: Mapped[str | None] = mapped_column(String(OZON_ANSWER_HEAD_LEN))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OzonQuestion(Base):
    """A product question from Ozon the desk has taken up, and its answer's fate.

    Holds no buyer data (Ozon's question id, the product, the answer: the seller's own
    text); the question's text is shown to staff once and not kept here.
    """

    __tablename__ = "ozon_questions"
    __table_args__ = (
        UniqueConstraint("seller_id", "question_id"),
        Index(
            "ix_ozon_questions_staff_chat_id_staff_message_id", "staff_chat_id", "staff_message_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN))
    question_id: Mapped[str] = mapped_column(String(OZON_ID_LEN))
    sku: Mapped[int] = mapped_column(BigInteger)
    offer_id: Mapped[str | None] = mapped_column(String(OFFER_ID_LEN))
    #: ``draft``, ``approved``, ``answering``, ``answered``, ``rejected``, ``failed``
    #: (see ``storage.repo.channels``).
    state: Mapped[str] = mapped_column(String(16))
    #: The answer to publish: the FAQ's, or the one staff wrote.
    answer: Mapped[str | None] = mapped_column(Text)
    #: The FAQ entry or product the draft came from.
    entry: Mapped[str | None] = mapped_column(String(ENTRY_ID_LEN))
    #: The draft's message in the staff group (replies to it are answers).
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


#: Chat keys of Telegram Business chats start here: above every Telegram chat id (at
#: most 52 bits), below 2**63. The desk treats each business chat as a chat of its own
#: (its outbox order, its pacing, its message mapping) whose key is this plus the
#: :class:`BusinessChat` row id.
BUSINESS_CHAT_BASE = 1 << 60
BUSINESS_ID_LEN = 64


class BusinessConnection(Base):
    """A Telegram Business account connected to the bot: the seller's own account,
    whose private chats with buyers the bot answers in (``business_connection`` updates).
    """

    __tablename__ = "business_connections"

    connection_id: Mapped[str] = mapped_column(String(BUSINESS_ID_LEN), primary_key=True)
    #: The account's owner (the seller's person), whose own messages silence the bot.
    owner_id: Mapped[int] = mapped_column(BigInteger)
    #: The seller whose seller.yaml names this account; NULL: none does (ignored).
    seller_id: Mapped[str | None] = mapped_column(String(SELLER_ID_LEN))
    can_reply: Mapped[bool] = mapped_column(Boolean)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BusinessChat(Base):
    """One buyer's private chat with a connected business account: its key in the desk
    (``BUSINESS_CHAT_BASE + id``) and whether a person of the account is writing in it."""

    __tablename__ = "business_chats"
    __table_args__ = (UniqueConstraint("connection_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[str] = mapped_column(String(BUSINESS_ID_LEN))
    #: The buyer's Telegram id (the chat's id in Telegram).
    user_id: Mapped[int] = mapped_column(BigInteger)
    #: The account's person wrote here: the bot says nothing until then.
    quiet_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The buyer's last message: the chat's row goes with the retention sweep after it.
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


#: Chat keys of Ozon buyer chats start here (see ``BUSINESS_CHAT_BASE``): the desk
#: writes to an Ozon chat as to a chat of its own, and a sender of Ozon's carries it.
OZON_CHAT_BASE = 1 << 61


class OzonBuyerChat(Base):
    """An Ozon buyer chat the desk has handed to staff: its key in the desk
    (``OZON_CHAT_BASE + id``) and the buyer it stands for (a buyer with no Telegram id)."""

    __tablename__ = "ozon_buyer_chats"
    __table_args__ = (UniqueConstraint("seller_id", "chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN))
    #: Ozon's chat id.
    chat_id: Mapped[str] = mapped_column(String(OZON_ID_LEN))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The buyer's last message handed to staff; the row goes with retention after it.
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OutboxMessage(Base):
    """A Bot API call that must happen, stored in the same transaction as its cause.

    The sender claims due rows with a lease, performs the call and marks the row
    sent, or puts it back with ``not_before`` (429 ``retry_after``, backoff), or fails
    it for good. A lease that runs out (the worker died) makes the row claimable again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The claim query: due pending rows, and leases that ran out.
        Index("ix_outbox_status_not_before", "status", "not_before"),
        # The per-chat ordering check: is an earlier message to this chat unsent?
        Index("ix_outbox_chat_id_status", "chat_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_LEN))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    #: Set when the same message may be enqueued twice (a reminder step, say):
    #: the second enqueue is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(DEDUPE_KEY_LEN), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        _str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: An earlier try may have reached Telegram without its answer reaching the sender
    #: (the process died mid-call, the connection broke): before the next try's message
    #: is kept, the sender looks for the copy that try left (see bot.telegram_io.outbox).
    maybe_sent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(WORKER_ID_LEN))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Ids of the messages Telegram created (several for a media group).
    sent_message_ids: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Reminder(Base):
    """One step of a case's reply deadline schedule: a reminder or an escalation at ``due_at``.

    Rows are written when the reply clock starts and cancelled when staff answer, so
    a restart loses nothing and the scheduler only asks what is due.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_status_due_at", "status", "due_at"),
        Index("ix_reminders_case_id_status", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[ReminderKind] = mapped_column(_str_enum(ReminderKind, "reminder_kind"))
    #: Position in the schedule (0 = first), for texts like "2nd reminder".
    step: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[ReminderStatus] = mapped_column(
        _str_enum(ReminderStatus, "reminder_status"), default=ReminderStatus.PENDING
    )
    claimed_by: Mapped[str | None] = mapped_column(String(WORKER_ID_LEN))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FaqQuestionLog(Base):
    """Each question the matcher decided on, for statistics and for finding FAQ gaps.

    Holds no Telegram id; the text is stored with e-mail addresses, phone numbers and
    long digit runs (order and card numbers) masked. ``buyer_id`` (the internal id)
    lets ``forget_buyer`` delete a buyer's questions with the rest of their data.
    """

    __tablename__ = "faq_question_log"
    __table_args__ = (Index("ix_faq_question_log_seller_id_at", "seller_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN))
    question: Mapped[str] = mapped_column(Text)
    #: The matcher's action (``answer``, ``suggest``, ``handoff``; see faq.matching.decision).
    action: Mapped[str] = mapped_column(String(16))
    best_entry: Mapped[str | None] = mapped_column(String(ENTRY_ID_LEN))
    score: Mapped[float | None] = mapped_column(Float)
    lang: Mapped[str | None] = mapped_column(String(LANG_LEN))
    outcome: Mapped[QuestionOutcome | None] = mapped_column(
        _str_enum(QuestionOutcome, "question_outcome")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    buyer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Where the buyer asked: ``telegram`` (the bot's chat) or ``ozon_chat``.
    channel: Mapped[str] = mapped_column(String(16), default="telegram", server_default="telegram")


class ReturnRequest(Base):
    """A buyer's return request: the ``/return`` flow's answers while it is filled in
    (in the database, so a restart mid-flow loses nothing), then staff's decision.

    Holds buyer data (order number, product, comment): ``forget_buyer`` must clear it.
    """

    __tablename__ = "return_requests"
    __table_args__ = (
        # One flow in progress per buyer: a second /return replaces the first.
        Index(
            "uq_return_requests_active_buyer",
            "buyer_id",
            unique=True,
            sqlite_where=text("step IN ('order', 'product', 'reason', 'photos', 'comment')"),
            postgresql_where=text("step IN ('order', 'product', 'reason', 'photos', 'comment')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN))
    step: Mapped[ReturnStep] = mapped_column(_str_enum(ReturnStep, "return_step"))
    lang: Mapped[str | None] = mapped_column(String(LANG_LEN))
    order_number: Mapped[str | None] = mapped_column(String(ORDER_LEN))
    offer_id: Mapped[str | None] = mapped_column(String(OFFER_ID_LEN))
    product: Mapped[str | None] = mapped_column(String(SUBJECT_LEN))
    reason: Mapped[str | None] = mapped_column(String(KIND_LEN))
    #: Ids of the buyer's photo messages in their chat, copied to staff on submit.
    photo_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), unique=True)
    decision: Mapped[ReturnDecision | None] = mapped_column(
        _str_enum(ReturnDecision, "return_decision")
    )
    #: What the next staff message in the topic is: ``reject`` (the reason) or
    #: ``question`` (for the buyer); NULL: an ordinary message.
    staff_awaiting: Mapped[str | None] = mapped_column(String(KIND_LEN))
    method: Mapped[str | None] = mapped_column(String(ENTRY_ID_LEN))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The buyer's last answer: the flow times out counting from here.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DigestSent(Base):
    """One row per seller and local day whose digest was sent: the claim that makes the
    digest go out once even when two bot processes reach the hour together (the second
    insert fails on the primary key)."""

    __tablename__ = "digests_sent"

    seller_id: Mapped[str] = mapped_column(String(SELLER_ID_LEN), primary_key=True)
    #: The seller-local date, ``YYYY-MM-DD``.
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
