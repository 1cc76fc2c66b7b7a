"""Returns and the daily digest: the kind of a case (a buyer may have an open
question and an open return with one seller), return requests (the /return flow and
staff's decision), and the digests sent (one row per seller and day).

Written by hand in the style of 0001 (types spelled out, so this file never changes
when the models do).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# What storage.types.UTCDateTime stores: timestamptz on PostgreSQL, text on SQLite.
TIMESTAMP = sa.DateTime(timezone=True)
OPEN = sa.text("status = 'open'")
ACTIVE = sa.text("step IN ('order', 'product', 'reason', 'photos', 'comment')")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                _enum("case_kind", "question", "return"),
                nullable=False,
                server_default="question",
            )
        )
    op.drop_index("uq_cases_open_buyer_seller", table_name="cases")
    op.create_index(
        "uq_cases_open_buyer_seller",
        "cases",
        ["buyer_id", "seller_id", "kind"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "return_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.String(64), nullable=False),
        sa.Column(
            "step",
            _enum(
                "return_step",
                "order",
                "product",
                "reason",
                "photos",
                "comment",
                "submitted",
                "cancelled",
                "expired",
            ),
            nullable=False,
        ),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("order_number", sa.String(32), nullable=True),
        sa.Column("offer_id", sa.String(64), nullable=True),
        sa.Column("product", sa.String(255), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("photo_ids", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column(
            "decision", _enum("return_decision", "approving", "approved", "rejected"), nullable=True
        ),
        sa.Column("staff_awaiting", sa.String(32), nullable=True),
        sa.Column("method", sa.String(128), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["buyers.id"], name="fk_return_requests_buyer_id_buyers"
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_return_requests_case_id_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_return_requests"),
        sa.UniqueConstraint("case_id", name="uq_return_requests_case_id"),
    )
    op.create_index("ix_return_requests_buyer_id", "return_requests", ["buyer_id"])
    op.create_index(
        "uq_return_requests_active_buyer",
        "return_requests",
        ["buyer_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )

    op.create_table(
        "digests_sent",
        sa.Column("seller_id", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("seller_id", "day", name="pk_digests_sent"),
    )


def downgrade() -> None:
    op.drop_table("digests_sent")
    op.drop_index("uq_return_requests_active_buyer", table_name="return_requests")
    op.drop_index("ix_return_requests_buyer_id", table_name="return_requests")
    op.drop_table("return_requests")
    op.drop_index("uq_cases_open_buyer_seller", table_name="cases")
    op.create_index(
        "uq_cases_open_buyer_seller",
        "cases",
        ["buyer_id", "seller_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint(op.f("ck_cases_case_kind"), type_="check")
        batch.drop_column("kind")
