"""The database schema as SQLAlchemy Core tables; Alembic migrations (not `create_all`) build it.

Money and conversions are integer micros everywhere, so no float ever reaches the database. Later
features (curves, caps, recommendations, API keys, audit log) add their own tables in new migrations
and hang off `accounts` the same way.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

__all__ = [
    "NAMING_CONVENTION",
    "accounts",
    "curve_sets",
    "curves",
    "entities",
    "ingests",
    "metadata",
    "performance",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so SQLite batch migrations and PostgreSQL can address them."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_Id = BigInteger().with_variant(Integer(), "sqlite")

accounts = Table(
    "accounts",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("currency", CHAR(3), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

entities = Table(
    "entities",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("campaign", Text, nullable=False),
    Column("ad_group", Text, nullable=False, server_default=""),
    Column("keyword", Text, nullable=False, server_default=""),
    Column("match_type", Text, nullable=False, server_default=""),
    UniqueConstraint("account_id", "campaign", "ad_group", "keyword", "match_type"),
    # Target of performance's composite key, which keeps performance.account_id honest.
    UniqueConstraint("id", "account_id"),
)
"""A campaign, ad group or keyword of one account; '' marks a level the entity is not at."""

performance = Table(
    "performance",
    metadata,
    Column("entity_id", _Id, primary_key=True),
    Column("date", Date, primary_key=True),
    Column("account_id", _Id, nullable=False),
    Column("spend_micros", BigInteger, nullable=False),
    Column("clicks", BigInteger, nullable=False),
    Column("impressions", BigInteger, nullable=False),
    Column("conversions_micros", BigInteger, nullable=False),
    Column("value_micros", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["entity_id", "account_id"], ["entities.id", "entities.account_id"], ondelete="CASCADE"
    ),
    # account_id repeats the entity's account: "this account, these dates" is one index range.
    Index(None, "account_id", "date"),
)
"""One entity's totals for one day."""

ingests = Table(
    "ingests",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("source_name", Text, nullable=False),
    Column("sha256", CHAR(64), nullable=False),
    Column("format", String(32), nullable=False),
    Column("rows_read", BigInteger, nullable=False),
    Column("inserted", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
    Column("unchanged", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "account_id", "created_at"),
)
"""The record of one upload: which file (by content hash) and what it changed."""

curve_sets = Table(
    "curve_sets",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("fitted_at", DateTime(timezone=True), nullable=False),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("data_fingerprint", Text, nullable=False),
    Column("entity_count", Integer, nullable=False),
    Column("format_version", Integer, nullable=False),
    Column("skipped", Text, nullable=False),
    UniqueConstraint("account_id", "version"),
)
"""One fit of an account: its version number, the data window and a fingerprint of the data used."""

curves = Table(
    "curves",
    metadata,
    Column(
        "curve_set_id",
        _Id,
        ForeignKey("curve_sets.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("entity_id", String(32), primary_key=True),
    Column("campaign", Text, nullable=False),
    Column("family", String(32), nullable=False),
    Column("grade", String(1), nullable=False),
    Column("payload", Text, nullable=False),
)
"""One entity's fitted curve as JSON (`EntityCurve.to_dict`), addressed by its stable entity id."""
