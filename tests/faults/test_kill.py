"""SIGKILL in the middle of a write: the CLI process dies inside its transaction, after it has
sent its first write to the table that matters. Afterwards nothing of that write is visible and
everything accepted before is intact, on SQLite and PostgreSQL.

The kill is aimed, not timed: a SQLAlchemy hook in the child kills it right after the statement,
so every run really dies mid-transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from optimizer.access import Role, system_principal
from optimizer.usecases.caps import decide_cap, propose_cap
from tests.api.harness import ROOT
from tests.faults.conftest import ACCOUNT, Store, history
from tests.stores import dump

_CHILD = """
import os, re, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
from cli import main

target = re.compile(sys.argv[1], re.IGNORECASE)

@event.listens_for(Engine, "after_cursor_execute")
def _die(conn, cursor, statement, parameters, context, executemany):
    if target.search(statement):
        os.kill(os.getpid(), signal.SIGKILL)

sys.exit(main(sys.argv[2:]))
"""


def _killed(store: Store, pattern: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in its own session; output goes to a file, since worker processes of a fit
    would keep a pipe open after their parent died. Leftover workers are killed with it."""
    log = store.workdir / f"child-{len(list(store.workdir.glob('child-*')))}.log"
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, pattern, *args],
            cwd=ROOT,
            env={**os.environ, **store.env, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = child.wait(timeout=300)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(child.args, code, log.read_text(), "")


def _assert_killed(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr


def test_kill_during_ingest(fitted: Store, tmp_path: Path) -> None:
    before = dump(fitted.engine)
    earlier_end = fitted.history_end - dt.timedelta(days=60)
    older = history(tmp_path, "older.csv", days=120, end=earlier_end, seed=11)
    run = _killed(fitted, r"^\s*(INSERT|UPDATE)\s+(INTO\s+)?performance\b", "ingest",
                  str(older), "--account", ACCOUNT)  # fmt: skip
    _assert_killed(run)
    assert dump(fitted.engine) == before


def test_kill_during_fit(fitted: Store) -> None:
    before = dump(fitted.engine)
    run = _killed(fitted, r"^\s*INSERT\s+INTO\s+curves\b", "fit", "--account", ACCOUNT)
    _assert_killed(run)
    assert dump(fitted.engine) == before


def test_kill_during_publish(fitted: Store) -> None:
    day = fitted.history_end + dt.timedelta(days=2)
    proposer = system_principal("cli:finance-1", Role.FINANCE)
    approver = system_principal("cli:finance-2", Role.FINANCE)
    cap = propose_cap(fitted.engine, proposer, ACCOUNT, period_start=day, period_end=day,
                      amount="900.00", currency="EUR")  # fmt: skip
    decide_cap(fitted.engine, approver, cap.id, approve=True)
    before = dump(fitted.engine)
    pattern = r"^\s*INSERT\s+INTO\s+recommendations\b"
    run = _killed(fitted, pattern, "publish", ACCOUNT, "--date", day.isoformat())
    _assert_killed(run)
    assert dump(fitted.engine) == before
    done = _killed(fitted, r"^$", "publish", ACCOUNT, "--date", day.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(dump(fitted.engine)["recommendations"]) == 1
