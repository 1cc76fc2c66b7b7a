"""Ozon product questions the desk has taken up (the draft shown to staff, the fate of
each answer), and Ozon buyer chats handed to staff (their key and buyer).

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

#: Timezone-aware, as in 0001 (``storage.types.UTCDateTime`` stores UTC).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ozon_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.BigInteger(), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("entry", sa.String(length=128), nullable=True),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_message_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ozon_questions")),
        sa.UniqueConstraint(
            "seller_id", "question_id", name=op.f("uq_ozon_questions_seller_id_question_id")
        ),
    )
    op.create_index(
        "ix_ozon_questions_staff_chat_id_staff_message_id",
        "ozon_questions",
        ["staff_chat_id", "staff_message_id"],
    )
    op.create_index(op.f("ix_ozon_questions_updated_at"), "ozon_questions", ["updated_at"])
    op.create_table(
        "ozon_buyer_chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["buyers.id"], name=op.f("fk_ozon_buyer_chats_buyer_id_buyers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ozon_buyer_chats")),
        sa.UniqueConstraint(
            "seller_id", "chat_id", name=op.f("uq_ozon_buyer_chats_seller_id_chat_id")
        ),
    )
    op.create_index(op.f("ix_ozon_buyer_chats_last_at"), "ozon_buyer_chats", ["last_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ozon_buyer_chats_last_at"), table_name="ozon_buyer_chats")
    op.drop_table("ozon_buyer_chats")
    op.drop_index(op.f("ix_ozon_questions_updated_at"), table_name="ozon_questions")
    op.drop_index("ix_ozon_questions_staff_chat_id_staff_message_id", table_name="ozon_questions")
    op.drop_table("ozon_questions")
