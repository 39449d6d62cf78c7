"""The one table from domain errors to HTTP statuses, and the JSON body every error has.

Every body says what went wrong (`detail`) and what to do (`hint`); row problems, constraint
conflicts and retry delays ride along. Anything else becomes a 500 that is logged, never a leak.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from api.schemas import ErrorOut
from optimizer.errors import (
    AuthenticationError,
    CancelledError,
    ConflictError,
    InfeasibleError,
    InvalidInputError,
    NotFittedError,
    NotFoundError,
    OptimizerError,
    PermissionDeniedError,
    SolverError,
    StoreUnavailableError,
    TooLargeError,
)

__all__ = ["CLIENT_CLOSED", "DOCUMENTED", "STATUS", "error_body", "install_error_handlers"]

_log = logging.getLogger("ppcopt.api")

STATUS: dict[type[OptimizerError], tuple[int, str, str]] = {
    InvalidInputError: (422, "invalid_input", "fix the input as the detail says and send it again"),
    InfeasibleError: (
        422,
        "infeasible",
        "relax one of the conflicting constraints (listed in `conflicts`) and try again",
    ),
    NotFoundError: (404, "not_found", "check the name or id; your key only sees its own accounts"),
    ConflictError: (409, "conflict", "the current state does not allow this; see the detail"),
    NotFittedError: (409, "not_fitted", "fit the account's curves first (POST .../fits)"),
    AuthenticationError: (
        401,
        "unauthenticated",
        "send `Authorization: Bearer KEY` (or `X-API-Key: KEY`) with an active key",
    ),
    PermissionDeniedError: (403, "forbidden", "use a key whose role allows this action"),
    StoreUnavailableError: (
        503,
        "store_unavailable",
        "the database is unreachable right now; retry after `Retry-After` seconds",
    ),
    SolverError: (503, "solver_failed", "retry; if it persists, relax the request and report it"),
    TooLargeError: (
        413,
        "too_large",
        "split the work (an export by date range) or ask the operator to raise the limit",
    ),
    CancelledError: (499, "cancelled", "the client went away, so the work was stopped"),
}


DOCUMENTED: dict[int, str] = {
    400: "the body could not be parsed (malformed JSON or multipart)",
    401: "no API key, or an unknown or revoked one",
    403: "the key's role may not do this",
    404: "no such account or object visible to this key",
    409: "the current state does not allow this",
    413: "the upload or the work it asks for is over a documented limit",
    422: "the request or its data is invalid (row problems or conflicting constraints listed)",
    429: "too many failed authentications from this address; see `Retry-After`",
    503: "the store or the solver is unavailable right now; see `Retry-After`",
}
"""The error statuses every `/v1` operation may answer, documented in its OpenAPI entry."""


def _lookup(exc: OptimizerError) -> tuple[int, str, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500, "internal_error", "this is a bug in ppcopt; please report it"


def error_body(error: str, detail: str, hint: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, "hint": hint, **extra}


def _domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OptimizerError)
    status, code, hint = _lookup(exc)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInputError) and exc.issues:
        extra["issues"] = [
            {
                "line": i.line,
                "column": i.column,
                "value": i.value,
                "message": i.message,
                "severity": i.severity,
                "text": i.describe(),
            }
            for i in exc.issues[:1000]
        ]
        extra["issue_count"] = len(exc.issues)
    if isinstance(exc, InfeasibleError):
        extra["conflicts"] = list(exc.conflicts)
    if isinstance(exc, StoreUnavailableError):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, SolverError):
        headers["Retry-After"] = "30"
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(code, exc.message, hint, **extra), status, headers=headers)


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors()[:50]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    body = error_body(
        "invalid_input",
        "; ".join(problems) or "the request is not valid",
        "fix the fields named in the detail (see /docs for the schema)",
    )
    return JSONResponse(body, 422)


def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        429: "rate_limited",
    }
    body = error_body(
        code.get(exc.status_code, "http_error"),
        str(exc.detail),
        "see /docs for the routes and their methods",
    )
    return JSONResponse(body, exc.status_code, headers=getattr(exc, "headers", None))


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    """A 500 that says `Connection: close`: uvicorn drops the connection after an unhandled
    error, and a client told so opens a new one instead of failing its next request on it."""
    _log.exception("unhandled error", exc_info=exc)
    body = error_body(
        "internal_error", "an unexpected error occurred", "this is a bug in ppcopt; report it"
    )
    return JSONResponse(body, 500, headers={"Connection": "close"})


CLIENT_CLOSED = 499
"""The status logged and counted for a request whose client went away before the answer (nginx's
convention): not an error of ours, so neither a 500 nor a traceback."""


def _client_gone(request: Request, _exc: Exception) -> Response:
    _log.warning(
        "%d client closed the connection during %s %s; nothing was stored",
        CLIENT_CLOSED,
        request.method,
        request.url.path,
    )
    return Response(status_code=CLIENT_CLOSED)


def _document_errors(schema: dict[str, Any]) -> None:
    """Every `/v1` operation lists the error statuses above with the ErrorOut body, so clients
    (and the schema fuzz test) know every answer they can get; the 422 replaces FastAPI's own."""
    shapes = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in shapes.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components["ErrorOut"] = shapes
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in DOCUMENTED.items():
                responses.setdefault(str(code), {"description": description})
            responses["422"] = {"description": DOCUMENTED[422], "content": content}
            for code, entry in responses.items():
                if code.isdigit() and int(code) >= 400:
                    entry.setdefault("content", content)


def install_error_handlers(app: FastAPI) -> None:
    """The handlers, and the same table in the OpenAPI schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        if "ErrorOut" not in schema.get("components", {}).get("schemas", {}):
            _document_errors(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(OptimizerError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
