"""Ingest: upsert counts, all-or-nothing vs partial, currencies, exact money, reading history back.

Rows come from ReadResults built here (as the readers would return them), so these tests pin the
store's behaviour independently of file parsing; the last tests go through `ingest` and the reader.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

import optimizer.io
from optimizer.errors import InvalidInputError, NotFoundError, RowIssue
from optimizer.schema import (
    CANONICAL_COLUMNS,
    NAME_COLUMNS,
    STORED_COLUMNS,
    ReadResult,
    with_identity,
)
from optimizer.store.engine import transaction
from optimizer.store.tables import entities, ingests, performance
from optimizer.usecases.accounts import create_account
from optimizer.usecases.ingest import IngestReport, ingest, ingest_result, load_history

SHA = "0" * 64
Row = tuple[str, str, str, str, str, int, int, int, int, int]


def _result(
    rows: Sequence[Row],
    *,
    errors: Sequence[RowIssue] = (),
    currencies: frozenset[str] = frozenset(),
    extra_lines: int = 0,
) -> ReadResult:
    """A reader's output for `rows` (file lines 2, 3, ...); `errors` name lines not in `rows`."""
    frame = pd.DataFrame(list(rows), columns=list(STORED_COLUMNS[: STORED_COLUMNS.index("line")]))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    for name in NAME_COLUMNS:
        frame[name] = frame[name].astype("category")
    rejected = {issue.line for issue in errors}
    frame["line"] = [
        line for line in range(2, 2 + len(rows) + len(rejected)) if line not in rejected
    ]
    return ReadResult(
        frame=with_identity(frame).loc[:, list(STORED_COLUMNS)],
        format="canonical",
        rows_read=len(rows) + len(rejected) + extra_lines,
        errors=tuple(errors),
        currencies=currencies,
    )


