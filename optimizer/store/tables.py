"""The database schema as SQLAlchemy Core tables; Alembic migrations (not `create_all`) build it.

Money and conversions are integer micros everywhere, so no float ever reaches the database. Later
features (curves, caps, recommendations, API keys, audit log) add their own tables in new migrations
and hang off `accounts` the same way.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
    func,
)

__all__ = [
    "NAMING_CONVENTION",
    "account_events",
    "account_links",
    "accounts",
    "api_key_accounts",
    "api_keys",
    "audit_log",
    "band_calibrations",
    "caps",
    "conversion_snapshots",
    "curve_sets",
    "curves",
    "ended_sessions",
    "entities",
    "experiments",
    "fit_contexts",
    "ingests",
    "job_locks",
    "job_runs",
    "lag_reports",
    "level_totals",
    "metadata",
    "performance",
    "plan_policies",
    "platform_structures",
    "predictions",
    "recommendations",
    "scheduler_jobs",
    "users",
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
    # CLDR locale id (de_DE, fa_IR): how the account's people write amounts and dates; None when
    # unknown, and then text that reads two ways is refused rather than guessed.
    Column("locale", String(35), nullable=True),
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
    Column("platform", String(16), nullable=False, server_default="other"),
    Column("customer_id", Text, nullable=False, server_default=""),
    Column("campaign_id", Text, nullable=False, server_default=""),
    Column("ad_group_id", Text, nullable=False, server_default=""),
    Column("criterion_id", Text, nullable=False, server_default=""),
    UniqueConstraint("account_id", "campaign", "ad_group", "keyword", "match_type"),
    # Target of performance's composite key, which keeps performance.account_id honest.
    UniqueConstraint("id", "account_id"),
    Index(
        "ix_entities_platform_ids",
        "account_id",
        "platform",
        "campaign_id",
        "ad_group_id",
        "criterion_id",
    ),
)
"""A campaign, ad group or keyword of one account; '' marks a level the entity is not at.

Who it is on its platform is `platform` and the platform's IDs (kept when a file has them): a
renamed campaign keeps its row, its history and its ID, and only its names (labels, unique per
account) change. The same names on two platforms are two entities; the second one's campaign label
carries its platform ("Brand [Microsoft Advertising]")."""

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
    Column("lost_is_budget", Float, nullable=True),
    ForeignKeyConstraint(
        ["entity_id", "account_id"], ["entities.id", "entities.account_id"], ondelete="CASCADE"
    ),
    # account_id repeats the entity's account: "this account, these dates" is one index range.
    Index(None, "account_id", "date"),
)
"""One entity's figures for one day: what a keyword (or a keyword-less campaign) spent, or the part
of a campaign's reported total that none of its keywords' rows shows (`level_totals`).
`lost_is_budget` is the share of impressions lost to the budget, when the export reports it."""

level_totals = Table(
    "level_totals",
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
    Index(None, "account_id", "date"),
)
"""A campaign's (or ad group's) own reported total for a day, as a Campaigns report gives it. It is
never added to its keywords: `performance` gets only the remainder no keyword row explains
(Performance Max, Display inside the campaign) when that is real, or the whole total when the
campaign has no keyword rows that day."""

account_links = Table(
    "account_links",
    metadata,
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("customer_id", Text, nullable=False),
    UniqueConstraint("platform", "customer_id"),
)
"""Which platform account (Google Ads customer ID, Microsoft Advertising account ID) an account is:
a manager (MCC) report's rows go to the account their customer ID is linked to."""

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

