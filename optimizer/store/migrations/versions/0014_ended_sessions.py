"""Sessions end at sign-out (issue 20): dashboard sessions signed out before their cookie expires.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "ended_sessions",
        sa.Column("session_sha256", sa.CHAR(64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_sha256", name="pk_ended_sessions"),
    )


def downgrade() -> None:
    op.drop_table("ended_sessions")
