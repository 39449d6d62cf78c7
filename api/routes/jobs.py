"""Nightly job runs: the record of every run, and running one account's pipeline now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.deps import CurrentPrincipal, StoreEngine, get_settings_dep
from api.schemas import JobRunOut
from jobs.metrics import observe
from optimizer.settings import Settings
from optimizer.usecases.nightly import JobRun, list_runs, run_nightly

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["jobs"])


def _out(run: JobRun) -> JobRunOut:
    return JobRunOut.model_validate(run.as_dict())


@router.get("/jobs/runs")
def runs(
    engine: StoreEngine,
    principal: CurrentPrincipal,
    account: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[JobRunOut]:
    """Recorded runs, newest first, with the step and reason of failed ones; a key scoped to
    some accounts sees only theirs."""
    return [_out(run) for run in list_runs(engine, principal, account_name=account, limit=limit)]


@router.post(
    "/accounts/{account}/jobs/nightly/run",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "a run of this account is in progress"}},
)
def run_now(
    account: str,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> JobRunOut:
    """Run the account's pipeline now: inbox, refit if the data changed, publish tomorrow under
    the approved cap. A failed step gives a recorded run with status `failed`, not an error."""
    run = run_nightly(engine, principal, account, trigger="manual", settings=settings)
    observe(run)
    return _out(run)
