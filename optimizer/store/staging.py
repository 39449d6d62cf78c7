"""Temporary staging tables and the fastest bulk load each backend offers.

PostgreSQL gets psycopg 3 `COPY ... FROM STDIN` (CSV); SQLite (the only other backend) gets the
driver's `executemany`. Both
load in chunks so a million-row file never exists as a million Python tuples at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
from sqlalchemy import Column, Connection, MetaData, Table
from sqlalchemy.types import TypeEngine

from optimizer.errors import StoreUnavailableError

__all__ = ["analyze", "bulk_load", "temporary_table"]

_CHUNK_ROWS = 100_000


def temporary_table(
    connection: Connection, name: str, columns: dict[str, TypeEngine[Any]]
) -> Table:
    """Create a connection-private table that disappears with the connection (or `drop`)."""
    table = Table(
        name,
        MetaData(),
        *(Column(column, type_) for column, type_ in columns.items()),
        prefixes=["TEMPORARY"],
    )
    table.create(connection)
    return table


def bulk_load(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Append `frame` (columns named like `table`'s, values already in storage form) to `table`.

    Text columns get '' rather than NULL for empty values on both backends.
    """
    names = [column.name for column in table.columns]
    if connection.dialect.name == "postgresql":
        _copy_postgres(connection, table, names, frame)
    else:
        _executemany(connection, table, names, frame)


def analyze(connection: Connection, table: Table) -> None:
    """Give PostgreSQL's planner the row count and value spread of a freshly loaded table.

    Autovacuum never analyses temporary tables, so without this a staged million rows would be
    planned as a guess.
    """
    if connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.quote
        connection.exec_driver_sql(f"ANALYZE {quote(table.name)}")


def _chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), _CHUNK_ROWS):
        yield frame.iloc[start : start + _CHUNK_ROWS]


def _copy_postgres(
    connection: Connection, table: Table, names: list[str], frame: pd.DataFrame
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    text_columns = [quote(c.name) for c in table.columns if c.type.python_type is str]
    options = "FORMAT csv"
    if text_columns:
        options += f", FORCE_NOT_NULL ({', '.join(text_columns)})"
    statement = (
        f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN ({options})"
    )
    driver_connection = connection.connection.driver_connection
    if driver_connection is None:
        raise StoreUnavailableError("the database connection closed during the upload")
    try:
        with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for chunk in _chunks(frame):
                copy.write(chunk.to_csv(columns=names, header=False, index=False))
    except psycopg.OperationalError as exc:
        # COPY runs on the raw driver connection, outside SQLAlchemy's error translation.
        raise StoreUnavailableError(
            f"the database connection failed during the upload ({exc})"
        ) from exc


def _executemany(
    connection: Connection, table: Table, names: list[str], frame: pd.DataFrame
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    for chunk in _chunks(frame):
        rows = list(zip(*(chunk[name].tolist() for name in names), strict=True))
        connection.exec_driver_sql(statement, rows)
