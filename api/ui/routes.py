"""The dashboard's pages under /ui: sign-in, accounts, curves, frontier, caps and job runs.

Thin handlers: each loads the session, checks the form's CSRF token on POST, asks the store who
the session's key is now, calls a use case and renders a template. POSTs answer with a redirect
(303) so reloading a page never repeats an action.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import RowId, StoreEngine
from api.schemas import LAST_DAY
from api.ui import views
from api.ui.render import UiRoute, page
from api.ui.session import (
    Session,
    csrf_matches,
    expires_at,
    load_session,
    new_session,
    store_session,
)
from optimizer.access import Action, Principal, Role, can
from optimizer.errors import AuthenticationError, PermissionDeniedError
from optimizer.io.dates import EARLIEST_DATE
from optimizer.usecases.authorized import account_as, visible_accounts
from optimizer.usecases.caps import decide_cap, get_cap, list_caps, propose_cap
from optimizer.usecases.keys import authenticate, principal_for_key_id
from optimizer.usecases.nightly import list_runs
from optimizer.usecases.sessions import end_session, session_ended
from optimizer.usecases.users import principal_for_user_id

__all__ = ["router"]

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)

_STATIC = Path(__file__).parent / "static"
_SIGNED_OUT = "You are signed out."
_Csrf = Annotated[str, Form(max_length=200)]


def _signed_in(request: Request, engine: StoreEngine) -> tuple[Session, Principal]:
    """The session and its key's (or its user's) principal now; AuthenticationError (the sign-in
    page, 401) without a session, after it was signed out, or when its key was revoked since."""
    session = load_session(request)
    if not session.signed_in or session_ended(engine, session.sid):
        raise AuthenticationError("Sign in to continue.")
    if session.key_id is not None:
        return session, principal_for_key_id(engine, session.key_id)
    assert session.user_id is not None
    principal = principal_for_user_id(engine, session.user_id)
    if principal.role is Role.SCRIPT:
        raise AuthenticationError("A script user cannot use the dashboard.")
    return session, principal


def _checked_post(request: Request, engine: StoreEngine, csrf: str) -> tuple[Session, Principal]:
    session, principal = _signed_in(request, engine)
    _require_csrf(session, csrf)
    return session, principal


def _require_csrf(session: Session, csrf: str) -> None:
    if not csrf_matches(session, csrf):
        raise HTTPException(
            403, "The form had expired or did not come from this site. Reload the page and retry."
        )


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303)


@router.get("/static/ui.css")
def stylesheet() -> Response:
    css = (_STATIC / "ui.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home() -> RedirectResponse:
    return _redirect("/ui/accounts")


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
    _require_csrf(session, csrf)
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
    response = _redirect("/ui/accounts")
    store_session(request, response, new_session(principal.key_id))
    return response


@router.post("/signout", response_class=HTMLResponse)
def signout(request: Request, engine: StoreEngine, csrf: _Csrf) -> Response:
    """Ends the session in the store too, so a copy of its cookie is refused from now on."""
    session = load_session(request)
    _require_csrf(session, csrf)
    if session.signed_in:
        end_session(engine, session.sid, expires_at(session))
    response = _redirect("/ui/signin?signedout=true")
    store_session(request, response, new_session())
    return response


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, engine: StoreEngine) -> HTMLResponse:
    session, principal = _signed_in(request, engine)
    return page(
        request,
        session,
        "accounts.html",
        me=principal,
        accounts=visible_accounts(engine, principal),
    )


@router.get("/accounts/{account}", response_class=HTMLResponse)
def overview_page(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    session, principal = _signed_in(request, engine)
    view = views.overview(engine, principal, account)
    return page(request, session, "overview.html", me=principal, account=view.account, v=view)


@router.get("/accounts/{account}/curves/{entity_id}", response_class=HTMLResponse)
def curve_page(request: Request, engine: StoreEngine, account: str, entity_id: str) -> HTMLResponse:
    session, principal = _signed_in(request, engine)
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
    session, principal = _signed_in(request, engine)
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
    session, principal = _signed_in(request, engine)
    acct, result, chart, reason = views.accuracy_view(engine, principal, account)
    return page(
        request,
        session,
        "accuracy.html",
        me=principal,
        account=acct,
        result=result,
        chart=chart,
        reason=reason,
        month=dt.date.today().replace(day=1).strftime("%Y-%m"),
    )


@router.get("/accounts/{account}/reports/{period}", response_class=HTMLResponse)
def report_page(
    request: Request,
    engine: StoreEngine,
    account: str,
    period: str,
    lang: Annotated[Literal["en", "fa"] | None, Query()] = None,
) -> HTMLResponse:
    """The month's report, as `GET /v1/accounts/{account}/reports/{period}` gives it."""
    _, principal = _signed_in(request, engine)
    return HTMLResponse(views.report_html(engine, principal, account, period, lang))


@router.get("/accounts/{account}/caps", response_class=HTMLResponse)
def caps_page(request: Request, engine: StoreEngine, account: str) -> HTMLResponse:
    session, principal = _signed_in(request, engine)
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
def propose(
    request: Request,
    engine: StoreEngine,
    account: str,
    csrf: _Csrf,
    period_start: Annotated[dt.date, Form(ge=EARLIEST_DATE, le=LAST_DAY)],
    period_end: Annotated[dt.date, Form(ge=EARLIEST_DATE, le=LAST_DAY)],
    amount: Annotated[str, Form(max_length=40)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _, principal = _checked_post(request, engine, csrf)
    acct = account_as(engine, principal, account)
    cap = propose_cap(
        engine,
        principal,
        acct.name,
        period_start=period_start,
        period_end=period_end,
        amount=amount.strip(),
        currency=acct.currency,
        note=note,
    )
    return _redirect(f"/ui/caps/{cap.id}")


@router.get("/caps/{cap_id}", response_class=HTMLResponse)
def cap_page(request: Request, engine: StoreEngine, cap_id: RowId) -> HTMLResponse:
    session, principal = _signed_in(request, engine)
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
    _, principal = _checked_post(request, engine, csrf)
    decide_cap(engine, principal, cap_id, approve=decision == "approve", note=note)
    return _redirect(f"/ui/caps/{cap_id}")


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    engine: StoreEngine,
    account: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    session, principal = _signed_in(request, engine)
    acct = account_as(engine, principal, account) if account else None
    runs = list_runs(engine, principal, account_name=acct.name if acct else None, limit=100)
    return page(request, session, "jobs.html", me=principal, account=acct, runs=runs)
