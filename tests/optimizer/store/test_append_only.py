"""Append-only in the database (issue 20): whoever holds a connection cannot rewrite history.

Approved caps, published plans and the audit log refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE
by database triggers, which bind every role, superusers included; a proposed cap is still decided,
once. The audit log is hash-chained: an edit or a deletion made around the triggers (a superuser
switching them off) is found by `verify_audit` / `ppcopt audit verify`, naming the first bad row.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from optimizer.access import Role, system_principal
from optimizer.store.engine import make_engine, transaction, upgrade
from optimizer.store.tables import audit_log, caps, curve_sets, recommendations
from optimizer.usecases.accounts import create_account
from optimizer.usecases.audit import record, verify_audit
from optimizer.usecases.caps import decide_cap, propose_cap
from tests.conftest import POSTGRES_URL

_MARIA = system_principal("cli:maria", Role.FINANCE)
_JOHN = system_principal("cli:john", Role.FINANCE)
_DAY = dt.date(2026, 12, 1)


def _approved_cap(engine: Engine) -> int:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    cap = propose_cap(
        engine,
        _MARIA,
        "shop",
        period_start=_DAY,
        period_end=_DAY + dt.timedelta(days=30),
        amount="1000",
        currency="EUR",
    )
    decide_cap(engine, _JOHN, cap.id, approve=True)
    return cap.id


def _published_plan(engine: Engine, cap_id: int) -> int:
    """A published plan row as publishing writes it (the plan's content does not matter here)."""
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as connection:
        account_id = connection.execute(select(caps.c.account_id)).scalar_one()
        curve_set_id = connection.execute(
            insert(curve_sets)
            .values(
                account_id=account_id,
                version=1,
                fitted_at=now,
                window_start=_DAY,
                window_end=_DAY,
                data_fingerprint="x",
                entity_count=0,
                format_version=1,
                skipped="[]",
            )
            .returning(curve_sets.c.id)
        ).scalar_one()
        return int(
            connection.execute(
                insert(recommendations)
                .values(
                    account_id=account_id,
                    date=_DAY,
                    cap_id=cap_id,
                    curve_set_id=curve_set_id,
                    budget_micros=10_000_000,
                    total_micros=10_000_000,
                    created_at=now,
                    created_by="cli:john",
                    etag="e",
                    pacing="{}",
                    payload="[]",
                )
                .returning(recommendations.c.id)
            ).scalar_one()
        )


def _refused(engine: Engine, statement: object) -> str:
    with pytest.raises(DBAPIError) as caught, transaction(engine) as connection:
        connection.execute(statement)  # type: ignore[call-overload]
    return str(caught.value.orig)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda: update(caps).values(amount_micros=9_000_000_000), id="raise-amount"),
        pytest.param(lambda: update(caps).values(status="proposed"), id="undecide"),
        pytest.param(lambda: update(caps).values(status="rejected"), id="re-decide"),
        pytest.param(lambda: update(caps).values(period_end=dt.date(2027, 6, 1)), id="extend"),
        pytest.param(lambda: delete(caps), id="delete"),
    ],
)
def test_an_approved_cap_cannot_be_changed_in_the_database(engine: Engine, change) -> None:  # type: ignore[no-untyped-def]
    cap_id = _approved_cap(engine)
    assert "caps" in _refused(engine, change())
    with transaction(engine) as connection:
        row = connection.execute(select(caps).where(caps.c.id == cap_id)).one()
    assert (row.status, row.amount_micros) == ("approved", 1_000_000_000)


def test_a_proposed_cap_is_still_decided_once_but_its_terms_are_fixed(engine: Engine) -> None:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    cap = propose_cap(
        engine,
        _MARIA,
        "shop",
        period_start=_DAY,
        period_end=_DAY,
        amount="10",
        currency="EUR",
    )
    assert "caps" in _refused(
        engine, update(caps).values(amount_micros=99_000_000, status="approved")
    )
    decided = decide_cap(engine, _JOHN, cap.id, approve=False, note="too low")
    assert decided.status == "rejected"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda: update(recommendations).values(budget_micros=1), id="plan-update"),
        pytest.param(lambda: delete(recommendations), id="plan-delete"),
        pytest.param(lambda: update(audit_log).values(actor="nobody"), id="audit-update"),
        pytest.param(lambda: delete(audit_log), id="audit-delete"),
    ],
)
def test_published_plans_and_the_audit_log_refuse_update_and_delete(
    engine: Engine,
    change,  # type: ignore[no-untyped-def]
) -> None:
    _published_plan(engine, _approved_cap(engine))
    assert "append-only" in _refused(engine, change())


