"""Real-shaped data (issue 18): conversion snapshots per upload, the lag report, account events
and the facts of a fit beyond its curves.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def _account(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=f"fk_{table}_account_id_accounts", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "conversion_snapshots",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("conversions_micros", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversion_snapshots"),
        _account("conversion_snapshots"),
    )
    op.create_index(
        "ix_conversion_snapshots_account_id_as_of",
        "conversion_snapshots",
        ["account_id", "as_of"],
    )
    op.create_table(
        "lag_reports",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("stored_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_lag_reports"),
        _account("lag_reports"),
    )
    op.create_table(
        "account_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_events"),
        _account("account_events"),
    )
    op.create_index(
        "ix_account_events_account_id_first_day", "account_events", ["account_id", "first_day"]
    )
    op.create_table(
        "fit_contexts",
        sa.Column("curve_set_id", _ID, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("curve_set_id", name="pk_fit_contexts"),
        sa.ForeignKeyConstraint(
            ["curve_set_id"],
            ["curve_sets.id"],
            name="fk_fit_contexts_curve_set_id_curve_sets",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("fit_contexts")
    op.drop_index("ix_account_events_account_id_first_day", table_name="account_events")
    op.drop_table("account_events")
    op.drop_table("lag_reports")
    op.drop_index("ix_conversion_snapshots_account_id_as_of", table_name="conversion_snapshots")
    op.drop_table("conversion_snapshots")
