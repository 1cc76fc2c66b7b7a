"""Buyers' messages in Ozon buyer chats the desk has taken up (answered, being
answered, or left for staff), so none is answered twice across polls, pushes and
restarts; and the channel of each logged question (the bot's chat or an Ozon chat).

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

#: Timezone-aware, as in 0001 (``storage.types.UTCDateTime`` stores UTC).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ozon_chat_messages",
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answer_head", sa.String(length=100), nullable=True),
        sa.Column("handled_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("seller_id", "message_id", name=op.f("pk_ozon_chat_messages")),
    )
    op.create_index(op.f("ix_ozon_chat_messages_handled_at"), "ozon_chat_messages", ["handled_at"])
    with op.batch_alter_table("faq_question_log") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="telegram")
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_question_log") as batch:
        batch.drop_column("channel")
    op.drop_index(op.f("ix_ozon_chat_messages_handled_at"), table_name="ozon_chat_messages")
    op.drop_table("ozon_chat_messages")
