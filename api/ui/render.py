"""Templates, money and chart helpers, and the route class that turns errors into pages.

Domain errors answer with the API's status (`api.errors.STATUS`) but as a page a person can read;
an expired or missing session sends the browser to sign-in instead.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import STATUS
from api.ui.session import Session, new_session, store_session
from optimizer.errors import AuthenticationError, OptimizerError
from optimizer.money import format_money
from optimizer.plots import figure_bytes
from optimizer.schema import MICROS

__all__ = [
    "UiRoute",
    "inline_svg",
    "money",
    "page",
    "partial",
]

_TEMPLATES = Path(__file__).parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    422: "Check the input",
    429: "Too many attempts",
    503: "Try again shortly",
}


def money(amount: int | float | Decimal | str | None, currency: str) -> str:
    """'1,234.56 EUR': ints are micros (exact); floats and decimal strings are currency units.

    A float becomes micros by rounding to the nearest micro, as the plan tables do, so a figure on
    a page reads the same as in the CSV and JSON (both then round down to the minor unit)."""
    if amount is None or (isinstance(amount, float) and not math.isfinite(amount)):
        return "-"
    if isinstance(amount, int):
        return format_money(amount, currency)
    if isinstance(amount, float):
        return format_money(round(amount * MICROS), currency)
    return format_money(int(Decimal(str(amount)) * MICROS), currency)


def _number(value: float | None, places: int = 1) -> str:
    return "-" if value is None else f"{value:,.{places}f}"


def _when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


_ENV.filters.update(money=money, number=_number, when=_when)


def inline_svg(fig: Figure) -> Markup:
    """The figure as an `<svg>` element to put in the page (no XML prologue); safe to mark up
    because matplotlib escapes every text it writes into the SVG."""
    text = figure_bytes(fig, "svg").decode("utf-8")
    start = text.find("<svg")
    return Markup(text[start:])


def page(
    request: Request,
    session: Session,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A rendered page with the session cookie (when changed) and the dashboard's headers."""
    context.setdefault("errors", {})
    context.setdefault("typed", {})
    html = _ENV.get_template(template).render(csrf=session.csrf, **context)
    response = HTMLResponse(html, status, headers=_HEADERS)
    store_session(request, response, session)
    return response


def partial(template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A part of a page (the what-if's result), for the page's script to put in place."""
    html = _ENV.get_template(template).render(**context)
    return HTMLResponse(html, status, headers=_HEADERS)


def _error_page(status: int, message: str) -> HTMLResponse:
    html = _ENV.get_template("error.html").render(
        status=status, title=_TITLES.get(status, "Something is wrong"), message=message
    )
    return HTMLResponse(html, status, headers=_HEADERS)


def _status_of(exc: OptimizerError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls][0]
    return 500


class UiRoute(APIRoute):
    """Answers a domain error, a bad form or an HTTP error raised by a page with an HTML page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthenticationError as exc:
                return page(request, new_session(), "signin.html", status=401, message=exc.message)
            except OptimizerError as exc:
                return _error_page(_status_of(exc), exc.message)
            except RequestValidationError as exc:
                fields = sorted({str(e.get("loc", ("?",))[-1]) for e in exc.errors()})
                return _error_page(422, f"The form is incomplete or wrong: {', '.join(fields)}.")
            except StarletteHTTPException as exc:
                response = _error_page(exc.status_code, str(exc.detail))
                response.headers.update(exc.headers or {})
                return response

        return handle
