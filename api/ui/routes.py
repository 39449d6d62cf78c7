"""The dashboard's pages under /ui: sign-in, accounts, curves, frontier, caps and job runs.

Thin handlers: each loads the session, checks the form's CSRF token on POST, asks the store who
the session's key is now, calls a use case and renders a template. POSTs answer with a redirect
(303) so reloading a page never repeats an action.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, StoreEngine
from api.ui import views, work
from api.ui.guard import checked_post, redirect, require_csrf, signed_in
from api.ui.render import UiRoute, page
from api.ui.session import expires_at, load_session, new_session, store_session
from optimizer.access import Action, Role, can
from optimizer.errors import AuthenticationError, PermissionDeniedError
from optimizer.usecases.authorized import account_as, visible_accounts
from optimizer.usecases.caps import decide_cap, get_cap, list_caps
from optimizer.usecases.keys import authenticate
from optimizer.usecases.nightly import list_runs
from optimizer.usecases.sessions import end_session

__all__ = ["router"]

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)

_STATIC = Path(__file__).parent / "static"
_SIGNED_OUT = "You are signed out."
_Csrf = Annotated[str, Form(max_length=200)]


@router.get("/static/ui.css")
def stylesheet() -> Response:
    css = (_STATIC / "ui.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/static/ui.js")
def script() -> Response:
    """The what-if's live update and the upload's drag-and-drop and progress; every page reads
    and every form posts without it."""
    js = (_STATIC / "ui.js").read_text(encoding="utf-8")
    return Response(
        js, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "max-age=3600"}
    )


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home() -> RedirectResponse:
    return redirect("/ui/accounts")


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, signedout: Annotated[bool, Query()] = False) -> HTMLResponse:
    session = load_session(request)
    return page(
        request,
        session,
        "signin.html",
        message=_SIGNED_OUT if signedout else "",
        oidc=request.app.state.settings.oidc_enabled,
    )


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    engine: StoreEngine,
    csrf: _Csrf,
    key: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A valid manager, finance or admin key opens a session; wrong keys count toward the
    same per-address limit as the API's."""
    session = load_session(request)
    require_csrf(session, csrf)
    limiter = request.app.state.auth_limiter
    client = request.client.host if request.client else "unknown"
    limiter.check(client)
    try:
        principal = authenticate(engine, key.strip())
    except AuthenticationError:
        limiter.failed(client)
        message = "That key is unknown or revoked. Check it and try again."
        return page(
            request,
            session,
            "signin.html",
            status=401,
            error=message,
            oidc=request.app.state.settings.oidc_enabled,
        )
    if principal.role is Role.SCRIPT:
        raise PermissionDeniedError(
            "A script key is for ad scripts reading published budgets over the API; it cannot "
            "sign in to the dashboard. Use a manager, finance or admin key."
        )
    response = redirect("/ui/accounts")
    store_session(request, response, new_session(principal.key_id))
    return response


@router.post("/signout", response_class=HTMLResponse)
def signout(request: Request, engine: StoreEngine, csrf: _Csrf) -> Response:
    """Ends the session in the store too, so a copy of its cookie is refused from now on."""
    session = load_session(request)
    require_csrf(session, csrf)
    if session.signed_in:
        end_session(engine, session.sid, expires_at(session))
    response = redirect("/ui/signin?signedout=true")
    store_session(request, response, new_session())
    return response


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, engine: StoreEngine) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    return page(
        request,
        session,
        "accounts.html",
        me=principal,
        accounts=visible_accounts(engine, principal),
    )


@router.get("/accounts/{account}", response_class=HTMLResponse)
def overview_page(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    view = views.overview(engine, principal, account)
    return page(request, session, "overview.html", me=principal, account=view.account, v=view)


@router.get("/accounts/{account}/curves/{entity_id}", response_class=HTMLResponse)
def curve_page(request: Request, engine: StoreEngine, account: str, entity_id: str) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    acct, curve, chart, planned = views.curve_view(engine, principal, account, entity_id)
    return page(
        request,
        session,
        "curve.html",
        me=principal,
        account=acct,
        curve=curve,
        chart=chart,
        planned=planned,
        diagnostics=views.diagnostics_text(curve, acct.currency),
    )


@router.get("/accounts/{account}/frontier", response_class=HTMLResponse)
def frontier_page(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    acct, rows, chart, rec, current = views.frontier_view(engine, principal, account)
    return page(
        request,
        session,
        "frontier.html",
        me=principal,
        account=acct,
        rows=rows,
        chart=chart,
        rec=rec,
        current_total=current,
    )


@router.get("/accounts/{account}/accuracy", response_class=HTMLResponse)
def accuracy_page(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    acct, result, chart, reason = views.accuracy_view(engine, principal, account)
    tests = views.experiments_view(engine, principal, acct.name)
    return page(
        request,
        session,
        "accuracy.html",
        me=principal,
        account=acct,
        result=result,
        chart=chart,
        reason=reason,
        tests=tests,
        month=dt.date.today().replace(day=1).strftime("%Y-%m"),
    )


@router.get("/accounts/{account}/reports/{period}", response_class=HTMLResponse)
def report_page(
    request: Request,
    engine: StoreEngine,
    account: str,
    period: str,
    lang: Annotated[Literal["en", "fa"] | None, Query()] = None,
    calendar: Annotated[Literal["gregorian", "jalali"], Query()] = "gregorian",
) -> HTMLResponse:
    """The month's report, as `GET /v1/accounts/{account}/reports/{period}` gives it."""
    _, principal = signed_in(request, engine)
    return HTMLResponse(views.report_html(engine, principal, account, period, lang, calendar))


@router.get("/accounts/{account}/caps", response_class=HTMLResponse)
def caps_page(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    acct = account_as(engine, principal, account)
    caps = list_caps(engine, principal, acct.name)
    return page(
        request,
        session,
        "caps.html",
        me=principal,
        account=acct,
        caps=caps,
        can_propose=can(principal, Action.CAP_PROPOSE),
        today=dt.date.today(),
    )


@router.post("/accounts/{account}/caps", response_class=HTMLResponse)
async def propose(request: Request, engine: StoreEngine, account: str) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return await run_in_threadpool(work.propose_with_form, request, engine, account, fields)


@router.get("/caps/{cap_id}", response_class=HTMLResponse)
def cap_page(request: Request, engine: StoreEngine, cap_id: RowId) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    cap = get_cap(engine, principal, cap_id)
    acct = account_as(engine, principal, cap.account)
    own = (
        principal.key_id is not None and principal.key_id == cap.proposed_key_id
    ) or principal.person == cap.proposer
    return page(
        request,
        session,
        "cap.html",
        me=principal,
        account=acct,
        cap=cap,
        can_decide=can(principal, Action.CAP_DECIDE) and cap.status == "proposed",
        own=own,
        **work.cap_review_view(engine, principal, cap.id),
    )


@router.post("/caps/{cap_id}/decision", response_class=HTMLResponse)
def decide(
    request: Request,
    engine: StoreEngine,
    cap_id: RowId,
    csrf: _Csrf,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Finance only, never the proposer (the use case enforces both)."""
    _, principal = checked_post(request, engine, csrf)
    decide_cap(engine, principal, cap_id, approve=decision == "approve", note=note)
    return redirect(f"/ui/caps/{cap_id}")


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    engine: StoreEngine,
    account: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    session, principal = signed_in(request, engine)
    acct = account_as(engine, principal, account) if account else None
    runs = list_runs(engine, principal, account_name=acct.name if acct else None, limit=100)
    return page(request, session, "jobs.html", me=principal, account=acct, runs=runs)


router.include_router(work.router)
