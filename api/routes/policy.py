"""The account's standing plan policy: what publish, the nightly job and the what-if plan under."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentPrincipal, StoreEngine
from api.schemas import PolicyIn, PolicyOut
from optimizer.access import Action, require
from optimizer.usecases.authorized import account_as
from optimizer.usecases.policy import PlanPolicy, StoredPolicy, get_policy, set_policy

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["policy"])


def _out(stored: StoredPolicy) -> PolicyOut:
    return PolicyOut(
        account=stored.account,
        version=stored.version,
        created_at=stored.created_at,
        created_by=stored.created_by,
        **stored.policy.as_json(),
    )


@router.get("/accounts/{account}/policy")
def read(account: str, engine: StoreEngine, principal: CurrentPrincipal) -> PolicyOut:
    """The policy in force; version 0 is the default (+30% a day up at most, no limit down)."""
    return _out(get_policy(engine, principal, account))


@router.put("/accounts/{account}/policy")
def replace(
    account: str, body: PolicyIn, engine: StoreEngine, principal: CurrentPrincipal
) -> PolicyOut:
    """Replace the policy (a new, audited version); fields left out take their defaults."""
    require(principal, Action.POLICY_SET)
    acct = account_as(engine, principal, account)
    values = body.model_dump()
    values["groups"] = tuple(values["groups"])
    values["locked_campaigns"] = tuple(values["locked_campaigns"])
    values["decimal_comma"] = acct.decimal_comma(body.decimal_comma)
    return _out(set_policy(engine, principal, account, PlanPolicy(**values)))
