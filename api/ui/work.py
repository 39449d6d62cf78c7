"""The dashboard's working pages: upload, what-if and policy, publish and download, run the
nightly job, and a cap's numbers for finance.

Each handler checks the session (and the CSRF token on POST), calls the use case the API calls
and renders the answer. A form with a mistake comes back with what was typed and the error next to
its field (422); every page reads without JavaScript, and with it the upload shows its progress and
the what-if updates in place.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal, cast
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, StoreEngine
from api.schemas import LAST_DAY
from api.ui import whatif
from api.ui.background import start_nightly
from api.ui.guard import checked_post, redirect, require_csrf, signed_in
from api.ui.render import UiRoute, inline_svg, page, partial
from api.ui.session import Session
from api.upload import read_upload
from optimizer.access import Action, Principal, can, require
from optimizer.errors import ConflictError, InvalidInputError, NotFoundError, OptimizerError
from optimizer.io.dates import EARLIEST_DATE
from optimizer.plots import cap_pacing_figure
from optimizer.report import to_editor_csv, to_safe_csv
from optimizer.schema import MICROS
from optimizer.usecases.accounts import Account
from optimizer.usecases.authorized import account_as
from optimizer.usecases.cap_review import CapReview, review_cap
from optimizer.usecases.caps import list_caps, propose_cap
from optimizer.usecases.ingest import IngestReport
from optimizer.usecases.nightly import JobRun, list_runs
from optimizer.usecases.optimize import tomorrow
from optimizer.usecases.policy import get_policy, set_policy
from optimizer.usecases.recommendations import Recommendation, latest, publish

__all__ = ["cap_review_view", "propose_with_form", "router"]

router = APIRouter(route_class=UiRoute)
_Csrf = Annotated[str, Form(max_length=200)]
_STEPS = ("inbox", "fit", "publish")
_REFRESH_SECONDS = 2
"""How often a running run's page reloads itself without JavaScript (the script polls faster)."""
_CAP_FIELD_WORDS = (
    ("note", "note"),
    ("amount", "amount"),
    ("period_end", "period"),
    ("period_end", "days"),
)


# -- upload -----------------------------------------------------------------------------------


