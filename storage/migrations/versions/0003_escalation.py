"""Deadlines and escalation: when a case reached the platform admins, and which admin
took it over.

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# What storage.types.UTCDateTime stores: timestamptz on PostgreSQL, text on SQLite.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("escalated_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("admin_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("admin_id")
        batch.drop_column("escalated_at")
