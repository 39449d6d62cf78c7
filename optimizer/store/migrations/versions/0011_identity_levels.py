"""Data as it comes (issue 16): entities carry their platform and platform IDs; campaign totals are
kept apart from their keywords; accounts are linked to platform customer IDs; lost impression share.

Existing entities become platform 'other' with no IDs: the first Google Ads or Microsoft
Advertising row with the same names adopts them (see `optimizer.store.identity`), so no history is
split. Existing campaign-level rows of campaigns that also have keyword rows on the same day were
being added on top of their keywords; they move to `level_totals`, and `performance` keeps only the
remainder no keyword explains, when it is real (the rule of `optimizer.store.levels`, frozen here).

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)
_VALUES = ("spend_micros", "clicks", "impressions", "conversions_micros", "value_micros")
_SHARE = 0.01
_MIN_SPEND_MICROS = 10_000


def upgrade() -> None:
    with op.batch_alter_table("entities") as batch:
        batch.add_column(
            sa.Column("platform", sa.String(16), nullable=False, server_default="other")
        )
        for name in ("customer_id", "campaign_id", "ad_group_id", "criterion_id"):
            batch.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch.create_index(
            "ix_entities_platform_ids",
            ["account_id", "platform", "campaign_id", "ad_group_id", "criterion_id"],
        )
    with op.batch_alter_table("performance") as batch:
        batch.add_column(sa.Column("lost_is_budget", sa.Float(), nullable=True))
    op.create_table(
        "level_totals",
        sa.Column("entity_id", _ID, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _VALUES),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("entity_id", "date", name="pk_level_totals"),
        sa.ForeignKeyConstraint(
            ["entity_id", "account_id"],
            ["entities.id", "entities.account_id"],
            name="fk_level_totals_entity_id_account_id_entities",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_level_totals_account_id_date", "level_totals", ["account_id", "date"])
    op.create_table(
        "account_links",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_links_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "platform", "customer_id", name="uq_account_links_platform_customer_id"
        ),
    )
    _separate_campaign_totals(op.get_bind())


def _separate_campaign_totals(connection: sa.Connection) -> None:
    """Campaign-level rows on days their campaign also has keyword rows -> totals + remainder."""
    meta = sa.MetaData()
    entities = sa.Table("entities", meta, autoload_with=connection)
    performance = sa.Table("performance", meta, autoload_with=connection)
    totals = sa.Table("level_totals", meta, autoload_with=connection)
    coarse = entities.alias("coarse")
    leaf = entities.alias("leaf")
    kept = performance.alias("kept")
    children = (
        sa.select(*(sa.func.sum(kept.c[name]).label(name) for name in _VALUES))
        .select_from(kept.join(leaf, leaf.c.id == kept.c.entity_id))
        .where(
            leaf.c.account_id == coarse.c.account_id,
            leaf.c.campaign == coarse.c.campaign,
            leaf.c.keyword != "",
            kept.c.date == performance.c.date,
        )
    )
    has_children = sa.exists(children.with_only_columns(sa.literal(1)))
    rows = connection.execute(
        sa.select(
            performance.c.entity_id,
            performance.c.date,
            performance.c.account_id,
            *(performance.c[name] for name in _VALUES),
            *(children.with_only_columns(sa.func.coalesce(sa.func.sum(kept.c[name]), 0))
              .scalar_subquery().label(f"child_{name}") for name in _VALUES),
        )
        .select_from(performance.join(coarse, coarse.c.id == performance.c.entity_id))
        .where(coarse.c.keyword == "", coarse.c.ad_group == "", has_children)
    ).all()  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        values = {name: int(getattr(row, name)) for name in _VALUES}
        connection.execute(
            sa.insert(totals).values(
                entity_id=row.entity_id,
                date=row.date,
                account_id=row.account_id,
                updated_at=now,
                **values,
            )
        )
        rest = {name: max(values[name] - int(getattr(row, f"child_{name}")), 0) for name in _VALUES}
        key = (performance.c.entity_id == row.entity_id) & (performance.c.date == row.date)
        spend = values["spend_micros"]
        if rest["spend_micros"] >= max(_SHARE * spend, _MIN_SPEND_MICROS):
            connection.execute(sa.update(performance).where(key).values(updated_at=now, **rest))
        else:
            connection.execute(sa.delete(performance).where(key))


def downgrade() -> None:
    op.drop_table("account_links")
    op.drop_index("ix_level_totals_account_id_date", table_name="level_totals")
    op.drop_table("level_totals")
    with op.batch_alter_table("performance") as batch:
        batch.drop_column("lost_is_budget")
    with op.batch_alter_table("entities") as batch:
        batch.drop_index("ix_entities_platform_ids")
        for name in ("criterion_id", "ad_group_id", "campaign_id", "customer_id", "platform"):
            batch.drop_column(name)
