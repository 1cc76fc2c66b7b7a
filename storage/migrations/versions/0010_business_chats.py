"""Telegram Business: the accounts connected to the bot, their chats with buyers, and
the chat a case's buyer side is written to.

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

#: Timezone-aware, as in 0001 (``storage.types.UTCDateTime`` stores UTC).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "business_connections",
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=True),
        sa.Column("can_reply", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_business_connections")),
    )
    op.create_table(
        "business_chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("quiet_until", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_chats")),
        sa.UniqueConstraint(
            "connection_id", "user_id", name=op.f("uq_business_chats_connection_id_user_id")
        ),
    )
    op.create_index(op.f("ix_business_chats_last_at"), "business_chats", ["last_at"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("buyer_chat_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("buyer_chat_id")
    op.drop_index(op.f("ix_business_chats_last_at"), table_name="business_chats")
    op.drop_table("business_chats")
    op.drop_table("business_connections")
