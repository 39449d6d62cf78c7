"""Who is asking, for every dashboard page: the session, its key now, and the CSRF check."""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from api.ui.session import Session, csrf_matches, load_session
from optimizer.access import Principal, Role
from optimizer.errors import AuthenticationError
from optimizer.usecases.keys import principal_for_key_id
from optimizer.usecases.sessions import session_ended
from optimizer.usecases.users import principal_for_user_id

__all__ = ["checked_post", "redirect", "require_csrf", "signed_in"]


def signed_in(request: Request, engine: Engine) -> tuple[Session, Principal]:
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


def checked_post(request: Request, engine: Engine, csrf: str) -> tuple[Session, Principal]:
    session, principal = signed_in(request, engine)
    require_csrf(session, csrf)
    return session, principal


def require_csrf(session: Session, csrf: str) -> None:
    if not csrf_matches(session, csrf):
        raise HTTPException(
            403, "The form had expired or did not come from this site. Reload the page and retry."
        )


def redirect(url: str) -> RedirectResponse:
    """303: the browser GETs the page after a POST, so reloading never repeats the action."""
    return RedirectResponse(url, 303)
