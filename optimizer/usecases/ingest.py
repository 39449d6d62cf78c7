"""Store an uploaded performance file for an account, idempotently, and read the history back.

A file is all-or-nothing by default: one bad row and nothing is stored, so a half-loaded history
never feeds a budget recommendation. `partial=True` stores the valid rows and reports the rest.
A file without a single data row (a header, titles or totals only) is refused too: it is almost
always the wrong export or date range, and storing it would only record an empty upload.
Re-ingesting a file changes nothing; a corrected file updates exactly the rows that differ.
A re-export whose recent days show more conversions than before is the normal case (conversion
lag): those rows are updated, and what each upload said of its recent days is kept
(`store.snapshots`) to learn the account's lag from. Every stored upload is audited in the
transaction that stores it, so a process killed in between leaves both or neither.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, select

from optimizer.access import LOCAL_OPERATOR, Principal, require_account
from optimizer.errors import InvalidInputError, RowIssue
from optimizer.io.dates import DateOrder, date_order_for
from optimizer.io.reports import KEY_COLUMNS
from optimizer.io.validate import check_duplicates
from optimizer.names import name_key, name_warning
from optimizer.schema import (
    NAME_COLUMNS,
    PLATFORM_LABELS,
    EntityKey,
    ReadResult,
    entity_label,
    to_model_frame,
    with_identity,
)
from optimizer.settings import get_settings
from optimizer.store.engine import take_write_lock, transaction
from optimizer.store.identity import Rename
from optimizer.store.performance import select_stored, upsert_performance
from optimizer.store.snapshots import record_snapshots
from optimizer.store.tables import accounts, ingests
from optimizer.usecases.accounts import (
    Account,
    Owner,
    account_owners,
    find_account,
    get_account,
    link_customers,
)
from optimizer.usecases.audit import record

__all__ = [
    "IngestReport",
    "Source",
    "ingest",
    "ingest_accounts",
    "ingest_result",
    "load_history",
]

Source = str | os.PathLike[str] | bytes | BinaryIO
"""A file path, the file's bytes, or an open binary file (e.g. an HTTP upload)."""

