"""Fitted curve sets: one version per fit of an account, one row per entity curve.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "curve_sets",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("data_fingerprint", sa.Text(), nullable=False),
        sa.Column("entity_count", sa.Integer(), nullable=False),
        sa.Column("format_version", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_curve_sets"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_curve_sets_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("account_id", "version", name="uq_curve_sets_account_id_version"),
    )
    op.create_table(
        "curves",
        sa.Column("curve_set_id", _ID, nullable=False),
        sa.Column("entity_id", sa.String(32), nullable=False),
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("curve_set_id", "entity_id", name="pk_curves"),
        sa.ForeignKeyConstraint(
            ["curve_set_id"],
            ["curve_sets.id"],
            name="fk_curves_curve_set_id_curve_sets",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("curves")
    op.drop_table("curve_sets")
