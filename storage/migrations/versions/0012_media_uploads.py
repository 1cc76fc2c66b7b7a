"""Telegram file ids of the files sent with FAQ answers, so each is uploaded once.

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

#: Timezone-aware, as in 0001 (``storage.types.UTCDateTime`` stores UTC).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "media_uploads",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.Text(), nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("digest", "kind"),
    )


def downgrade() -> None:
    op.drop_table("media_uploads")
