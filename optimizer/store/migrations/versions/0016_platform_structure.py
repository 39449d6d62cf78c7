"""The account's Google Ads structure as the ad script last sent it (issue 21): shared budgets,
bidding strategies and targets, impression share lost, keyword bids. One row per account, replaced
when a different structure arrives.

Revision ID: 0016
Revises: 0022
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision: str | None = "0022"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "platform_structures",
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id",
                ondelete="CASCADE",
                name="fk_platform_structures_account_id_accounts",
            ),
            nullable=False,
        ),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("structure", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_platform_structures"),
    )


def downgrade() -> None:
    op.drop_table("platform_structures")
