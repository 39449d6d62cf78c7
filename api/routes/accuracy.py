"""Proof for finance: how well the published plans predicted (the ledger), and the month's
report."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import CurrentPrincipal, StoreEngine
from api.routes.plans import records
from api.schemas import AccuracyOut
from api.ui.views import report_html
from optimizer.usecases.accuracy import DEFAULT_MATURE_DAYS, ledger_accuracy

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["accuracy"])


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@router.get("/accounts/{account}/accuracy")
def accuracy(
    account: str,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    since: Annotated[dt.date | None, Query()] = None,
    until: Annotated[dt.date | None, Query()] = None,
    mature_days: Annotated[int, Query(ge=0, le=366)] = DEFAULT_MATURE_DAYS,
) -> AccuracyOut:
    """Published predictions against reported performance, at the spend actually made; days
    younger than `mature_days` are left out (their conversions are still arriving)."""
    result = ledger_accuracy(
        engine, principal, account, since=since, until=until, mature_days=mature_days
    )
    scores = result.accuracy
    return AccuracyOut(
        account=result.account,
        start=result.start,
        end=result.end,
        published_days=result.plans,
        days=scores.days,
        entities=scores.entities,
        predicted=scores.predicted,
        actual=scores.actual,
        total_error=_finite(scores.total_error),
        median_abs_error=_finite(scores.median_abs_error),
        median_abs_pct_error=_finite(scores.median_abs_pct_error),
        coverage_80=scores.coverage,
        daily_bias=_finite(scores.daily_bias),
        band_scale=result.band_scale,
        campaigns=records(scores.by_campaign),
    )


@router.get("/accounts/{account}/reports/{period}", response_class=HTMLResponse)
def report(
    account: str,
    period: str,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    lang: Annotated[Literal["en", "fa"] | None, Query()] = None,
    calendar: Annotated[Literal["gregorian", "jalali"], Query()] = "gregorian",
) -> HTMLResponse:
    """The month's report (`period` like 2026-11) as one self-contained HTML page, in English or
    Persian (default: the account's locale's language), dates in the Gregorian or Jalali
    calendar; `ppcopt report --pdf` prints it."""
    return HTMLResponse(report_html(engine, principal, account, period, lang, calendar))