def _random_rows(seed: int, entity_count: int, days: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    start = dt.date(2026, 1, 1)
    rows: list[Row] = []
    for entity in range(entity_count):
        # Keyword-less rows are whole campaigns (Performance Max): a campaign's row beside its
        # own keywords would be its total, reconciled rather than stored (test_usecase_levels).
        campaign = f"PMax {entity // 4}" if entity % 4 == 0 else f"Campaign {entity // 4}"
        keyword, match = ("", "") if entity % 4 == 0 else (f"kw {entity}", "phrase")
        for day in range(days):
            spend, clicks, impressions, conversions, value = rng.integers(0, 10**9, 5).tolist()
            rows.append(
                (
                    (start + dt.timedelta(days=day)).isoformat(),
                    campaign,
                    "" if entity % 4 == 0 else "AG",
                    keyword,
                    match,
                    spend,
                    clicks,
                    impressions,
                    conversions,
                    value,
                )
            )
    return rows


def _store(engine: Engine, result: ReadResult, *, partial: bool = False) -> IngestReport:
    return ingest_result(engine, "shop", result, source_name="h.csv", sha256=SHA, partial=partial)


def _stored(engine: Engine) -> set[Row]:
    query = select(
        performance.c.date,
        *(entities.c[name] for name in NAME_COLUMNS),
        performance.c.spend_micros,
        performance.c.clicks,
        performance.c.impressions,
        performance.c.conversions_micros,
        performance.c.value_micros,
    ).join_from(performance, entities, performance.c.entity_id == entities.c.id)
    with transaction(engine) as connection:
        return {cast(Row, (row[0].isoformat(), *row[1:])) for row in connection.execute(query)}


def _stamps(engine: Engine) -> dict[int, dt.datetime]:
    """updated_at by clicks (unique in the test rows)."""
    query = select(performance.c.clicks, performance.c.updated_at)
    with transaction(engine) as connection:
        return {clicks: stamp for clicks, stamp in connection.execute(query)}


def _bump(row: Row, column: int) -> Row:
    values: list[Any] = list(row)
    values[column] += 1
    return cast(Row, tuple(values))


def _count(engine: Engine, table: Any) -> int:
    with transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def shop(engine: Engine) -> Engine:
    create_account(engine, "shop", currency="EUR", timezone="Europe/Berlin")
    return engine


ROWS: list[Row] = [
    ("2026-11-01", "Brand", "AG", "shoes", "exact", 10_500_000, 20, 100, 2_000_000, 80_000_000),
    ("2026-11-02", "Brand", "AG", "shoes", "exact", 11_000_000, 22, 110, 3_000_000, 90_000_000),
    ("2026-11-02", "PMax", "", "", "", 50_000_000, 40, 900, 4_000_000, 300_000_000),
]


def test_first_ingest_inserts_every_row(shop: Engine) -> None:
    report = _store(shop, _result(ROWS))
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    assert report.summary() == "3 rows read: 3 inserted, 0 updated, 0 unchanged, 0 rejected"
    assert _stored(shop) == set(ROWS)
    assert _count(shop, entities) == 2


def test_reingesting_the_same_rows_changes_nothing(shop: Engine) -> None:
    rows = _random_rows(seed=7, entity_count=12, days=30)
    first = _store(shop, _result(rows))
    again = _store(shop, _result(rows))
    assert first.inserted == len(rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(rows))
    assert _stored(shop) == set(rows)
    assert _count(shop, entities) == 12


def test_corrected_file_updates_exactly_the_changed_rows(shop: Engine) -> None:
    rows = _random_rows(seed=11, entity_count=10, days=20)
    _store(shop, _result(rows))
    rng = np.random.default_rng(3)
    changed = set(rng.choice(len(rows), size=17, replace=False).tolist())
    column = {position: int(rng.integers(5, 10)) for position in changed}
    corrected = [_bump(row, column[i]) if i in changed else row for i, row in enumerate(rows)]
    added: Row = ("2026-03-01", "New", "", "", "", 1, 1, 1, 1, 1)
    report = _store(shop, _result([*corrected, added]))
    assert (report.inserted, report.updated, report.unchanged) == (1, 17, len(rows) - 17)
    assert _stored(shop) == {*corrected, added}


def test_only_changed_rows_get_a_new_timestamp(shop: Engine) -> None:
    _store(shop, _result(ROWS))
    before = _stamps(shop)
    _store(shop, _result([ROWS[0], _bump(ROWS[1], 6), ROWS[2]]))
    after = _stamps(shop)
    assert after[20] == before[20] and after[40] == before[40]
    assert after[23] > before[22]


def test_row_errors_reject_the_whole_file_by_default(shop: Engine) -> None:
    bad = RowIssue(line=3, column="spend", value="-4", message="spend cannot be negative")
    result = _result([ROWS[0], ROWS[2]], errors=[bad])
    with pytest.raises(InvalidInputError) as raised:
        _store(shop, result)
    assert raised.value.issues == (bad,)
    assert "line 3" in raised.value.message and "nothing was stored" in raised.value.message
    assert (_count(shop, performance), _count(shop, entities), _count(shop, ingests)) == (0, 0, 0)


def test_partial_mode_stores_valid_rows_and_reports_rejected(shop: Engine) -> None:
    issues = [
        RowIssue(line=3, column="date", value="2026-02-30", message="not a date"),
        RowIssue(line=3, column="clicks", value="x", message="not a whole number"),
        RowIssue(line=5, column="spend", value="-4", message="spend cannot be negative"),
    ]
    report = _store(shop, _result([ROWS[0], ROWS[2]], errors=issues), partial=True)
    assert (report.rows_read, report.inserted, report.rejected) == (4, 2, 2)
    assert report.errors == tuple(issues)
    assert report.summary() == "4 rows read: 2 inserted, 0 updated, 0 unchanged, 2 rejected"
    assert _stored(shop) == {ROWS[0], ROWS[2]}


def test_duplicate_entity_days_are_row_errors(shop: Engine) -> None:
    result = _result([ROWS[0], ROWS[1], ROWS[0]])
    with pytest.raises(InvalidInputError) as raised:
        _store(shop, result)
    assert [issue.line for issue in raised.value.issues] == [2, 4]
    assert "line 4" in raised.value.issues[0].message
    report = _store(shop, result, partial=True)
    assert (report.inserted, report.rejected) == (1, 2)
    assert _stored(shop) == {ROWS[1]}


def test_awkward_names_round_trip_exactly(shop: Engine) -> None:
    names = ['Brand, "EU"', "line\nbreak", "back\\slash \\N", "tab\there", " padded ", "Ünïcødé ✓"]
    rows: list[Row] = [("2026-11-01", name, name, name, "exact", 1, 1, 1, 1, 1) for name in names]
    rows.append(("2026-11-01", "NULL", "", "", "", 1, 1, 1, 1, 1))
    assert _store(shop, _result(rows)).inserted == len(rows)
    assert _store(shop, _result(rows)).unchanged == len(rows)
    assert _stored(shop) == set(rows)


def test_names_with_nul_are_row_errors(shop: Engine) -> None:
    result = _result([ROWS[0], ("2026-11-01", "Bad\x00Name", "", "", "", 1, 1, 1, 1, 1)])
    with pytest.raises(InvalidInputError) as raised:
        _store(shop, result)
    assert [(issue.line, issue.column) for issue in raised.value.issues] == [(3, "campaign")]
    report = _store(shop, result, partial=True)
    assert (report.inserted, report.rejected) == (1, 1)
    assert _stored(shop) == {ROWS[0]}


@pytest.mark.parametrize(
    "currencies",
    [frozenset({"USD"}), frozenset({"EUR", "USD"})],
    ids=["other-currency", "mixed-currencies"],
)
def test_file_in_another_currency_is_rejected(shop: Engine, currencies: frozenset[str]) -> None:
    with pytest.raises(InvalidInputError, match="USD") as raised:
        _store(shop, _result(ROWS, currencies=currencies), partial=True)
    assert "EUR" in raised.value.message
    assert _count(shop, performance) == 0


def test_file_in_the_accounts_currency_is_accepted(shop: Engine) -> None:
    report = _store(shop, _result(ROWS, currencies=frozenset({"eur"})))
    assert report.inserted == 3


def test_money_is_stored_exactly(shop: Engine) -> None:
    beyond_float = 2**53 + 1  # no float64 holds this integer
    rows: list[Row] = [
        ("2026-11-01", "A", "", "", "", 100_000, 1, 1, 100_000, 100_000),
        ("2026-11-02", "A", "", "", "", 200_000, 1, 1, 200_000, 200_000),
        ("2026-11-03", "A", "", "", "", beyond_float, 1, 1, beyond_float, beyond_float),
    ]
    _store(shop, _result(rows))
    assert _store(shop, _result(rows)).unchanged == 3
    assert _stored(shop) == set(rows)
    with transaction(shop) as connection:
        total = connection.execute(
            select(func.sum(performance.c.spend_micros)).where(performance.c.spend_micros < 10**6)
        ).scalar_one()
    assert total == 300_000
    history = load_history(shop, "shop")
    assert history["spend"].tolist()[:2] == [0.1, 0.2]


def test_every_ingest_is_recorded(shop: Engine) -> None:
    _store(shop, _result(ROWS))
    _store(shop, _result(ROWS[:2], extra_lines=1))
    with transaction(shop) as connection:
        records = connection.execute(
            select(
                ingests.c.source_name,
                ingests.c.sha256,
                ingests.c.format,
                ingests.c.rows_read,
                ingests.c.inserted,
                ingests.c.updated,
                ingests.c.unchanged,
                ingests.c.rejected,
            ).order_by(ingests.c.id)
        ).all()
    assert [tuple(record) for record in records] == [
        ("h.csv", SHA, "canonical", 3, 3, 0, 0, 0),
        ("h.csv", SHA, "canonical", 3, 0, 0, 2, 0),
    ]


def test_history_is_the_model_frame_sorted_by_entity_then_date(shop: Engine) -> None:
    rows: list[Row] = [
        ("2026-11-02", "b", "", "", "", 2_500_000, 1, 10, 0, 0),
        ("2026-11-01", "b", "", "", "", 1_000_000, 1, 10, 0, 0),
        ("2026-11-01", "B", "x", "kw", "exact", 3_000_000, 2, 20, 1_500_000, 9_990_000),
        ("2026-11-03", "a", "", "", "", 0, 0, 0, 0, 0),
    ]
    _store(shop, _result(rows))
    history = load_history(shop, "shop")
    assert list(history.columns) == list(CANONICAL_COLUMNS)
    assert history["campaign"].tolist() == ["B", "a", "b", "b"]
    assert history["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-11-01",
        "2026-11-03",
        "2026-11-01",
        "2026-11-02",
    ]
    first = history.iloc[0]
    assert (first["keyword"], first["match_type"], first["spend"]) == ("kw", "exact", 3.0)
    assert (first["conversions"], first["conversion_value"]) == (1.5, 9.99)
    assert history["date"].dtype == "datetime64[ns]"


def test_history_can_be_limited_to_a_date_range(shop: Engine) -> None:
    _store(shop, _result(_random_rows(seed=5, entity_count=3, days=10)))
    window = load_history(shop, "shop", start=dt.date(2026, 1, 3), end=dt.date(2026, 1, 5))
    assert len(window) == 9
    assert window["date"].min() == pd.Timestamp("2026-01-03")
    assert window["date"].max() == pd.Timestamp("2026-01-05")
    assert len(load_history(shop, "shop", start=dt.date(2026, 1, 9))) == 6
    with pytest.raises(InvalidInputError, match="after"):
        load_history(shop, "shop", start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 3))


