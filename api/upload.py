"""Read an upload (multipart field `file`, a raw CSV body, or JSON rows) within the size limit.

The body is streamed to a temporary file and counted as it arrives, so a client that omits or lies
about Content-Length still gets 413 at the limit, and memory stays flat. Nothing here parses rows
on the event loop: a multipart body is split chunk by chunk, letting other requests run between
chunks, and JSON rows are validated where the upload is ingested (`Upload.transform`, called in
the ingest worker).
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import IO

from fastapi import HTTPException, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.schemas import PerformanceRowsIn
from optimizer.errors import InvalidInputError
from optimizer.schema import CANONICAL_COLUMNS

__all__ = ["Upload", "json_rows_as_csv", "read_upload"]

_CHUNK = 1 << 16


@dataclass
class Upload:
    data: IO[bytes]
    name: str
    format: str | None
    fields: dict[str, str] = field(default_factory=dict)
    """A multipart form's other fields (the dashboard's CSRF token and options)."""
    transform: Callable[[IO[bytes]], IO[bytes]] | None = None


async def read_upload(request: Request, limit: int) -> Upload:
    """The uploaded bytes as a file positioned at 0; 413 over `limit`, 415 for other types."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise _too_large(limit)
        spool.write(chunk)
    spool.seek(0)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return await _multipart(request, spool, limit)
    if kind == "application/json":
        return Upload(spool, "rows.json", "canonical", transform=json_rows_as_csv)
    if kind in ("text/csv", "text/plain", "application/octet-stream", "text/tab-separated-values"):
        return Upload(spool, "upload.csv", None)
    raise HTTPException(
        415,
        f"unsupported content type '{kind or 'none'}': send multipart/form-data with a `file` "
        "field, a text/csv body, or application/json rows",
    )


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        413,
        f"the upload is larger than the limit of {limit:,} bytes; split the file by date range",
    )


async def _multipart(request: Request, spool: IO[bytes], limit: int) -> Upload:
    async def stream() -> AsyncGenerator[bytes, None]:
        while chunk := spool.read(_CHUNK):
            yield chunk
            await asyncio.sleep(0)

    parser = MultiPartParser(
        request.headers, stream(), max_files=1, max_fields=20, max_part_size=limit
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInputError(f"the multipart body could not be read: {exc.message}") from exc
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise InvalidInputError("the multipart body has no file in a field named `file`")
    part.file.seek(0)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return Upload(part.file, part.filename or "upload.csv", None, fields)


def json_rows_as_csv(spool: IO[bytes]) -> IO[bytes]:
    """JSON rows (`PerformanceRowsIn`) as a canonical CSV; InvalidInputError where they are not
    valid."""
    try:
        body = PerformanceRowsIn.model_validate_json(spool.read())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInputError(
            f"the JSON rows are not valid at {where}: {first.get('msg', 'invalid')} "
            f"({exc.error_count()} problem(s)); JSON row N is reported as line N+1"
        ) from exc
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CANONICAL_COLUMNS)
    for row in body.rows:
        writer.writerow([str(getattr(row, c)) for c in CANONICAL_COLUMNS])
    return io.BytesIO(text.getvalue().encode("utf-8"))
