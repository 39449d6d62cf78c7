"""Prove it (issue 19): the prediction ledger (what every published plan predicted per entity) and
the accounts' band calibrations (from backtests).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("recommendation_id", _ID, nullable=False),
        sa.Column("entity_id", sa.String(32), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("curve_set_id", _ID, nullable=False),
        sa.Column("recommended_micros", sa.BigInteger(), nullable=False),
        sa.Column("expected_conversions", sa.Float(), nullable=False),
        sa.Column("conversions_low", sa.Float(), nullable=False),
        sa.Column("conversions_high", sa.Float(), nullable=False),
        sa.Column("expected_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("recommendation_id", "entity_id", name="pk_predictions"),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name="fk_predictions_recommendation_id_recommendations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_predictions_account_id_date", "predictions", ["account_id", "date"])
    op.create_table(
        "band_calibrations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("curve_set_id", _ID, nullable=False),
        sa.Column("scale", sa.Float(), nullable=False),
        sa.Column("coverage_before", sa.Float(), nullable=False),
        sa.Column("coverage_after", sa.Float(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_band_calibrations"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_band_calibrations_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["curve_set_id"],
            ["curve_sets.id"],
            name="fk_band_calibrations_curve_set_id_curve_sets",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("band_calibrations")
    op.drop_index("ix_predictions_account_id_date", table_name="predictions")
    op.drop_table("predictions")
