"""People, not keys (issue 20): users named once, every key belongs to one user with one role.

Existing keys are grouped by label: each label, folded the way user names are (NFKC, case-folded,
trimmed, hidden characters dropped), becomes a user with the role of its oldest key, and every key
with that folded label and that role joins it. A key whose folded label is already a user of
another role gets its own user named `<label> (<role>)`, because a person has one role; a label
that folds to nothing becomes `key <id>`. Caps proposed or decided with a key get that key's user,
so four eyes over caps proposed before the upgrade compares people too.

Revision ID: 0017
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision: str | None = "0021"
branch_labels: str | None = None
depends_on: str | None = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_HIDDEN = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def _fold(label: str) -> str:
    shown = "".join(c for c in label if unicodedata.category(c) not in _HIDDEN)
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", shown).casefold())
    return " ".join(folded.split())[:100]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("oidc_subject", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_by_user_id", _Id, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.UniqueConstraint("oidc_subject", name="uq_users_oidc_subject"),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("user_id", _Id, nullable=True))
        batch.add_column(sa.Column("created_by", sa.Text, nullable=True))
        batch.add_column(sa.Column("created_by_user_id", _Id, nullable=True))
    with op.batch_alter_table("caps") as batch:
        batch.add_column(sa.Column("proposed_user_id", _Id, nullable=True))
        batch.add_column(sa.Column("decided_user_id", _Id, nullable=True))
    _keys_join_users(op.get_bind())
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("user_id", existing_type=_Id, nullable=False)
        batch.create_foreign_key("fk_api_keys_user_id_users", "users", ["user_id"], ["id"])


def _keys_join_users(connection: sa.Connection) -> None:
    meta = sa.MetaData()
    users = sa.Table("users", meta, autoload_with=connection)
    keys = sa.Table("api_keys", meta, autoload_with=connection)
    caps = sa.Table("caps", meta, autoload_with=connection)
    now = dt.datetime.now(dt.UTC)
    by_name: dict[str, tuple[int, str]] = {}
    for key in connection.execute(
        sa.select(keys.c.id, keys.c.label, keys.c.role).order_by(keys.c.id)
    ).all():
        name = _fold(key.label) or f"key {key.id}"
        found = by_name.get(name)
        if found is not None and found[1] != key.role:
            name = _fold(f"{name} ({key.role})")
            found = by_name.get(name)
        if found is None:
            user_id = connection.execute(
                sa.insert(users)
                .values(name=name, role=key.role, created_at=now, created_by="migration 0017")
                .returning(users.c.id)
            ).scalar_one()
            found = by_name[name] = (int(user_id), key.role)
        connection.execute(sa.update(keys).where(keys.c.id == key.id).values(user_id=found[0]))
    for key_column, user_column in (
        ("proposed_key_id", "proposed_user_id"),
        ("decided_key_id", "decided_user_id"),
    ):
        owner = sa.select(keys.c.user_id).where(keys.c.id == caps.c[key_column]).scalar_subquery()
        connection.execute(
            sa.update(caps).where(caps.c[key_column].is_not(None)).values({user_column: owner})
        )


def downgrade() -> None:
    with op.batch_alter_table("caps") as batch:
        batch.drop_column("decided_user_id")
        batch.drop_column("proposed_user_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("fk_api_keys_user_id_users", type_="foreignkey")
        batch.drop_column("created_by_user_id")
        batch.drop_column("created_by")
        batch.drop_column("user_id")
    op.drop_table("users")
