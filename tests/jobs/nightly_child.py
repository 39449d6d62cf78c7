"""Child process for the SIGKILL test: one manual run that stalls inside the publish transaction.

Usage: python -m tests.jobs.nightly_child URL SCHEMA|- ACCOUNT NOW_ISO INBOX MARKER
The audit entry is written in the same transaction as the new recommendation, after its INSERT;
the stub writes MARKER there and sleeps, so the parent kills the run with its row uncommitted.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> None:
    url, schema, account, now, inbox, marker = argv
    from optimizer.access import system_principal
    from optimizer.settings import Settings
    from optimizer.store.engine import make_engine
    from optimizer.usecases import recommendations
    from optimizer.usecases.nightly import run_nightly

    original = recommendations.record

    def stalled(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        Path(marker).write_text("inside the publish transaction", encoding="utf-8")
        time.sleep(120)

    recommendations.record = stalled  # type: ignore[assignment]
    engine = make_engine(url, schema=None if schema == "-" else schema)
    settings = Settings(database_url=url, inbox=Path(inbox), job_backoff_seconds=0)
    run_nightly(
        engine,
        system_principal("nightly job"),
        account,
        now=dt.datetime.fromisoformat(now),
        trigger="manual",
        settings=settings,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
