"""Uploads of daily performance: any format the ingest reads, or JSON rows."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentPrincipal, StoreEngine
from api.schemas import IngestOut, IssueOut
from api.upload import read_upload
from optimizer.access import Action, require
from optimizer.errors import RowIssue
from optimizer.usecases.authorized import account_as
from optimizer.usecases.ingest import IngestReport

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["performance"])

_UPLOAD_DOC = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {
            "schema": {"$ref": "#/components/schemas/PerformanceRowsIn"},
        },
    },
    "required": True,
}


def _issues(issues: tuple[RowIssue, ...]) -> list[IssueOut]:
    return [
        IssueOut(
            line=i.line,
            column=i.column,
            value=i.value,
            message=i.message,
            severity=i.severity,
            text=i.describe(),
        )
        for i in issues[:1000]
    ]


def _out(report: IngestReport) -> IngestOut:
    return IngestOut(
        account=report.account,
        source_name=report.source_name,
        format=report.format,
        rows_read=report.rows_read,
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=report.rejected,
        summary=report.summary(),
        errors=_issues(report.errors),
        warnings=_issues(report.warnings),
        notes=list(report.notes),
    )


@router.post(
    "/accounts/{account}/performance",
    openapi_extra={"requestBody": _UPLOAD_DOC},
    responses={
        413: {"description": "over the upload size limit"},
        415: {"description": "not multipart, CSV or JSON"},
    },
)
async def upload(
    account: str,
    request: Request,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    format: Annotated[str | None, Query(max_length=32)] = None,
    decimal_comma: bool | None = None,
    partial: bool = False,
    date_order: Annotated[Literal["DMY", "MDY"] | None, Query()] = None,
    sum_segments: bool = False,
) -> IngestOut:
    """Ingest an upload. Row errors reject the whole file (422, with line numbers) unless
    `partial=true`, which stores the good rows and reports the rejected ones. Dates such as
    03/11/2025 follow `date_order` (DMY or MDY), else what the file proves, else the account's
    locale, and are refused when none says; a segmented report needs `sum_segments=true`."""
    require(principal, Action.PERFORMANCE_WRITE)
    await run_in_threadpool(account_as, engine, principal, account)
    settings = request.app.state.settings
    data = await read_upload(request, settings.upload_limit_bytes)
    report = await request.app.state.ingest_pool.ingest(
        engine,
        principal,
        account,
        data.data,
        data.transform,
        source_name=data.name,
        format=format if data.format is None else data.format,
        partial=partial,
        decimal_comma=decimal_comma,
        date_order=date_order,
        sum_segments=sum_segments,
    )
    return _out(report)


@router.post(
    "/performance",
    openapi_extra={"requestBody": _UPLOAD_DOC},
    responses={
        413: {"description": "over the upload size limit"},
        415: {"description": "not multipart, CSV or JSON"},
    },
)
async def upload_accounts(
    request: Request,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    format: Annotated[str | None, Query(max_length=32)] = None,
    decimal_comma: bool | None = None,
    partial: bool = False,
    date_order: Annotated[Literal["DMY", "MDY"] | None, Query()] = None,
    sum_segments: bool = False,
) -> list[IngestOut]:
    """A manager (MCC) report: each row goes to the account its customer ID is linked to (or
    its account column names). Every account must be within the key's scope; an account that
    is not, or a row naming no known account, refuses the whole file."""
    require(principal, Action.PERFORMANCE_WRITE)
    settings = request.app.state.settings
    data = await read_upload(request, settings.upload_limit_bytes)
    reports = await request.app.state.ingest_pool.ingest_accounts(
        engine,
        principal,
        data.data,
        data.transform,
        source_name=data.name,
        format=format if data.format is None else data.format,
        partial=partial,
        decimal_comma=decimal_comma,
        date_order=date_order,
        sum_segments=sum_segments,
    )
    return [_out(report) for report in reports]