users = Table(
    "users",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("email", Text, nullable=True, unique=True),
    Column("oidc_subject", Text, nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_by_user_id", _Id, nullable=True),
)
"""A person, named once (`optimizer.people.user_name`: NFKC, case-folded, trimmed) with one role;
their keys, dashboard sign-ins and CLI `--as` act as them, and four eyes compares them. `email`
(lower-case) and `oidc_subject` (the identity provider's `sub`) let a sign-in find them."""

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_sha256", CHAR(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("label", Text, nullable=False),
    Column("all_accounts", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("user_id", _Id, ForeignKey("users.id"), nullable=False),
    Column("created_by", Text, nullable=True),
    Column("created_by_user_id", _Id, nullable=True),
)
"""An API key: found by its public prefix, checked by the SHA-256 of its secret (never stored).
It belongs to one user (`user_id`) and has that user's role; who created it is recorded
(`created_by`, and `created_by_user_id` when that was a user's key)."""

api_key_accounts = Table(
    "api_key_accounts",
    metadata,
    Column("key_id", _Id, ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
)
"""The accounts a key is scoped to (unless it is `all_accounts`)."""

caps = Table(
    "caps",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("amount_micros", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("note", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("proposed_by", Text, nullable=False),
    Column("proposed_key_id", _Id, nullable=True),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", Text, nullable=True),
    Column("decided_key_id", _Id, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("replaces", _Id, nullable=True),
    Column("proposed_user_id", _Id, nullable=True),
    Column("decided_user_id", _Id, nullable=True),
    Index(None, "account_id", "period_start"),
)
"""A spend cap for a period: proposed, then approved or rejected once; approved is final."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("actor_key_id", _Id, nullable=True),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("account_id", _Id, nullable=True),
    Column("target", Text, nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("prev_hash", CHAR(64), nullable=True),
    Column("row_hash", CHAR(64), nullable=True),
    Index(None, "account_id", "id"),
)
"""Every write: who, what, when, before and after (JSON). Triggers make it append-only, and each
row's `row_hash` covers its content and `prev_hash`, the row before's (`store.audit_chain`)."""

recommendations = Table(
    "recommendations",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("date", Date, nullable=False),
    Column("cap_id", _Id, ForeignKey("caps.id"), nullable=False),
    Column("curve_set_id", _Id, ForeignKey("curve_sets.id"), nullable=False),
    Column("budget_micros", BigInteger, nullable=False),
    Column("total_micros", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("pacing", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("notes", Text, nullable=False, server_default="[]"),
    Column("forecast", Text, nullable=False, server_default="[]"),
    Index(None, "account_id", "date"),
)
"""A published day plan (keyword rows as JSON, money in micros); the newest per account is live.
`forecast`: the period plan's path as JSON [[day, budget micros], ...], tomorrow first."""

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("run_key", String(80), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("scheduled_for", DateTime(timezone=True), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),
    Column("runner", Text, nullable=False),
    Column("rows_ingested", BigInteger, nullable=False),
    Column("files_processed", Integer, nullable=False),
    Column("files_rejected", Integer, nullable=False),
    Column("curves_refit", Boolean, nullable=False),
    Column("curve_set_version", Integer, nullable=True),
    Column("recommendation_id", _Id, nullable=True),
    Column("error", Text, nullable=True),
    Column("notes", Text, nullable=True),
    UniqueConstraint("account_id", "run_key"),
    Index(None, "started_at"),
)
"""One nightly (or manual) pipeline run; the unique run key lets only one scheduler run a night."""

predictions = Table(
    "predictions",
    metadata,
    Column(
        "recommendation_id",
        _Id,
        ForeignKey("recommendations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("entity_id", String(32), primary_key=True),
    Column("account_id", _Id, nullable=False),
    Column("date", Date, nullable=False),
    Column("curve_set_id", _Id, nullable=False),
    Column("recommended_micros", BigInteger, nullable=False),
    Column("expected_conversions", Float, nullable=False),
    Column("conversions_low", Float, nullable=False),
    Column("conversions_high", Float, nullable=False),
    Column("expected_value", Float, nullable=False),
    Index(None, "account_id", "date"),
)
"""The ledger: what a published plan predicted per entity for its day (written with the plan)."""

band_calibrations = Table(
    "band_calibrations",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("curve_set_id", _Id, ForeignKey("curve_sets.id", ondelete="CASCADE"), nullable=False),
    Column("scale", Float, nullable=False),
    Column("coverage_before", Float, nullable=False),
    Column("coverage_after", Float, nullable=False),
    Column("weeks", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
)
"""An account's band scale from a backtest; it applies to the curve set it was made on and later."""

plan_policies = Table(
    "plan_policies",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("policy", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    UniqueConstraint("account_id", "version"),
)
"""The account's standing plan policy, one row per version (the newest applies); never updated."""

platform_structures = Table(
    "platform_structures",
    metadata,
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", Text, nullable=False),
    Column("structure", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("received_by", Text, nullable=False),
)
"""The account's Google Ads structure as the ad script last sent it (JSON, see
`optimizer.platform.structure`); replaced when a different one arrives (`digest` tells)."""
experiments = Table(
    "experiments",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("entity_id", String(32), nullable=False),
    Column("label", Text, nullable=False),
    Column("design", Text, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("base_micros", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("stop_reason", Text, nullable=True),
    Column("cap_id", _Id, ForeignKey("caps.id"), nullable=False),
    Column("cap_micros", BigInteger, nullable=False),
    Column("curve_set_id", _Id, nullable=False),
    Column("elasticity_before", Float, nullable=False),
    Column("sd_before", Float, nullable=False),
    Column("predicted_sd_after", Float, nullable=False),
    Column("expected_cost", Float, nullable=False),
    Column("expected_gain", Float, nullable=False),
    Column("readout", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index(None, "account_id", "status"),
)
"""A spend test on one entity (`optimizer.experiments`): its design, dates, expected cost and
gain, status (running, ended, stopped, scored) and, once scored, its read-out as JSON."""

job_locks = Table(
    "job_locks",
    metadata,
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("holder", Text, nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
"""The run lock of an account on SQLite (PostgreSQL uses advisory locks); stale once expired."""

scheduler_jobs = Table(
    "apscheduler_jobs",
    metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
"""APScheduler 3's SQLAlchemyJobStore table, made by a migration so schedulers never race on it."""

conversion_snapshots = Table(
    "conversion_snapshots",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("campaign", Text, nullable=False),
    Column("date", Date, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("conversions_micros", BigInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index(None, "account_id", "as_of"),
)
"""What one upload said a campaign's conversions were on a day (its recent days only): a day's
conversions grow across uploads as they are reported, and this is what the lag profile is learned
from. `as_of` is the upload's last date; `id` orders the uploads."""

lag_reports = Table(
    "lag_reports",
    metadata,
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("source_name", Text, nullable=False),
    Column("profile", Text, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)
"""The account's conversion-lag report (Google Ads), as the profile read from it (JSON)."""

account_events = Table(
    "account_events",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", _Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", Text, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("lift", Float, nullable=True),
    Index(None, "account_id", "first_day"),
)
"""A promotion, outage or excluded stretch of an account's days: confirmed (the fit uses it),
proposed by the fit (a person confirms or dismisses it) or dismissed. `lift`: a promotion's stated
factor on conversions per unit of spend, which period plans weigh its days by (none: ordinary)."""

fit_contexts = Table(
    "fit_contexts",
    metadata,
    Column("curve_set_id", _Id, ForeignKey("curve_sets.id", ondelete="CASCADE"), primary_key=True),
    Column("payload", Text, nullable=False),
)
"""A curve set's facts beyond its curves (grain, lag profile, proposed events) as JSON."""

ended_sessions = Table(
    "ended_sessions",
    metadata,
    Column("session_sha256", CHAR(64), primary_key=True),
    Column("ended_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
"""Dashboard sessions signed out before their cookie expires (the SHA-256 of the session id, not
the id): a copy of the cookie is refused from sign-out on. Rows past `expires_at` are dropped."""
