"""A promotion's stated lift (issue 17): period plans weigh a planned promotion's days by it; and
a published plan keeps its period plan's forecast path (each remaining day's planned budget).

Revision ID: 0022
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_events") as batch:
        batch.add_column(sa.Column("lift", sa.Float(), nullable=True))
    with op.batch_alter_table("recommendations") as batch:
        batch.add_column(sa.Column("forecast", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("recommendations") as batch:
        batch.drop_column("forecast")
    with op.batch_alter_table("account_events") as batch:
        batch.drop_column("lift")