@router.get("/accounts/{account}/upload", response_class=HTMLResponse)
def upload_page(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    require(principal, Action.PERFORMANCE_WRITE)
    acct = account_as(engine, principal, account)
    return page(request, session, "upload.html", me=principal, account=acct, typed={})


@router.post("/accounts/{account}/upload", response_class=HTMLResponse)
async def upload(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    """The file goes through the same ingest pool as `POST /v1/accounts/{a}/performance`; the
    report (or the rows that refused the file) is shown as a table."""
    session, principal = await run_in_threadpool(signed_in, request, engine)
    require(principal, Action.PERFORMANCE_WRITE)
    acct = await run_in_threadpool(account_as, engine, principal, account)
    data = await read_upload(request, request.app.state.settings.upload_limit_bytes)
    require_csrf(session, data.fields.get("csrf", ""))
    typed = {k: data.fields.get(k, "") for k in ("partial", "date_order")}
    date_order = typed["date_order"] if typed["date_order"] in ("DMY", "MDY") else None
    try:
        report: IngestReport = await request.app.state.ingest_pool.ingest(
            engine,
            principal,
            acct.name,
            data.data,
            source_name=data.name,
            format=None,
            partial=typed["partial"] == "on",
            date_order=cast(Literal["DMY", "MDY"] | None, date_order),
        )
    except InvalidInputError as exc:
        return page(
            request,
            session,
            "upload.html",
            status=422,
            me=principal,
            account=acct,
            typed=typed,
            error=exc.message,
            issues=exc.issues[:1000],
            source=data.name,
        )
    return page(
        request, session, "upload.html", me=principal, account=acct, typed=typed, report=report
    )


# -- what-if and policy -----------------------------------------------------------------------


def _whatif_page(
    request: Request,
    session: Session,
    engine: StoreEngine,
    principal: Principal,
    acct: Account,
    typed: whatif.Typed,
    *,
    status: int = 200,
    message: str = "",
) -> HTMLResponse:
    campaigns = whatif.campaigns_of(engine, principal, acct)
    errors: dict[str, str] = {}
    answer = None
    if not campaigns:
        message = message or (
            "No fitted curves yet: upload performance and run the nightly job (or ppcopt fit) "
            "first; the what-if plans on the curves."
        )
    else:
        options, errors = whatif.field_errors(typed.body(), acct)
        if options is not None:
            try:
                answer = whatif.run_whatif(engine, principal, acct, options)
            except OptimizerError as exc:
                errors = {"form": exc.message}
    stored = get_policy(engine, principal, acct.name)
    return page(
        request,
        session,
        "whatif.html",
        status=422 if errors and status == 200 else status,
        me=principal,
        account=acct,
        typed=typed,
        errors=errors,
        answer=answer,
        campaigns=campaigns,
        policy=stored,
        can_save=can(principal, Action.POLICY_SET),
        message=message,
        wide=True,
    )


@router.get("/accounts/{account}/whatif", response_class=HTMLResponse)
def whatif_page(
    request: Request,
    engine: StoreEngine,
    account: str,
    saved: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """The form starts from the standing policy, and shows the plan it makes."""
    session, principal = signed_in(request, engine)
    require(principal, Action.WHAT_IF)
    acct = account_as(engine, principal, account)
    stored = get_policy(engine, principal, acct.name)
    message = f"Saved as the standing policy (version {saved})." if saved else ""
    typed = whatif.typed_from_policy(stored.policy)
    return _whatif_page(request, session, engine, principal, acct, typed, message=message)


@router.post("/accounts/{account}/whatif", response_class=HTMLResponse)
async def whatif_post(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    """The form (no script) answers with the page; the script's JSON (the API's request body,
    with the token in `X-CSRF-Token`) answers with the result section only."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        raw = await request.body()
        return await run_in_threadpool(_whatif_json, request, engine, account, raw)
    form = await request.form(max_files=0, max_fields=3000)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return await run_in_threadpool(_whatif_form, request, engine, account, fields)


def _whatif_form(
    request: Request, engine: StoreEngine, account: str, form: dict[str, str]
) -> HTMLResponse:
    session, principal = checked_post(request, engine, form.get("csrf", ""))
    require(principal, Action.WHAT_IF)
    acct = account_as(engine, principal, account)
    return _whatif_page(request, session, engine, principal, acct, whatif.typed_from_form(form))


def _whatif_json(request: Request, engine: StoreEngine, account: str, raw: bytes) -> HTMLResponse:
    _, principal = checked_post(request, engine, request.headers.get("x-csrf-token", ""))
    require(principal, Action.WHAT_IF)
    acct = account_as(engine, principal, account)
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise InvalidInputError("the what-if request is not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidInputError("the what-if request must be a JSON object")
    options, errors = whatif.field_errors(body, acct)
    answer = None
    if options is not None:
        try:
            answer = whatif.run_whatif(engine, principal, acct, options)
        except OptimizerError as exc:
            errors = {"form": exc.message}
    return partial(
        "whatif_result.html",
        status=422 if errors else 200,
        account=acct,
        answer=answer,
        errors=errors,
        errors_json=json.dumps(errors, ensure_ascii=False),
    )


@router.post("/accounts/{account}/policy", response_class=HTMLResponse)
async def save_policy(request: Request, engine: StoreEngine, account: str) -> Response:
    """The what-if's limits become the account's standing policy (a new audited version), the
    one publish and the nightly job plan under."""
    form = await request.form(max_files=0, max_fields=3000)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return await run_in_threadpool(_save_policy, request, engine, account, fields)


def _save_policy(
    request: Request, engine: StoreEngine, account: str, form: dict[str, str]
) -> Response:
    session, principal = checked_post(request, engine, form.get("csrf", ""))
    require(principal, Action.POLICY_SET)
    acct = account_as(engine, principal, account)
    typed = whatif.typed_from_form(form)
    options, _ = whatif.field_errors(typed.body(), acct)
    if options is None:
        return _whatif_page(request, session, engine, principal, acct, typed, status=422)
    before = get_policy(engine, principal, acct.name).policy
    policy = whatif.policy_from(options, before, acct.decimal_comma(options.decimal_comma))
    try:
        stored = set_policy(engine, principal, acct.name, policy)
    except InvalidInputError as exc:
        message = f"Not saved: {exc.message}"
        return _whatif_page(
            request, session, engine, principal, acct, typed, status=422, message=message
        )
    return redirect(f"/ui/accounts/{_quoted(acct.name)}/whatif?saved={stored.version}")


# -- publish, download, nightly ---------------------------------------------------------------


def _latest(engine: StoreEngine, principal: Principal, name: str) -> Recommendation | None:
    try:
        return latest(engine, principal, name)
    except NotFoundError:
        return None


@router.get("/accounts/{account}/plan", response_class=HTMLResponse)
def plan_page(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    acct = account_as(engine, principal, account)
    rec = _latest(engine, principal, acct.name)
    rows = rec.table("campaign").to_dict("records") if rec is not None else []
    left_out = to_editor_csv(rec.table("campaign"))[1] if rec is not None else []
    runs = (
        list_runs(engine, principal, account_name=acct.name, limit=5)
        if can(principal, Action.JOBS_READ)
        else []
    )
    return page(
        request,
        session,
        "plan.html",
        me=principal,
        account=acct,
        rec=rec,
        rows=rows,
        left_out=left_out,
        runs=runs,
        day=tomorrow(acct),
        can_publish=can(principal, Action.RECOMMENDATION_PUBLISH),
        can_run=can(principal, Action.JOBS_RUN),
        error=request.query_params.get("error", "")[:500],
    )


@router.post("/accounts/{account}/publish", response_class=HTMLResponse)
def publish_now(request: Request, engine: StoreEngine, account: str, csrf: _Csrf) -> Response:
    """Tomorrow's plan (in the account's time zone) under the approved cap and the policy."""
    _, principal = checked_post(request, engine, csrf)
    require(principal, Action.RECOMMENDATION_PUBLISH)
    acct = account_as(engine, principal, account)
    publish(engine, principal, acct.name, tomorrow(acct))
    return redirect(f"/ui/accounts/{_quoted(acct.name)}/plan")


@router.get("/accounts/{account}/plan/download")
def download(
    request: Request,
    engine: StoreEngine,
    account: str,
    format: Annotated[Literal["csv", "editor"], Query()] = "csv",
    level: Annotated[Literal["campaign", "keyword"], Query()] = "campaign",
) -> Response:
    """The latest published plan as the API's CSV or as a Google Ads Editor import."""
    _, principal = signed_in(request, engine)
    acct = account_as(engine, principal, account)
    rec = latest(engine, principal, acct.name)
    stem = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in acct.name)
    if format == "editor":
        text, _ = to_editor_csv(rec.table("campaign"))
        name = f"{stem}-{rec.date.isoformat()}-google-ads-editor.csv"
    else:
        text = to_safe_csv(rec.table(level))
        name = f"{stem}-{rec.date.isoformat()}-{level}.csv"
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/accounts/{account}/nightly", response_class=HTMLResponse)
def run_now(request: Request, engine: StoreEngine, account: str, csrf: _Csrf) -> Response:
    """The nightly pipeline now (inbox, fit if the data changed, publish tomorrow), as
    `POST /v1/accounts/{a}/jobs/nightly/run`, but without waiting for it: the run goes on in the
    server and its page shows each step as it comes. While a run of the account is in progress
    (a second click), its page is shown instead of starting another."""
    _, principal = checked_post(request, engine, csrf)
    require(principal, Action.JOBS_RUN)
    acct = account_as(engine, principal, account)
    try:
        run: JobRun | None = start_nightly(engine, principal, acct.name, request.app.state.settings)
    except ConflictError:
        runs = list_runs(engine, principal, account_name=acct.name, limit=20)
        run = next((r for r in runs if r.status == "running"), None)
    if run is None or run.id is None:
        return redirect(f"/ui/jobs?account={_quoted(acct.name)}")
    return redirect(f"/ui/jobs/{run.id}?account={_quoted(acct.name)}")


@router.get("/jobs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    engine: StoreEngine,
    run_id: RowId,
    account: Annotated[str, Query(max_length=200)],
) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    acct = account_as(engine, principal, account)
    runs = list_runs(engine, principal, account_name=acct.name, limit=1000)
    run = next((r for r in runs if r.id == run_id), None)
    if run is None:
        raise NotFoundError(f"no job run {run_id} of account '{acct.name}'")
    return page(
        request,
        session,
        "run.html",
        me=principal,
        account=acct,
        run=run,
        steps=_steps(run),
        refresh=_REFRESH_SECONDS if run.status == "running" else None,
    )


def _steps(run: JobRun) -> list[dict[str, str]]:
    """Each step of the pipeline with what it did, where it failed, and what it never reached;
    while the run lasts, the steps done, the one it is on and the ones still to come."""
    failed = (run.error or "").partition(":")[0] if run.status == "failed" else ""
    reason = (run.error or "").partition(":")[2].strip()
    if failed and failed not in _STEPS and run.current_step in _STEPS:
        failed, reason = str(run.current_step), run.error or ""  # interrupted in that step
    current = run.current_step if run.status == "running" else None
    if run.status == "running" and current not in _STEPS:
        current = _STEPS[0] if current in (None, "start") else None  # None: past the last shown
    reached = True
    out = []
    for step in _STEPS:
        if not reached:
            status = "waiting" if run.status == "running" else "not reached"
            out.append({"step": step, "status": status, "detail": ""})
            continue
        if step == current:
            out.append({"step": step, "status": "running", "detail": ""})
            reached = False
            continue
        if step == failed:
            out.append({"step": step, "status": "failed", "detail": reason})
            reached = False
            continue
        if step == "inbox":
            detail = (
                f"{run.files_processed} file(s) stored, {run.files_rejected} rejected, "
                f"{run.rows_ingested:,} rows"
            )
        elif step == "fit":
            detail = (
                f"curves refitted (version {run.curve_set_version})"
                if run.curves_refit
                else f"data unchanged: curves version {run.curve_set_version} kept"
            )
        else:
            detail = f"published recommendation #{run.recommendation_id}"
        status = "succeeded"
        out.append({"step": step, "status": status, "detail": detail})
    return out


# -- caps ---------------------------------------------------------------------------------------


def cap_review_view(engine: StoreEngine, principal: Principal, cap_id: int) -> dict[str, Any]:
    """The cap's numbers for its page: spend, estimate, forecast and band, chart, plans."""
    review: CapReview = review_cap(engine, principal, cap_id)
    cur = review.account.currency
    forecast = review.forecast
    planned = [] if forecast is None else [(d, m / MICROS) for d, m in forecast.pacing.forecast]
    chart = inline_svg(
        cap_pacing_figure(
            period=(review.cap.period_start, review.cap.period_end),
            cap=review.cap.amount_micros / MICROS,
            reported=[(d, m / MICROS) for d, m in review.daily],
            estimated=[(u.day, u.expected_micros / MICROS) for u in review.unreported],
            planned=planned,
            band=None
            if forecast is None
            else (forecast.low_micros / MICROS, forecast.high_micros / MICROS),
            currency=cur,
        )
    )
    return {"review": review, "review_chart": chart}


def propose_with_form(
    request: Request, engine: StoreEngine, account: str, form: dict[str, str]
) -> Response:
    """The cap form: on a mistake the caps page comes back with what was typed and the error
    beside its field."""
    session, principal = checked_post(request, engine, form.get("csrf", ""))
    acct = account_as(engine, principal, account)
    typed = {k: form.get(k, "") for k in ("period_start", "period_end", "amount", "note")}
    errors: dict[str, str] = {}
    days: dict[str, dt.date] = {}
    for name in ("period_start", "period_end"):
        try:
            day = dt.date.fromisoformat(typed[name].strip())
        except ValueError:
            errors[name] = "Enter a date as YYYY-MM-DD."
            continue
        if not EARLIEST_DATE <= day <= LAST_DAY:
            errors[name] = f"Enter a day from {EARLIEST_DATE} to {LAST_DAY}."
        days[name] = day
    if not typed["amount"].strip():
        errors["amount"] = "Enter the cap's amount."
    if len(typed["note"]) > 2000 or len(typed["amount"]) > 40:
        errors["note" if len(typed["note"]) > 2000 else "amount"] = "Too long."
    if not errors:
        try:
            cap = propose_cap(
                engine,
                principal,
                acct.name,
                period_start=days["period_start"],
                period_end=days["period_end"],
                amount=typed["amount"].strip(),
                currency=acct.currency,
                note=typed["note"],
            )
        except InvalidInputError as exc:
            text = exc.message.lower()
            where = next(
                (f for f, word in _CAP_FIELD_WORDS if word in text),
                "form",
            )
            errors[where] = exc.message
        else:
            return redirect(f"/ui/caps/{cap.id}")
    return page(
        request,
        session,
        "caps.html",
        status=422,
        me=principal,
        account=acct,
        caps=list_caps(engine, principal, acct.name),
        can_propose=can(principal, Action.CAP_PROPOSE),
        today=dt.date.today(),
        typed=typed,
        errors=errors,
    )


def _quoted(name: str) -> str:
    return quote(name, safe="")
