"""Accounts, their entities, daily performance in integer micros, and the record of each upload.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "entities",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("ad_group", sa.Text(), server_default="", nullable=False),
        sa.Column("keyword", sa.Text(), server_default="", nullable=False),
        sa.Column("match_type", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_entities"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_entities_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "account_id",
            "campaign",
            "ad_group",
            "keyword",
            "match_type",
            name="uq_entities_account_id_campaign_ad_group_keyword_match_type",
        ),
        sa.UniqueConstraint("id", "account_id", name="uq_entities_id_account_id"),
    )
    op.create_table(
        "performance",
        sa.Column("entity_id", _ID, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("conversions_micros", sa.BigInteger(), nullable=False),
        sa.Column("value_micros", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", "date", name="pk_performance"),
        sa.ForeignKeyConstraint(
            ["entity_id", "account_id"],
            ["entities.id", "entities.account_id"],
            name="fk_performance_entity_id_account_id_entities",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_performance_account_id_date", "performance", ["account_id", "date"])
    op.create_table(
        "ingests",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.CHAR(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("inserted", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("unchanged", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ingests"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_ingests_account_id_accounts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_ingests_account_id_created_at", "ingests", ["account_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ingests_account_id_created_at", table_name="ingests")
    op.drop_table("ingests")
    op.drop_index("ix_performance_account_id_date", table_name="performance")
    op.drop_table("performance")
    op.drop_table("entities")
    op.drop_table("accounts")