@pytest.fixture
def app_role_engine(engine: Engine) -> Iterator[Engine]:
    """The same PostgreSQL schema through a login role that is not a superuser and not the
    tables' owner, granted every table privilege (the worst an operator might grant the app)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE and roles are PostgreSQL's")
    with transaction(engine) as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    role = f"ppcopt_app_{uuid.uuid4().hex[:12]}"
    with transaction(engine) as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER'))
        connection.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        connection.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
    url = POSTGRES_URL.replace("postgres@", f"{role}@", 1)
    app_engine = make_engine(url, schema=schema)
    try:
        yield app_engine
    finally:
        app_engine.dispose()
        with transaction(engine) as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))


@pytest.mark.parametrize("table", ["audit_log", "caps", "recommendations", "predictions"])
def test_truncate_fails_for_the_applications_database_role(
    engine: Engine, app_role_engine: Engine, table: str
) -> None:
    _published_plan(engine, _approved_cap(engine))
    with transaction(engine) as connection:
        before = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    with pytest.raises(DBAPIError, match="append-only"), transaction(app_role_engine) as c:
        c.execute(text(f"TRUNCATE {table} CASCADE"))
    with transaction(engine) as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == before


def _tamper(engine: Engine, statement: object) -> None:
    """Change the log the way only someone around the triggers could (a superuser with
    `session_replication_role = replica`; on SQLite, dropping the triggers)."""
    with transaction(engine) as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(statement)  # type: ignore[call-overload]
            return
        _sqlite_without_triggers(connection, statement)


def _sqlite_without_triggers(connection: Connection, statement: object) -> None:
    kept = connection.execute(
        text("SELECT sql FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log'")
    ).scalars()
    kept = list(kept)
    names = connection.execute(
        text("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log'")
    ).scalars()
    for name in list(names):
        connection.execute(text(f"DROP TRIGGER {name}"))
    connection.execute(statement)  # type: ignore[call-overload]
    for sql in kept:
        connection.execute(text(sql))


def _audit_ids(engine: Engine) -> list[int]:
    with transaction(engine) as connection:
        return [int(i) for i in connection.execute(select(audit_log.c.id).order_by("id")).scalars()]


def test_a_whole_chain_verifies(engine: Engine) -> None:
    _approved_cap(engine)
    check = verify_audit(engine)
    assert check.intact
    assert check.rows == len(_audit_ids(engine)) == 3


def test_an_edited_audit_row_is_named(engine: Engine) -> None:
    _approved_cap(engine)
    ids = _audit_ids(engine)
    _tamper(engine, update(audit_log).where(audit_log.c.id == ids[1]).values(actor="cli:mallory"))
    check = verify_audit(engine)
    assert (check.intact, check.bad_id) == (False, ids[1])
    assert "edited" in check.reason


def test_a_deleted_audit_row_is_found_at_the_row_after_it(engine: Engine) -> None:
    _approved_cap(engine)
    ids = _audit_ids(engine)
    _tamper(engine, delete(audit_log).where(audit_log.c.id == ids[1]))
    check = verify_audit(engine)
    assert (check.intact, check.bad_id) == (False, ids[2])
    assert "deleted" in check.reason


def test_twenty_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    """Twenty transactions each append one row at the same moment; without the chain lock two of
    them read the same last hash and the chain forks."""
    start = threading.Barrier(20)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            with transaction(engine) as connection:
                record(connection, _MARIA, "test.write", f"writer {n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = verify_audit(engine)
    assert (check.intact, check.rows) == (True, 20), check.reason


def test_existing_rows_are_chained_by_the_migration(blank_engine: Engine) -> None:
    upgrade(blank_engine, "0014")
    with transaction(blank_engine) as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_log (at, actor, role, action, target, after) "
                    "VALUES (:at, 'cli:old', 'admin', 'account.create', :target, '{\"n\": 1}')"
                ),
                {"at": dt.datetime(2026, 1, 1, 12, n, 0, 123456, tzinfo=dt.UTC), "target": str(n)},
            )
    upgrade(blank_engine)
    assert verify_audit(blank_engine).intact
    with transaction(blank_engine) as connection:
        record(connection, _MARIA, "test.write", "after the migration")
    check = verify_audit(blank_engine)
    assert (check.intact, check.rows) == (True, 4)
