"""The API docs (`/docs`) from Swagger UI files shipped in the package, never from a CDN.

FastAPI's default page loads Swagger UI from a CDN, so `/docs` is blank on a machine without
internet (an air-gapped install, a laptop on a plane). `api/docs_assets/` holds swagger-ui-dist
5.35.0 from the npm registry (Apache-2.0; its LICENSE and NOTICE beside it): the bundle and the
stylesheet only. The favicon and the online validator badge, which would also reach out, are off.
ReDoc has no packaged copy, so `/redoc` is not served.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

__all__ = ["ASSETS", "install_docs"]

ASSETS = Path(__file__).parent / "docs_assets"
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
_OAUTH_REDIRECT = "/docs/oauth2-redirect"


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` and its assets; the app must be made with `docs_url=None, redoc_url=None`."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            oauth2_redirect_url=_OAUTH_REDIRECT,
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="data:,",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get(_OAUTH_REDIRECT)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/docs/assets/{name}")
    def asset(name: str) -> Response:
        media_type = _TYPES.get(name)
        if media_type is None:
            raise HTTPException(404, "no such docs asset")
        return Response(
            (ASSETS / name).read_bytes(),
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.include_router(router)
