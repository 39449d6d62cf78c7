"""Learn while spending (issue 23): spend tests, one row per tested entity.

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("entity_id", sa.String(32), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("design", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("base_micros", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("cap_id", _ID, nullable=False),
        sa.Column("cap_micros", sa.BigInteger(), nullable=False),
        sa.Column("curve_set_id", _ID, nullable=False),
        sa.Column("elasticity_before", sa.Float(), nullable=False),
        sa.Column("sd_before", sa.Float(), nullable=False),
        sa.Column("predicted_sd_after", sa.Float(), nullable=False),
        sa.Column("expected_cost", sa.Float(), nullable=False),
        sa.Column("expected_gain", sa.Float(), nullable=False),
        sa.Column("readout", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_experiments_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["cap_id"], ["caps.id"], name="fk_experiments_cap_id_caps"),
    )
    op.create_index("ix_experiments_account_id_status", "experiments", ["account_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_experiments_account_id_status", table_name="experiments")
    op.drop_table("experiments")
