"""The desk over Telegram: a buyer's current product and pending rating comment, and
deployment settings kept in the database (the generated alias key).

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# What storage.types.UTCDateTime stores: timestamptz on PostgreSQL, text on SQLite.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("buyers") as batch:
        batch.add_column(sa.Column("current_offer_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("comment_case_id", sa.Integer(), nullable=True))
    op.create_table(
        "desk_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_desk_settings")),
    )


def downgrade() -> None:
    op.drop_table("desk_settings")
    with op.batch_alter_table("buyers") as batch:
        batch.drop_column("comment_case_id")
        batch.drop_column("current_offer_id")
