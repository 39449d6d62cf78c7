"""An account's inbox folder: every file dropped there is ingested, then filed away.

`<inbox>/<account>/` holds the new exports; an accepted file moves to `processed/`, a refused one to
`rejected/` with `<file>.report.txt` beside it saying why. A file is moved only after its rows are
committed, so a crash in between leaves it in the inbox and the next run ingests it again, which
changes nothing (ingest is idempotent). Hidden files (e.g. an upload still being written as
`.name.partial`) are left alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from optimizer.errors import InvalidInputError
from optimizer.usecases.ingest import IngestReport, ingest

__all__ = ["InboxReport", "inbox_folder", "ingest_inbox"]

PROCESSED = "processed"
REJECTED = "rejected"
REPORT_SUFFIX = ".report.txt"
_ENCODED = frozenset("/\\%\x00")


@dataclass(frozen=True, slots=True)
class InboxReport:
    """What one pass over the inbox did: file names as they were dropped, and rows stored."""

    processed: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    rows_ingested: int = 0


def inbox_folder(root: Path, account_name: str) -> Path:
    """`root/<account>`: path separators, `%` and a leading dot in the name are %-encoded, so any
    account name is one folder right below `root`."""
    name = "".join(f"%{ord(c):02X}" if c in _ENCODED else c for c in account_name)
    if name.startswith("."):
        name = "%2E" + name[1:]
    return root.expanduser() / name


def ingest_inbox(
    engine: Engine,
    account_name: str,
    root: Path,
    *,
    today: dt.date,
    attempt: Callable[[Callable[[], IngestReport]], IngestReport] | None = None,
) -> InboxReport:
    """Ingest the account's waiting files, oldest first; `attempt` wraps each ingest (retries).

    Store outages propagate and leave the file in place for the next run.
    """
    folder = inbox_folder(root, account_name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        waiting = sorted(
            (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
            key=lambda p: (p.stat().st_mtime_ns, p.name),
        )
    except OSError as exc:
        raise InvalidInputError(f"cannot read the inbox folder '{folder}': {exc}") from exc
    run = attempt if attempt is not None else _once
    processed: list[str] = []
    rejected: list[str] = []
    rows = 0
    for path in waiting:
        try:
            report = run(partial(ingest, engine, account_name, path, today=today))
        except InvalidInputError as error:
            moved = _move(path, folder / REJECTED)
            _write_report(moved, error)
            rejected.append(path.name)
            continue
        _move(path, folder / PROCESSED)
        processed.append(path.name)
        rows += report.inserted + report.updated + report.unchanged
    return InboxReport(processed=tuple(processed), rejected=tuple(rejected), rows_ingested=rows)


def _once(step: Callable[[], IngestReport]) -> IngestReport:
    return step()


def _move(path: Path, folder: Path) -> Path:
    """Move `path` into `folder` without overwriting an earlier file of the same name."""
    try:
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        if target.exists():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            target = _free_name(folder, f"{path.stem}.{stamp}", path.suffix)
        path.rename(target)
    except OSError as exc:
        raise InvalidInputError(f"cannot move '{path}' to {folder}: {exc}") from exc
    return target


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    candidate = folder / f"{stem}{suffix}"
    number = 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{stem}.{number}{suffix}"
    return candidate


def _write_report(moved: Path, error: InvalidInputError) -> None:
    lines = [
        f"{moved.name}: rejected at {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; "
        "nothing from this file was stored.",
        "",
        error.message,
    ]
    if error.issues:
        lines += ["", f"Problems ({len(error.issues):,}):"]
        lines += [f"  {issue.describe()}" for issue in error.issues]
    try:
        moved.with_name(moved.name + REPORT_SUFFIX).write_text("\n".join(lines) + "\n", "utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot write the report for '{moved}': {exc}") from exc