def test_history_of_an_account_without_rows_is_empty(shop: Engine) -> None:
    history = load_history(shop, "shop")
    assert history.empty
    assert list(history.columns) == list(CANONICAL_COLUMNS)


def test_accounts_do_not_see_each_others_rows(shop: Engine) -> None:
    create_account(shop, "other", currency="EUR", timezone="UTC")
    _store(shop, _result(ROWS))
    ingest_result(shop, "other", _result(ROWS[:1]), source_name="o.csv", sha256=SHA)
    assert len(load_history(shop, "shop")) == 3
    assert len(load_history(shop, "other")) == 1
    assert _count(shop, entities) == 3


def test_unknown_account_is_not_found(shop: Engine) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"):
        ingest_result(shop, "ghost", _result(ROWS), source_name="h.csv", sha256=SHA)
    with pytest.raises(NotFoundError, match="'ghost'"):
        load_history(shop, "ghost")


CSV = (
    b"date,campaign,ad_group,keyword,match_type,spend,clicks,impressions,conversions,"
    b"conversion_value\n"
    b"2026-11-01,Brand,AG,shoes,exact,10.50,20,100,2,80.00\n"
    b"2026-11-02,Brand,AG,shoes,exact,11.00,22,110,3,90.00\n"
    b"2026-11-02,PMax,,,,50.00,40,900,4,300.00\n"
)


