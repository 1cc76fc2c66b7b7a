"""The first staff answer of a case, kept as text for ``sellerdesk faq gaps`` (a ready
draft for a new FAQ entry). Cleared when the buyer is forgotten.

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("first_answer", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("first_answer")
