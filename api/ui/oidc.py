"""Dashboard sign-in through the company's OpenID Connect identity provider (Authlib).

The provider names the person (its `sub`, or the email it verified); our `users` table gives the
role, so an unknown person is refused unless the operator lets first sign-ins create a manager or
script user (`PPCOPT_OIDC_CREATE_ROLE`). The authorization code flow runs with PKCE (S256), a
`state` and a `nonce`; Authlib checks the id_token's RS256 signature against the provider's JWKS,
its issuer (the one configured here, not whatever the discovery document says), audience (our
client id), nonce and times. What Authlib keeps between the redirect and the callback lives in a
short-lived signed cookie of its own (path `/ui/signin/oidc`, ten minutes, `SameSite=Lax` because
the callback arrives from the provider's site).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool

from api.deps import StoreEngine
from api.ui.render import UiRoute
from api.ui.session import new_session, sign, store_session, verify
from optimizer.access import Role
from optimizer.errors import AuthenticationError
from optimizer.settings import Settings
from optimizer.usecases.users import signed_in_user

__all__ = ["router"]

router = APIRouter(prefix="/ui/signin/oidc", route_class=UiRoute, include_in_schema=False)

_COOKIE = "ppcopt_oidc"
_PATH = "/ui/signin/oidc"
_MAX_AGE = 600
_REFUSED = (AuthlibBaseError, JoseError, httpx.HTTPError, ValueError, KeyError, TypeError)
_CONTINUE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta http-equiv="refresh" content="0;url=/ui/accounts"><title>Signed in</title></head>'
    '<body><p>Signed in. <a href="/ui/accounts">Continue to your accounts</a>.</p></body></html>'
)


def _client(request: Request) -> Any:
    """The app's Authlib client, registered on first use from the settings; 404 when off."""
    settings: Settings = request.app.state.settings
    if not settings.oidc_enabled:
        raise HTTPException(404, "Sign-in through an identity provider is not set up here.")
    state = request.app.state
    client = getattr(state, "oidc_client", None)
    if client is None:
        assert settings.oidc_issuer is not None and settings.oidc_client_secret is not None
        oauth = OAuth()
        client = oauth.register(
            "idp",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            server_metadata_url=(
                f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration"
            ),
            client_kwargs={"scope": "openid email", "code_challenge_method": "S256"},
        )
        state.oidc_client = client
    return client


def _load_scratch(request: Request) -> None:
    """Authlib's `request.session`: this sign-in's own signed cookie, never the dashboard's."""
    found = verify(request, request.cookies.get(_COOKIE, ""))
    fresh = found is not None and time.time() - float(str(found.get("_t", 0))) < _MAX_AGE
    request.scope["session"] = dict(found) if found is not None and fresh else {}


def _keep_scratch(request: Request, response: Response) -> None:
    scratch = {**request.scope["session"], "_t": int(time.time())}
    response.set_cookie(
        _COOKIE,
        sign(request, scratch),
        max_age=_MAX_AGE,
        path=_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


@router.get("", response_class=HTMLResponse)
async def start(request: Request) -> Response:
    """Send the browser to the identity provider (PKCE, state and nonce kept for the callback)."""
    client = _client(request)
    _load_scratch(request)
    try:
        response: Response = await client.authorize_redirect(
            request, str(request.url_for("oidc_callback"))
        )
    except _REFUSED as exc:
        raise AuthenticationError(
            "The identity provider could not be reached or answered wrongly "
            f"({type(exc).__name__})."
        ) from None
    _keep_scratch(request, response)
    return response


@router.get("/callback", response_class=HTMLResponse, name="oidc_callback")
async def callback(request: Request, engine: StoreEngine) -> Response:
    """The provider's answer: a forged or replayed state, a token from another issuer or for
    another client, a bad signature or nonce, or a person who is not a user: the sign-in page."""
    client = _client(request)
    settings: Settings = request.app.state.settings
    _load_scratch(request)
    try:
        token = await client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "values": [settings.oidc_issuer]},
                # Authlib checks `aud` only when told to (else an `azp` naming us would do).
                "aud": {"essential": True, "values": [settings.oidc_client_id]},
                "sub": {"essential": True},
            },
        )
        claims = token["userinfo"]
        subject, email = str(claims["sub"]), claims.get("email")
        verified = claims.get("email_verified") is True
    except _REFUSED as exc:
        raise AuthenticationError(
            f"The identity provider's answer was refused ({type(exc).__name__}); sign in again."
        ) from None
    create = None if settings.oidc_create_role is None else Role(settings.oidc_create_role)
    user = await run_in_threadpool(
        signed_in_user,
        engine,
        subject=subject,
        email=email if isinstance(email, str) else None,
        email_verified=verified,
        create_role=create,
    )
    if user.role is Role.SCRIPT:
        raise AuthenticationError("A script user cannot use the dashboard.")
    # A page, not a redirect: the dashboard's SameSite=Strict cookie is not sent on a redirect
    # chain that began on the provider's site, but is on this page's own navigation.
    response = HTMLResponse(_CONTINUE, headers={"Cache-Control": "no-store"})
    store_session(request, response, new_session(user_id=user.id))
    response.delete_cookie(_COOKIE, path=_PATH)
    return response
