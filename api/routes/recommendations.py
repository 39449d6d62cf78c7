"""Publish a day's recommendation under the approved cap, and let ad scripts pull it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentPrincipal, StoreEngine, checked_with_key
from api.routes.caps import cap_out
from api.routes.plans import records, solver_request
from api.schemas import Day, ForecastDayOut, RecommendationIn, RecommendationOut
from optimizer.access import Action, require
from optimizer.money import micros_to_decimal
from optimizer.report import to_editor_csv, to_safe_csv
from optimizer.store.engine import AsyncReader
from optimizer.usecases.authorized import account_as
from optimizer.usecases.polling import PublishedRef, latest_for_key, latest_for_key_async
from optimizer.usecases.recommendations import (
    Recommendation,
    history,
    latest,
    publish,
)

__all__ = ["rendered_cache", "router"]

router = APIRouter(prefix="/v1", tags=["recommendations"])

Level = Literal["keyword", "campaign"]


def _out(rec: Recommendation, level: Level) -> RecommendationOut:
    return RecommendationOut(
        id=rec.id,
        account=rec.account,
        date=rec.date,
        level=level,
        currency=rec.currency,
        created_at=rec.created_at,
        created_by=rec.created_by,
        cap=cap_out(rec.cap),
        budget=str(micros_to_decimal(rec.budget_micros, rec.currency)),
        total_recommended=str(micros_to_decimal(rec.total_micros, rec.currency)),
        pacing=rec.pacing,
        notes=list(rec.notes),
        forecast=[
            ForecastDayOut(date=d, budget=str(micros_to_decimal(m, rec.currency)))
            for d, m in rec.forecast
        ],
        rows=[
            {**row, **extra}
            for row, extra in zip(
                records(rec.table(level)), rec.structure_columns(level), strict=True
            )
        ],
        budgets=rec.budgets(),
    )


@router.post(
    "/accounts/{account}/recommendations",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "no approved cap covers the date"}},
)
def publish_(
    account: str, body: RecommendationIn, engine: StoreEngine, principal: CurrentPrincipal
) -> RecommendationOut:
    """Compute and publish `date`'s budgets under the approved cap covering it (paced over the
    cap's period); `budget` may only lower the paced budget, never raise it."""
    require(principal, Action.RECOMMENDATION_PUBLISH)
    acct = account_as(engine, principal, account)
    request = solver_request(body, acct)
    rec = publish(engine, principal, account, body.date, request)
    return _out(rec, "campaign")


def _etag(tag: str, level: str, fmt: str) -> str:
    """A rendering's ETag: the recommendation's tag, per level and format."""
    return f'"{tag}-{level}-{fmt}"'


async def _latest_ref(
    request: Request,
    account: str,
    engine: StoreEngine,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> PublishedRef:
    """The key check and the latest id in one statement: ad scripts' polls are the service's hot
    path. On PostgreSQL it runs on the event loop (psycopg async); SQLite's runs in a thread."""
    reader: AsyncReader | None = request.app.state.poll_reader

    async def check(key: str) -> PublishedRef:
        if reader is not None:
            return await latest_for_key_async(reader, key, account)
        return await run_in_threadpool(latest_for_key, engine, key, account)

    return await checked_with_key(request, authorization, x_api_key, check)


@router.get(
    "/accounts/{account}/recommendations/latest",
    response_model=RecommendationOut,
    responses={
        200: {"content": {"text/csv": {}}},
        304: {"description": "unchanged since the ETag sent in If-None-Match"},
    },
)
async def latest_(
    account: str,
    request: Request,
    engine: StoreEngine,
    ref: Annotated[PublishedRef, Depends(_latest_ref)],
    level: Level = "campaign",
    format: Literal["json", "csv", "editor"] = "json",
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The latest published recommendation, with the cap it obeys and when it was made.
    `format=editor`: campaign budgets as a Google Ads Editor CSV import (Campaign, Budget)."""
    etag = _etag(ref.etag, level, format)
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": etag, **_NO_CACHE})
    rendered: _Rendered = request.app.state.rendered_recommendations
    page = rendered.get((ref.id, level, format))
    if page is None:
        page = await run_in_threadpool(
            lambda: _render(latest(engine, ref.principal, account), level, format)
        )
        rendered.put((page.rec_id, level, format), page)
    return Response(page.body, media_type=page.media_type, headers=page.headers)


_NO_CACHE = {"Cache-Control": "private, no-cache"}


@dataclass(frozen=True, slots=True)
class _Page:
    rec_id: int
    body: bytes
    media_type: str
    headers: dict[str, str]


class _Rendered:
    """Published recommendations never change, so each is rendered once per level and format;
    a script's poll then costs a key check and one indexed lookup."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._pages: OrderedDict[tuple[int, str, str], _Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str, str]) -> _Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[int, str, str], page: _Page) -> None:
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)


def rendered_cache() -> _Rendered:
    """One per app (ids repeat across stores)."""
    return _Rendered()


def _render(rec: Recommendation, level: Level, fmt: str) -> _Page:
    headers = {
        "ETag": _etag(rec.etag, level, fmt),
        **_NO_CACHE,
        "Last-Modified": rec.created_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "X-Recommendation-Id": str(rec.id),
        "X-Cap-Id": str(rec.cap.id),
    }
    if fmt == "csv":
        name = f"{rec.account}-{rec.date.isoformat()}-{level}.csv"
        headers["Content-Disposition"] = f'attachment; filename="{_ascii(name)}"'
        body = to_safe_csv(rec.table(level)).encode("utf-8")
        return _Page(rec.id, body, "text/csv; charset=utf-8", headers)
    if fmt == "editor":
        name = f"{rec.account}-{rec.date.isoformat()}-google-ads-editor.csv"
        headers["Content-Disposition"] = f'attachment; filename="{_ascii(name)}"'
        text, left_out = to_editor_csv(rec.table("campaign"))
        if left_out:
            headers["X-Zero-Budget-Campaigns"] = str(len(left_out))
        return _Page(rec.id, text.encode("utf-8"), "text/csv; charset=utf-8", headers)
    return _Page(rec.id, _out(rec, level).model_dump_json().encode(), "application/json", headers)


@router.get("/accounts/{account}/recommendations")
def history_(
    account: str,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    date: Day | None = None,
    level: Level = "campaign",
) -> list[RecommendationOut]:
    """Published recommendations, newest first (those for `date` when given; at most 100)."""
    account_as(engine, principal, account)
    return [_out(r, level) for r in history(engine, principal, account, date)]


def _ascii(name: str) -> str:
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in name)