@pytest.mark.parametrize("kind", ["path", "bytes", "stream"], ids=["path", "bytes", "stream"])
def test_ingest_reads_the_file_and_is_idempotent(shop: Engine, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "history.csv"
    path.write_bytes(CSV)
    sources: dict[str, Any] = {"path": path, "bytes": CSV, "stream": io.BytesIO(CSV)}
    first = ingest(shop, "shop", sources[kind], today=dt.date(2026, 11, 20))
    again = ingest(shop, "shop", CSV, source_name="again.csv", today=dt.date(2026, 11, 20))
    assert first.summary() == "3 rows read: 3 inserted, 0 updated, 0 unchanged, 0 rejected"
    assert again.summary() == "3 rows read: 0 inserted, 0 updated, 3 unchanged, 0 rejected"
    assert _stored(shop) == set(ROWS)
    expected_name = {"path": "history.csv", "bytes": "upload", "stream": "upload"}[kind]
    assert (first.source_name, again.source_name) == (expected_name, "again.csv")
    with transaction(shop) as connection:
        digests = set(connection.execute(select(ingests.c.sha256)).scalars())
    assert digests == {hashlib.sha256(CSV).hexdigest()}


def test_ingest_of_a_missing_file_is_invalid_input(shop: Engine, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no file"):
        ingest(shop, "shop", tmp_path / "missing.csv")


def test_today_defaults_to_the_accounts_own_date(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # UTC+14 and UTC-11 are always on different calendar days.
    zones = {"east": "Pacific/Kiritimati", "west": "Pacific/Pago_Pago"}
    for name, zone in zones.items():
        create_account(engine, name, currency="EUR", timezone=zone)
    seen: dict[str, dt.date] = {}

    def fake_reader(source: Any, *, today: dt.date, **_: Any) -> ReadResult:
        seen[source.decode()] = today
        return _result(ROWS[:1])

    monkeypatch.setattr(optimizer.io, "read_performance", fake_reader)
    for name in zones:
        ingest(engine, name, name.encode())
    for name, zone in zones.items():
        assert seen[name] in {
            dt.datetime.now(ZoneInfo(zone)).date(),
            (dt.datetime.now(ZoneInfo(zone)) - dt.timedelta(minutes=1)).date(),
        }
    assert seen["east"] != seen["west"]
