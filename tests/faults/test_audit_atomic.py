"""Every audited change and its audit row commit together: a process killed between the two steps
leaves both or neither, on SQLite and PostgreSQL.

The CLI child is killed right after it sent the change's statement (before the audit row) or right
after the audit row (before the commit); the store must then be exactly as before. A run left to
finish adds the change and exactly one audit row for it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.faults.conftest import ACCOUNT, Store, history
from tests.faults.test_kill import _assert_killed, _killed
from tests.stores import dump

_AUDIT = r"^\s*INSERT\s+INTO\s+audit_log\b"


def _audit_actions(store: Store) -> list[str]:
    return sorted(str(row[5]) for row in dump(store.engine)["audit_log"])


def _ingest_args(store: Store, tmp_path: Path) -> list[str]:
    older = history(tmp_path, "older.csv", days=30, end=store.history_end - dt.timedelta(days=90))
    return ["ingest", str(older), "--account", ACCOUNT]


CASES = [
    pytest.param(
        "performance.ingest",
        "ingests",
        r"^\s*INSERT\s+INTO\s+ingests\b",
        _ingest_args,
        id="ingest",
    ),
    pytest.param(
        "curves.fit",
        "curve_sets",
        r"^\s*INSERT\s+INTO\s+curve_sets\b",
        lambda store, tmp: ["fit", "--account", ACCOUNT],
        id="fit",
    ),
    pytest.param(
        "account.create",
        "accounts",
        r"^\s*INSERT\s+INTO\s+accounts\b",
        lambda store, tmp: [
            "accounts",
            "create",
            "second",
            "--currency",
            "EUR",
            "--timezone",
            "UTC",
        ],
        id="account-create",
    ),
    pytest.param(
        "account.locale",
        "accounts",
        r"^\s*UPDATE\s+accounts\b",
        lambda store, tmp: ["accounts", "locale", ACCOUNT, "de_DE"],
        id="account-locale",
    ),
]


@pytest.mark.parametrize(("action", "table", "change", "args"), CASES)
def test_a_kill_between_change_and_audit_leaves_neither(
    fitted: Store, tmp_path: Path, action: str, table: str, change: str, args
) -> None:
    command = args(fitted, tmp_path)
    before = dump(fitted.engine)
    for pattern in (change, _AUDIT):
        _assert_killed(_killed(fitted, pattern, *command))
        assert dump(fitted.engine) == before, f"killed after {pattern!r}"
    done = _killed(fitted, r"^$", *command)
    assert done.returncode == 0, done.stdout + done.stderr
    after = dump(fitted.engine)
    assert after[table] != before[table]
    added = _audit_actions(fitted)
    for existing in sorted(str(row[5]) for row in before["audit_log"]):
        added.remove(existing)
    assert added == [action]
