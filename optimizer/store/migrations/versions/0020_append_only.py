"""Append-only in the database (issue 20): the audit log is hash-chained (existing rows chained
here), and triggers refuse UPDATE, DELETE and TRUNCATE of the audit log and published plans and
every change to a cap except the one decision of a proposed cap, for every role, superusers too.

Revision ID: 0020
Revises: 0017 (kept last: a later batch migration of a guarded table on SQLite would
recreate it without its triggers)
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from optimizer.store.audit_chain import GENESIS, row_hash

revision = "0020"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None

_FROZEN = ("audit_log", "recommendations", "predictions")
"""Tables nobody changes once written: the log, and published plans with their predictions."""

_CAP_KEPT = (
    "id",
    "account_id",
    "period_start",
    "period_end",
    "amount_micros",
    "currency",
    "note",
    "proposed_by",
    "proposed_key_id",
    "proposed_user_id",
    "proposed_at",
    "replaces",
)
"""A cap's columns that its decision never changes."""

_CAP_RULE = "a decided cap never changes and caps are never deleted; a proposed cap is decided once"

_PG_FROZEN = """
CREATE OR REPLACE FUNCTION ppcopt_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql
"""

_PG_CAPS = f"""
CREATE OR REPLACE FUNCTION ppcopt_caps_decided_once() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'proposed' AND NEW.status IN ('approved', 'rejected')
       AND {" AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _CAP_KEPT)} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'caps: % refused: {_CAP_RULE}', TG_OP;
END;
$$ LANGUAGE plpgsql
"""

_SQLITE_CAPS_WHEN = " OR ".join(
    [
        "OLD.status <> 'proposed'",
        "NEW.status NOT IN ('approved', 'rejected')",
        *(f"NEW.{c} IS NOT OLD.{c}" for c in _CAP_KEPT),
    ]
)


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("prev_hash", sa.CHAR(64), nullable=True))
    op.add_column("audit_log", sa.Column("row_hash", sa.CHAR(64), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    _chain_existing_rows()
    if postgres:
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _chain_existing_rows() -> None:
    connection = op.get_bind()
    log = sa.table(
        "audit_log",
        *(
            sa.column(name)
            for name in (
                "id",
                "at",
                "actor",
                "actor_key_id",
                "role",
                "action",
                "account_id",
                "target",
                "before",
                "after",
                "prev_hash",
                "row_hash",
            )
        ),
    )
    prev = GENESIS
    rows = connection.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    for row in rows:
        current = row_hash(prev, row)
        connection.execute(
            sa.update(log).where(log.c.id == row["id"]).values(prev_hash=prev, row_hash=current)
        )
        prev = current


def _postgres_triggers() -> None:
    op.execute(_PG_FROZEN)
    for table in _FROZEN:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ppcopt_append_only()"
        )
    for table in (*_FROZEN, "caps"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ppcopt_append_only()"
        )
    op.execute(_PG_CAPS)
    op.execute(
        "CREATE TRIGGER caps_decided_once BEFORE UPDATE OR DELETE ON caps "
        "FOR EACH ROW EXECUTE FUNCTION ppcopt_caps_decided_once()"
    )
    for table in (*_FROZEN, "caps"):
        op.execute(f"REVOKE TRUNCATE ON {table} FROM PUBLIC")


def _sqlite_triggers() -> None:
    for table in _FROZEN:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END"
            )
    op.execute(
        f"CREATE TRIGGER caps_decided_once BEFORE UPDATE ON caps WHEN {_SQLITE_CAPS_WHEN} "
        f"BEGIN SELECT RAISE(ABORT, 'caps: UPDATE refused: {_CAP_RULE}'); END"
    )
    op.execute(
        "CREATE TRIGGER caps_no_delete BEFORE DELETE ON caps "
        f"BEGIN SELECT RAISE(ABORT, 'caps: DELETE refused: {_CAP_RULE}'); END"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table in (*_FROZEN, "caps"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        for table in _FROZEN:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP TRIGGER IF EXISTS caps_decided_once ON caps")
        op.execute("DROP FUNCTION IF EXISTS ppcopt_caps_decided_once()")
        op.execute("DROP FUNCTION IF EXISTS ppcopt_append_only()")
    else:
        for table in _FROZEN:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
        op.execute("DROP TRIGGER IF EXISTS caps_decided_once")
        op.execute("DROP TRIGGER IF EXISTS caps_no_delete")
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
    if postgres:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
