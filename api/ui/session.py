"""Dashboard sessions: a signed cookie holding a key id (or, after an identity provider's sign-in,
a user id), a session id and a CSRF token, never the key.

The cookie is `base64(json).base64(HMAC-SHA256)`, signed with `PPCOPT_SESSION_SECRET`, or, when
that is unset, with a random secret made once per process (sessions then end on restart and do not
cross workers; set the secret when running several). The key id is checked against the store on
every request (`principal_for_key_id`), so revoking a key ends its sessions at once. Every visitor
gets a session (anonymous until sign-in) so the sign-in form has a CSRF token too; signing in
issues a new token, so a token seen before sign-in is worthless after it. Signing out records the
session id as ended in the store (`optimizer.usecases.sessions`), so a copy of the cookie taken
before sign-out stops working then, not when it expires.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from fastapi import Request, Response

__all__ = [
    "COOKIE",
    "MAX_AGE_SECONDS",
    "Session",
    "csrf_matches",
    "expires_at",
    "load_session",
    "new_session",
    "sign",
    "store_session",
    "verify",
]

COOKIE = "ppcopt_session"
MAX_AGE_SECONDS = 12 * 3600
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Session:
    """Signed in with a key (`key_id`) or through the identity provider (`user_id`); neither: not
    signed in. `changed`: the cookie must be (re)sent with the response."""

    key_id: int | None
    csrf: str
    issued: int
    sid: str
    changed: bool = field(default=False, compare=False)
    user_id: int | None = None

    @property
    def signed_in(self) -> bool:
        return self.key_id is not None or self.user_id is not None


def new_session(key_id: int | None = None, *, user_id: int | None = None) -> Session:
    return Session(
        key_id=key_id,
        user_id=user_id,
        csrf=secrets.token_urlsafe(32),
        issued=int(time.time()),
        sid=secrets.token_urlsafe(32),
        changed=True,
    )


def expires_at(session: Session) -> dt.datetime:
    """When the session's cookie stops being accepted anyway."""
    return dt.datetime.fromtimestamp(session.issued + MAX_AGE_SECONDS, dt.UTC)


def load_session(request: Request) -> Session:
    """The request's valid session, or a new anonymous one (bad signature, expired, absent)."""
    raw = request.cookies.get(COOKIE)
    if raw:
        found = _decode(raw, _secret(request))
        if found is not None and time.time() - found.issued < MAX_AGE_SECONDS:
            return found
    return new_session()


def store_session(request: Request, response: Response, session: Session) -> None:
    """Send the cookie when the session changed: HttpOnly, SameSite=Strict, Secure over HTTPS."""
    if not session.changed:
        return
    response.set_cookie(
        COOKIE,
        _encode(session, _secret(request)),
        max_age=MAX_AGE_SECONDS,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def csrf_matches(session: Session, presented: str) -> bool:
    return hmac.compare_digest(session.csrf.encode(), presented.encode("utf-8", "replace"))


def sign(request: Request, payload: dict[str, object]) -> str:
    """`payload` as signed cookie text (the sign-in's short-lived state uses it too)."""
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    return f"{body}.{_sign(body, _secret(request))}"


def verify(request: Request, raw: str) -> dict[str, object] | None:
    """The payload of cookie text `sign` made with this server's secret, else None."""
    body, _, signature = raw.partition(".")
    if len(raw) > 4000 or not body.isascii() or not signature.isascii():
        return None
    if not hmac.compare_digest(_sign(body, _secret(request)), signature):
        return None
    try:
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _secret(request: Request) -> bytes:
    configured: str | None = request.app.state.settings.session_secret
    if configured:
        return configured.encode("utf-8")
    state = request.app.state
    with _LOCK:
        if getattr(state, "ui_session_secret", None) is None:
            state.ui_session_secret = secrets.token_bytes(32)
        secret: bytes = state.ui_session_secret
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(body: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest())


def _encode(session: Session, secret: bytes) -> str:
    payload = {
        "k": session.key_id,
        "u": session.user_id,
        "c": session.csrf,
        "t": session.issued,
        "s": session.sid,
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    return f"{body}.{_sign(body, secret)}"


def _decode(raw: str, secret: bytes) -> Session | None:
    body, _, signature = raw.partition(".")
    if len(raw) > 1000 or not body.isascii() or not signature.isascii():
        return None
    if not hmac.compare_digest(_sign(body, secret), signature):
        return None
    try:
        payload = json.loads(_unb64(body))
        key_id, csrf, issued, sid = payload["k"], payload["c"], payload["t"], payload["s"]
        user_id = payload.get("u")
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not (key_id is None or isinstance(key_id, int)) or not isinstance(csrf, str):
        return None
    if not (user_id is None or isinstance(user_id, int)) or (key_id and user_id):
        return None
    if not isinstance(issued, int) or not isinstance(sid, str) or not 32 <= len(sid) <= 64:
        return None
    return Session(key_id=key_id, csrf=csrf, issued=issued, sid=sid, user_id=user_id)