_UNNAMED_SOURCE = "upload"


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one upload did to the stored history."""

    account: str
    source_name: str
    format: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    errors: tuple[RowIssue, ...] = ()
    warnings: tuple[RowIssue, ...] = ()
    late_conversion_days: int = 0
    notes: tuple[str, ...] = ()
    """What else the upload did or found: renamed entities, totals that do not reconcile."""

    def summary(self) -> str:
        text = (
            f"{self.rows_read:,} rows read: {self.inserted:,} inserted, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.rejected:,} rejected"
        )
        if self.late_conversion_days:
            text += (
                f"; {self.late_conversion_days:,} campaign days gained late conversions since "
                "an earlier upload (conversion lag: expected, and used to learn it)"
            )
        return text


def ingest(
    engine: Engine,
    account_name: str,
    source: Source,
    *,
    source_name: str | None = None,
    format: str | None = None,
    partial: bool = False,
    decimal_comma: bool | None = None,
    date_order: DateOrder | None = None,
    sum_segments: bool = False,
    today: dt.date | None = None,
    principal: Principal = LOCAL_OPERATOR,
) -> IngestReport:
    """Read `source` and store its rows for the account (see the module docstring for the rules).

    Dates that read two ways follow `date_order`, else what the file proves, else the account's
    locale; `sum_segments` adds up a segmented report per day. `today` (default: today in the
    account's time zone) is the last date a row may have; `principal` is who the audit entry
    names.
    """
    from optimizer.io import read_performance

    account = get_account(engine, account_name)
    source, sha256, name = _fingerprint(source)
    result = read_performance(
        source,
        format=format,
        decimal_comma=decimal_comma,
        date_order=date_order,
        default_date_order=date_order_for(account.locale),
        sum_segments=sum_segments,
        today=today or dt.datetime.now(ZoneInfo(account.timezone)).date(),
        chunk_rows=_chunk_rows(),
        max_rows=get_settings().upload_max_rows,
    )
    return _store(
        engine,
        account,
        result,
        source_name=source_name or name,
        sha256=sha256,
        partial=partial,
        principal=principal,
    )


def ingest_accounts(
    engine: Engine,
    source: Source,
    *,
    principal: Principal = LOCAL_OPERATOR,
    source_name: str | None = None,
    format: str | None = None,
    partial: bool = False,
    decimal_comma: bool | None = None,
    date_order: DateOrder | None = None,
    sum_segments: bool = False,
    today: dt.date | None = None,
) -> list[IngestReport]:
    """A manager (MCC) report: each row stored in the account its customer ID is linked to (or
    its account column names), all accounts in one transaction; the principal must be allowed to
    write every one of them, and a row of an account we do not know refuses the whole file."""
    from optimizer.io import read_performance

    source, sha256, name = _fingerprint(source)
    result = read_performance(
        source,
        format=format,
        decimal_comma=decimal_comma,
        date_order=date_order,
        sum_segments=sum_segments,
        today=today or dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1),
        chunk_rows=_chunk_rows(),
        max_rows=get_settings().upload_max_rows,
    )
    errors, rejected, frame = _accepted(result, partial)
    reports = []
    with transaction(engine) as connection:
        take_write_lock(connection)
        owners = account_owners(connection, frame)
        # An account outside the key's scope is named like one that does not exist.
        scope = principal.account_ids
        unknown = sorted(
            {
                owner.label
                for owner in owners
                if owner.account_id is None or (scope is not None and owner.account_id not in scope)
            }
        )
        if not owners or unknown or (frame[["customer_id", "account"]] == "").all(axis=1).any():
            raise InvalidInputError(
                "every row of a manager report must name its account (a customer ID linked with "
                "`ppcopt accounts link`, or an account column with an account's name); "
                + (f"unknown: {', '.join(unknown[:5])}" if unknown else "some rows name none")
            )
        rows_of = _rows_by_account(frame, owners)
        named = {
            int(row.id): find_account(connection, str(row.name))
            for row in connection.execute(
                select(accounts.c.id, accounts.c.name).where(accounts.c.id.in_(rows_of))
            )
        }
        for account_id, part in sorted(rows_of.items()):
            account = named[account_id]
            require_account(principal, account.id, account.name)
            _check_currencies(account, result.currencies)
            reports.append(
                _write(
                    connection,
                    account,
                    part,
                    result,
                    errors=errors,
                    rejected=rejected,
                    source_name=source_name or name,
                    sha256=sha256,
                    principal=principal,
                )
            )
    return reports


def _chunk_rows() -> int:
    """Chunks no longer than the row limit (+1), so a file over it is refused at its first."""
    settings = get_settings()
    return min(settings.ingest_chunk_rows, settings.upload_max_rows + 1)


def _rows_by_account(frame: pd.DataFrame, owners: list[Owner]) -> dict[int, pd.DataFrame]:
    owner_of = {
        (o.platform, o.customer_id, o.account_name): o.account_id
        for o in owners
        if o.account_id is not None
    }
    keys = list(
        zip(*(frame[c].astype(str) for c in ("platform", "customer_id", "account")), strict=True)
    )
    ids = np.array([owner_of[key] for key in keys], dtype=np.int64)
    return {int(a): frame.loc[ids == a] for a in np.unique(ids)}


def ingest_result(
    engine: Engine,
    account_name: str,
    result: ReadResult,
    *,
    source_name: str,
    sha256: str,
    partial: bool = False,
    principal: Principal = LOCAL_OPERATOR,
) -> IngestReport:
    """`ingest` for rows a reader already produced; `sha256` is the hex digest of the file."""
    return _store(
        engine,
        get_account(engine, account_name),
        result,
        source_name=source_name,
        sha256=sha256,
        partial=partial,
        principal=principal,
    )


def load_history(
    engine: Engine, account_name: str, *, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """The account's stored history in model shape (currency units), sorted by entity then date.

    `start` and `end` are inclusive; leave either out for an open range.
    """
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"the start date {start} is after the end date {end}")
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        stored = select_stored(connection, account.id, start, end)
    return to_model_frame(stored)


def _store(
    engine: Engine,
    account: Account,
    result: ReadResult,
    *,
    source_name: str,
    sha256: str,
    partial: bool,
    principal: Principal,
) -> IngestReport:
    _check_currencies(account, result.currencies)
    errors, rejected, frame = _accepted(result, partial)
    with transaction(engine) as connection:
        take_write_lock(connection)
        _check_accounts(connection, account, frame)
        return _write(
            connection,
            account,
            frame,
            result,
            errors=errors,
            rejected=rejected,
            source_name=source_name,
            sha256=sha256,
            principal=principal,
        )


def _accepted(result: ReadResult, partial: bool) -> tuple[tuple[RowIssue, ...], int, pd.DataFrame]:
    """The file's errors, how many rows they reject, and the rows to store; refused whole when it
    has errors and `partial` is off."""
    if result.rows_read == 0:
        raise InvalidInputError(
            "the file has no data rows (only a header, title or total lines); nothing was stored"
        )
    frame = with_identity(result.frame)
    unstorable = (*_duplicate_rows(frame), *_nul_characters(frame))
    errors = tuple(sorted((*result.errors, *unstorable), key=lambda issue: issue.line))
    rejected = len({issue.line for issue in errors})
    if errors and not partial:
        raise InvalidInputError(
            f"{rejected:,} of {result.rows_read:,} rows {'has' if rejected == 1 else 'have'} "
            "errors, so nothing was stored "
            f"(first: {errors[0].describe()}); fix the file, or ingest it in partial mode to "
            "store only the valid rows",
            issues=errors,
        )
    if unstorable:
        frame = frame.loc[~frame["line"].isin({issue.line for issue in unstorable})]
    return errors, rejected, frame


def _write(
    connection: Connection,
    account: Account,
    frame: pd.DataFrame,
    result: ReadResult,
    *,
    errors: tuple[RowIssue, ...],
    rejected: int,
    source_name: str,
    sha256: str,
    principal: Principal,
) -> IngestReport:
    """Store one account's rows, the upload's record and its audit entry (caller's transaction)."""
    now = dt.datetime.now(dt.UTC)
    counts = upsert_performance(connection, account.id, frame, now=now)
    late = record_snapshots(connection, account.id, _finest(frame), now=now)
    notes = (*(_renamed(r) for r in counts.renames), *counts.notes)
    tally: dict[str, Any] = {
        "format": result.format,
        "rows_read": result.rows_read,
        "inserted": counts.inserted,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "rejected": rejected,
    }
    connection.execute(
        insert(ingests).values(
            account_id=account.id, source_name=source_name, sha256=sha256, **tally
        )
    )
    record(
        connection,
        principal,
        "performance.ingest",
        f"upload {source_name}",
        account_id=account.id,
        after={**tally, "late_conversion_days": late, "notes": list(notes)},
    )
    return IngestReport(
        account=account.name,
        source_name=source_name,
        errors=errors,
        warnings=(*result.warnings, *_name_warnings(frame)),
        late_conversion_days=late,
        notes=notes,
        **tally,
    )


def _finest(frame: pd.DataFrame) -> pd.DataFrame:
    """Keyword rows, and campaign rows of campaigns without keyword rows (snapshots of a day's
    conversions must not count a campaign's total on top of its keywords)."""
    leaf = frame["keyword"].astype(str) != ""
    with_leaves = set(frame.loc[leaf, "campaign"].astype(str))
    return frame.loc[leaf | ~frame["campaign"].astype(str).isin(with_leaves)]


def _renamed(rename: Rename) -> str:
    platform = PLATFORM_LABELS.get(rename.platform, rename.platform)
    return (
        f"renamed on {platform}: {entity_label(EntityKey(*rename.before))} is now "
        f"{entity_label(EntityKey(*rename.after))} (same IDs; its history is kept)"
    )


def _check_accounts(connection: Connection, account: Account, frame: pd.DataFrame) -> None:
    """Refuse rows that a manager report gives to another account; link the account to the
    platform customer ID its own rows carry, refusing a file that is another account's."""
    owners = account_owners(connection, frame)
    foreign = sorted({o.label for o in owners if o.account_id not in (None, account.id)})
    if len(owners) > 1:
        foreign += sorted({o.label for o in owners if o.account_id is None})
    if foreign:
        raise InvalidInputError(
            f"the file holds rows of other accounts ({', '.join(foreign[:5])}): ingest a manager "
            "(MCC) report with `ppcopt ingest FILE --split-accounts` (API: POST /v1/performance), "
            f"or filter it to account '{account.name}'"
        )
    link_customers(connection, account, frame)


def _check_currencies(account: Account, currencies: frozenset[str]) -> None:
    declared = {code.strip().upper() for code in currencies}
    if declared - {account.currency}:
        raise InvalidInputError(
            f"the file is in {', '.join(sorted(declared))} but account '{account.name}' is in "
            f"{account.currency}; nothing was stored (convert the file or use another account)"
        )


def _duplicate_rows(frame: pd.DataFrame) -> tuple[RowIssue, ...]:
    """The reader's duplicate rule again, for rows that did not come through a file reader."""
    lines = frame["line"].to_numpy(dtype=np.int64)
    keys = frame.loc[:, list(KEY_COLUMNS)].copy()
    for name in NAME_COLUMNS:
        keys[name] = _keyed(frame[name])
    found = check_duplicates(keys, lines, np.ones(len(frame), dtype=bool))
    return tuple(found.issues)


def _keyed(names: pd.Series) -> pd.Series:
    """Each name's identity (`optimizer.names.name_key`), computed once per distinct name."""
    distinct = names.astype(object).fillna("").astype(str)
    return distinct.map({value: name_key(value) for value in distinct.unique()})


def _name_warnings(frame: pd.DataFrame) -> tuple[RowIssue, ...]:
    """Names with invisible or bidi characters or Latin mixed with Cyrillic or Greek in a word:
    stored as given, one warning per distinct name at its first line."""
    issues: list[RowIssue] = []
    for name in NAME_COLUMNS[:3]:
        values = frame[name].astype(object).fillna("").astype(str)
        first_lines = frame["line"].groupby(values.to_numpy(), sort=False).min()
        for value, line in first_lines.items():
            reason = name_warning(str(value))
            if reason is not None:
                issues.append(
                    RowIssue(line=int(line), column=name, value=str(value), message=reason)
                )
    return tuple(sorted(issues, key=lambda issue: issue.line))


def _nul_characters(frame: pd.DataFrame) -> tuple[RowIssue, ...]:
    """Names containing NUL, which PostgreSQL text cannot hold (so no backend stores them)."""
    issues: list[RowIssue] = []
    for name in NAME_COLUMNS:
        distinct = pd.Series(frame[name].unique(), dtype="string")
        bad_values = set(distinct[distinct.str.contains("\x00", regex=False).fillna(False)])
        if not bad_values:
            continue
        bad = frame[name].astype(object).isin(bad_values)
        for line, value in zip(frame.loc[bad, "line"], frame.loc[bad, name], strict=True):
            issues.append(
                RowIssue(
                    line=int(line),
                    column=name,
                    value=str(value).replace("\x00", "\\0"),
                    message="contains a NUL character, which cannot be stored",
                )
            )
    return tuple(issues)


def _fingerprint(source: Source) -> tuple[Source, str, str]:
    """(source to read, hex SHA-256 of its bytes, a name for it); reading starts where it did."""
    if isinstance(source, bytes):
        return source, hashlib.sha256(source).hexdigest(), _UNNAMED_SOURCE
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return source, _file_digest(path), path.name
    name = getattr(source, "name", None)
    shown = Path(name).name if isinstance(name, str) and name else _UNNAMED_SOURCE
    if not source.seekable():
        data = source.read()
        return data, hashlib.sha256(data).hexdigest(), shown
    start = source.tell()
    digest = hashlib.sha256()
    while block := source.read(1 << 20):
        digest.update(block)
    source.seek(start)
    return source, digest.hexdigest(), shown


def _file_digest(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        raise InvalidInputError(f"there is no file at '{path}'") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read '{path}': {exc.strerror or exc}") from None
