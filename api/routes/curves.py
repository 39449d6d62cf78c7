"""Fits and fitted curves: refit an account, list its curves, one curve's detail and plot."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, Request, Response, status

from api.cancel import run_while_connected
from api.deps import CurrentPrincipal, StoreEngine
from api.schemas import CurveOut, FitOut
from optimizer.errors import NotFoundError
from optimizer.models.curves import EntityCurve
from optimizer.plots import curve_figure, figure_bytes, per_day
from optimizer.schema import NAME_COLUMNS
from optimizer.store.curves import StoredCurveSet
from optimizer.usecases.authorized import curves_as, fit_as, history_as

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["curves"])


def _curve(curve: EntityCurve, *, detail: bool = False) -> CurveOut:
    d = curve.diagnostics
    return CurveOut(
        entity_id=curve.entity_id,
        campaign=curve.key.campaign,
        ad_group=curve.key.ad_group,
        keyword=curve.key.keyword,
        match_type=curve.key.match_type,
        family=curve.lookup_name,
        grade=d.grade,
        reason=d.reason,
        pooled=d.pooled,
        current_spend=curve.current_spend,
        trust_low=curve.trust_low,
        trust_high=curve.trust_high,
        days=d.days,
        conversions=d.conversions,
        skill=d.skill,
        mode=d.mode,
        budget_limited=d.budget_limited,
        detail=curve.to_dict() if detail else None,
    )


def _find(stored: StoredCurveSet, entity_id: str) -> EntityCurve:
    for curve in stored.curve_set:
        if curve.entity_id == entity_id:
            return curve
    raise NotFoundError(f"no fitted curve with id '{entity_id}' in the latest fit")


@router.post("/accounts/{account}/fits", status_code=status.HTTP_201_CREATED)
async def refit(
    account: str,
    request: Request,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    only_if_changed: bool = False,
) -> FitOut:
    """Fit every campaign and keyword of the account from its stored history; a client that
    goes away cancels the fit (nothing is stored)."""
    outcome = await run_while_connected(
        request, fit_as, engine, principal, account, only_if_changed=only_if_changed
    )
    cs = outcome.stored.curve_set
    return FitOut(
        account=outcome.account.name,
        version=outcome.stored.version,
        refitted=outcome.refitted,
        entities=len(cs),
        skipped=len(cs.skipped),
        window_start=cs.window_start,
        window_end=cs.window_end,
        fitted_at=cs.fitted_at,
    )


@router.get("/accounts/{account}/curves")
def list_curves(
    account: str,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    campaign: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CurveOut]:
    """The latest fit's curves with their diagnostics, by campaign then keyword."""
    curves = [
        c for c in curves_as(engine, principal, account).curve_set
        if campaign is None or c.key.campaign == campaign
    ]  # fmt: skip
    return [_curve(c) for c in curves[offset : offset + limit]]


@router.get("/accounts/{account}/curves/{entity_id}")
def get_curve(
    account: str, entity_id: str, engine: StoreEngine, principal: CurrentPrincipal
) -> CurveOut:
    """One curve with its parameters, bands, calendar and full diagnostics."""
    return _curve(_find(curves_as(engine, principal, account), entity_id), detail=True)


@router.get(
    "/accounts/{account}/curves/{entity_id}/plot.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def plot_curve(
    account: str, entity_id: str, engine: StoreEngine, principal: CurrentPrincipal
) -> Response:
    """The curve with its observed days (by weekday), band, trust region and current spend."""
    stored = curves_as(engine, principal, account)
    curve = _find(stored, entity_id)
    start = stored.curve_set.window_start
    history = history_as(engine, principal, account, start=start)
    mask = pd.Series(True, index=history.index)
    for name in NAME_COLUMNS:
        mask &= history[name] == getattr(curve.key, name)
    rows = per_day(history.loc[mask].reset_index(drop=True), stored.curve_set.grain)
    png = figure_bytes(curve_figure(curve, rows), "png")
    return Response(png, media_type="image/png")
