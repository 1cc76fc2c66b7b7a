"""Running outbox senders and when each was last seen, so that several bot processes
on one database share Telegram's flood limits.

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

#: Timezone-aware, as in 0001 (``storage.types.UTCDateTime`` stores UTC).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sender_heartbeats",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_sender_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("sender_heartbeats")
