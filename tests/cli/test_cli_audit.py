"""`ppcopt audit verify`: 0 on a whole chain; non-zero naming the first row edited or the row
after a deleted one (changed the only way left: around the triggers)."""

from __future__ import annotations

import sqlite3

import pytest

from cli.main import main


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _around_the_triggers(url: str, statement: str) -> None:
    with sqlite3.connect(_sqlite_path(url)) as db:
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log'"
        ).fetchall()
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        db.execute(statement)
        for _, sql in triggers:
            db.execute(sql)


def _three_rows() -> None:
    for name in ("shop", "outlet", "brand"):
        assert main(["accounts", "create", name, "--currency", "EUR", "--timezone", "UTC"]) == 0


def test_a_whole_log_verifies(cli_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    _three_rows()
    assert main(["audit", "verify"]) == 0
    assert "intact: 3 rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        pytest.param("UPDATE audit_log SET actor = 'someone else' WHERE id = 2", 2, id="edited"),
        pytest.param("DELETE FROM audit_log WHERE id = 2", 3, id="deleted"),
        pytest.param("UPDATE audit_log SET after = NULL WHERE id = 3", 3, id="emptied"),
    ],
)
def test_a_changed_log_fails_naming_the_first_bad_row(
    cli_store: str, capsys: pytest.CaptureFixture[str], statement: str, named: int
) -> None:
    _three_rows()
    _around_the_triggers(cli_store, statement)
    assert main(["audit", "verify"]) == 2
    assert f"broken at row {named}" in capsys.readouterr().err
