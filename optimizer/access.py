"""Who may do what: roles, actions and the one table that joins them.

Pure core: the API, the CLI and the nightly job all authorise through `require`, so a rule is
written once. Finance decides caps and nobody else does (not even admin: separation of duties);
scripts upload their accounts' performance, send the platform structure and read published
recommendations, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from optimizer.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from optimizer.people import person_of

__all__ = [
    "LOCAL_OPERATOR",
    "RIGHTS",
    "Action",
    "Principal",
    "Role",
    "can",
    "no_such_account",
    "parse_role",
    "require",
    "require_account",
    "system_principal",
]


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    FINANCE = "finance"
    SCRIPT = "script"


class Action(StrEnum):
    ACCOUNT_CREATE = "account.create"
    ACCOUNT_READ = "account.read"
    PERFORMANCE_WRITE = "performance.write"
    FIT_RUN = "fit.run"
    CURVES_READ = "curves.read"
    WHAT_IF = "optimize.what_if"
    CAP_PROPOSE = "cap.propose"
    CAP_DECIDE = "cap.decide"
    CAP_READ = "cap.read"
    RECOMMENDATION_PUBLISH = "recommendation.publish"
    RECOMMENDATION_READ = "recommendation.read"
    AUDIT_READ = "audit.read"
    KEYS_MANAGE = "keys.manage"
    JOBS_RUN = "jobs.run"
    JOBS_READ = "jobs.read"
    EVENTS_WRITE = "events.write"
    EVENTS_READ = "events.read"
    POLICY_SET = "policy.set"
    POLICY_READ = "policy.read"
    STRUCTURE_WRITE = "structure.write"


_A, _M, _F, _S = Role.ADMIN, Role.MANAGER, Role.FINANCE, Role.SCRIPT

RIGHTS: dict[Action, frozenset[Role]] = {
    Action.ACCOUNT_CREATE: frozenset({_A}),
    Action.ACCOUNT_READ: frozenset({_A, _M, _F, _S}),
    Action.PERFORMANCE_WRITE: frozenset({_A, _M, _S}),
    Action.FIT_RUN: frozenset({_A, _M}),
    Action.CURVES_READ: frozenset({_A, _M, _F}),
    Action.WHAT_IF: frozenset({_A, _M, _F}),
    Action.CAP_PROPOSE: frozenset({_M, _F}),
    Action.CAP_DECIDE: frozenset({_F}),
    Action.CAP_READ: frozenset({_A, _M, _F}),
    Action.RECOMMENDATION_PUBLISH: frozenset({_A, _M}),
    Action.RECOMMENDATION_READ: frozenset({_A, _M, _F, _S}),
    Action.AUDIT_READ: frozenset({_A, _F}),
    Action.KEYS_MANAGE: frozenset({_A}),
    Action.JOBS_RUN: frozenset({_A, _M}),
    Action.JOBS_READ: frozenset({_A, _M, _F}),
    Action.EVENTS_WRITE: frozenset({_A, _M}),
    Action.EVENTS_READ: frozenset({_A, _M, _F}),
    Action.POLICY_SET: frozenset({_A, _M}),
    Action.POLICY_READ: frozenset({_A, _M, _F}),
    Action.STRUCTURE_WRITE: frozenset({_A, _M, _S}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: an API key (`key_id`), or a local operator / the scheduler (`key_id` None).

    `user_id` and `user` name the person (a row of `users`) behind a key, a dashboard sign-in or
    the CLI's `--as`; a trusted system principal has none. `account_ids` None means every account.
    """

    role: Role
    label: str
    key_id: int | None = None
    account_ids: frozenset[int] | None = None
    user_id: int | None = None
    user: str | None = None

    @property
    def actor(self) -> str:
        if self.key_id is None:
            return self.label
        owner = "" if self.user is None or self.user == self.label else f" of {self.user}"
        return f"key {self.key_id} ({self.label}){owner}"

    @property
    def person(self) -> str:
        """The person acting, as four eyes compares them: the user's (normalised) name, else the
        folded label of a trusted system principal."""
        return self.user if self.user is not None else person_of(self.label)


def system_principal(label: str, role: Role = Role.ADMIN) -> Principal:
    """The CLI's local operator or the nightly job: trusted, all accounts, named in the audit."""
    return Principal(role=role, label=label)


LOCAL_OPERATOR = system_principal("local operator")
"""Who the audit log names for a write made from this machine's command line."""


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"role must be one of {names}, not '{text}'") from None


def can(principal: Principal, action: Action) -> bool:
    return principal.role in RIGHTS[action]


def require(principal: Principal, action: Action) -> None:
    """PermissionDeniedError unless the principal's role may do `action`."""
    if not can(principal, action):
        allowed = ", ".join(sorted(r.value for r in RIGHTS[action]))
        raise PermissionDeniedError(
            f"a {principal.role.value} key may not do {action.value}; this needs a key with "
            f"role {allowed}"
        )


def no_such_account(name: str) -> NotFoundError:
    """The one answer for an account that does not exist and one outside the caller's scope: the
    same words either way, so a scoped key cannot learn which other accounts exist."""
    return NotFoundError(
        f"no account named '{name}' that you can see; list yours with GET /v1/accounts or "
        "`ppcopt accounts list`, create one with `ppcopt accounts create`"
    )


def require_account(principal: Principal, account_id: int, account_name: str) -> None:
    """NotFoundError (not 403) for an account outside the key's scope: its existence is private.

    Callers check the role (`require`) first, so a key whose role may not act learns nothing."""
    if principal.account_ids is not None and account_id not in principal.account_ids:
        raise no_such_account(account_name)
