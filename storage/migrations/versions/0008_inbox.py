"""Updates fetched by long polling and not handled yet, so a crash, a database outage
or a full disk delays an update instead of losing it; and the buyer of each logged
question, so forgetting a buyer deletes their questions too.

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

#: Timezone-aware, as in 0001 (``storage.types.UTCDateTime`` stores UTC).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("parked_at", TIMESTAMP, nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox_updates")),
    )
    op.create_index(op.f("ix_inbox_updates_parked_at"), "inbox_updates", ["parked_at"])
    with op.batch_alter_table("faq_question_log") as batch:
        batch.add_column(sa.Column("buyer_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_faq_question_log_buyer_id"), ["buyer_id"])


def downgrade() -> None:
    with op.batch_alter_table("faq_question_log") as batch:
        batch.drop_index(batch.f("ix_faq_question_log_buyer_id"))
        batch.drop_column("buyer_id")
    op.drop_index(op.f("ix_inbox_updates_parked_at"), table_name="inbox_updates")
    op.drop_table("inbox_updates")
