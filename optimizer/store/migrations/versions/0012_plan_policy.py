"""The cap holds in real spend (issue 17): a standing plan policy per account, and what a published
plan and a run have to say (relaxed constraints, estimated spend, stale data); a cap may replace an
approved one (overlapping caps otherwise all apply).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "plan_policies",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_plan_policies_account_id_accounts"
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_policies"),
        sa.UniqueConstraint("account_id", "version", name="uq_plan_policies_account_id_version"),
    )
    with op.batch_alter_table("recommendations") as batch:
        batch.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default="[]"))
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
    with op.batch_alter_table("caps") as batch:
        batch.add_column(sa.Column("replaces", _ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("caps") as batch:
        batch.drop_column("replaces")
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("notes")
    with op.batch_alter_table("recommendations") as batch:
        batch.drop_column("notes")
    op.drop_table("plan_policies")
