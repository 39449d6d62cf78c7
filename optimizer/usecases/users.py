"""Users: the people behind keys, dashboard sign-ins and the CLI's `--as`, named once.

A user has one role; their keys have it too. Four eyes over caps compares users, so two keys, two
spellings of a name or two sign-ins of one person are one person. Users are added by an admin (or
by creating a key for a new name); the identity provider's sign-in finds a user by `sub` or
verified email and never creates one unless the operator allows it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from optimizer.access import Action, Principal, Role, require
from optimizer.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from optimizer.people import user_name
from optimizer.store.engine import transaction
from optimizer.store.tables import api_key_accounts, api_keys, users
from optimizer.usecases.audit import record

__all__ = [
    "User",
    "add_user",
    "ensure_user",
    "find_user",
    "list_users",
    "principal_for_user_id",
    "signed_in_user",
    "user_principal",
]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    email: str | None
    created_at: dt.datetime
    created_by: str


def add_user(
    engine: Engine, principal: Principal, name: str, role: Role, *, email: str | None = None
) -> User:
    """A new user (admin only); ConflictError when the name, however spelt, is someone's."""
    require(principal, Action.KEYS_MANAGE)
    clean = user_name(name)
    mail = _email(email)
    with transaction(engine) as connection:
        if find_user(connection, clean) is not None:
            raise ConflictError(f"there is already a user named '{clean}'")
        if (
            mail is not None
            and connection.execute(select(users.c.id).where(users.c.email == mail)).first()
        ):
            raise ConflictError(f"another user already has the email address {mail}")
        return _insert(connection, principal, clean, role, mail)


def ensure_user(connection: Connection, principal: Principal, name: str, role: Role) -> User:
    """The user `name` (created with `role` when new, in the caller's transaction); a person has
    one role, so an existing user of another role is refused."""
    clean = user_name(name)
    found = find_user(connection, clean)
    if found is None:
        return _insert(connection, principal, clean, role, None)
    if found.role is not role:
        raise InvalidInputError(
            f"'{clean}' is a {found.role.value} user and a person has one role, so their keys are "
            f"{found.role.value} keys; a {role.value} key must belong to someone else"
        )
    return found


def find_user(connection: Connection, name: str) -> User | None:
    row = connection.execute(select(users).where(users.c.name == user_name(name))).one_or_none()
    return None if row is None else _user(row)


def list_users(engine: Engine, principal: Principal) -> list[User]:
    require(principal, Action.KEYS_MANAGE)
    with transaction(engine) as connection:
        return [_user(r) for r in connection.execute(select(users).order_by(users.c.id)).all()]


def user_principal(engine: Engine, name: str, *, via: str) -> Principal:
    """The CLI's `--as NAME`: that user, with their role, over every account (a local operator is
    trusted with the store); NotFoundError naming the way out for a name that is nobody's."""
    with transaction(engine) as connection:
        found = find_user(connection, name)
    if found is None:
        raise NotFoundError(
            f"no user named '{user_name(name)}'; `ppcopt users list` shows them, and an admin "
            "adds one with `ppcopt users add NAME --role ROLE`"
        )
    return Principal(role=found.role, label=f"{via}{found.name}", user_id=found.id, user=found.name)


def principal_for_user_id(engine: Engine, user_id: int) -> Principal:
    """A dashboard sign-in through the identity provider: the user's role from our table, looked up
    on every request; the accounts are those the user's active keys reach (an admin: all)."""
    with transaction(engine) as connection:
        row = connection.execute(select(users).where(users.c.id == user_id)).one_or_none()
        if row is None:
            raise AuthenticationError("the user of this session is gone; sign in again")
        user = _user(row)
        return Principal(
            role=user.role,
            label=user.name,
            user_id=user.id,
            user=user.name,
            account_ids=None if user.role is Role.ADMIN else _reach(connection, user.id),
        )


def signed_in_user(
    engine: Engine,
    *,
    subject: str,
    email: str | None,
    email_verified: bool,
    create_role: Role | None = None,
) -> User:
    """The user an identity provider's verified identity names: by `sub` first, then by verified
    email (binding the `sub` on that first sign-in). An unknown person is refused unless the
    operator set `create_role`; an email the provider did not verify never names anyone."""
    mail = _email(email) if email_verified and email else None
    with transaction(engine) as connection:
        row = connection.execute(select(users).where(users.c.oidc_subject == subject)).one_or_none()
        if row is None and mail is not None:
            row = connection.execute(
                select(users).where(users.c.email == mail, users.c.oidc_subject.is_(None))
            ).one_or_none()
            if row is not None:
                connection.execute(
                    update(users).where(users.c.id == row.id).values(oidc_subject=subject)
                )
        if row is not None:
            return _user(row)
        if create_role is None or mail is None:
            raise AuthenticationError(
                "your identity provider signed you in, but you are not a user here; ask an admin "
                "to add you (`ppcopt users add NAME --role ROLE --email ADDRESS`)"
            )
        system = Principal(role=Role.ADMIN, label="identity provider sign-in")
        if find_user(connection, mail) is not None:
            raise AuthenticationError(
                f"a user named '{mail}' exists with another identity; ask an admin to link it"
            )
        created = _insert(connection, system, mail, create_role, mail)
        connection.execute(
            update(users).where(users.c.id == created.id).values(oidc_subject=subject)
        )
        return created


def _reach(connection: Connection, user_id: int) -> frozenset[int] | None:
    keys = connection.execute(
        select(api_keys.c.id, api_keys.c.all_accounts).where(
            api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None)
        )
    ).all()
    if any(k.all_accounts for k in keys):
        return None
    return frozenset(
        int(a)
        for a in connection.execute(
            select(api_key_accounts.c.account_id).where(
                api_key_accounts.c.key_id.in_([int(k.id) for k in keys])
            )
        ).scalars()
    )


def _email(email: str | None) -> str | None:
    if email is None:
        return None
    clean = email.strip().lower()
    if "@" not in clean or len(clean) > 254 or any(c.isspace() for c in clean):
        raise InvalidInputError(f"'{email}' is not an email address")
    return clean


def _insert(
    connection: Connection, principal: Principal, name: str, role: Role, email: str | None
) -> User:
    now = dt.datetime.now(dt.UTC)
    user_id = connection.execute(
        insert(users)
        .values(
            name=name,
            role=role.value,
            email=email,
            created_at=now,
            created_by=principal.actor,
            created_by_user_id=principal.user_id,
        )
        .returning(users.c.id)
    ).scalar_one()
    user = User(int(user_id), name, role, email, now, principal.actor)
    record(
        connection,
        principal,
        "user.create",
        f"user {user.id}",
        after={"id": user.id, "name": name, "role": role.value, "email": email},
    )
    return user


def _user(row: Any) -> User:
    return User(
        id=int(row.id),
        name=row.name,
        role=Role(row.role),
        email=row.email,
        created_at=row.created_at,
        created_by=row.created_by,
    )
