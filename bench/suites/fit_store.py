"""Fitting an account from the store, whole or in slices of campaigns: what the client holds.

The store is filled in a child process (simulating and ingesting millions of rows costs more
memory than fitting them), so this process's peak is the fit's own: the use case `fit` reading
the account, as `ppcopt fit` and the nightly job do, with `PPCOPT_FIT_SLICE_ROWS` rows at a time.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from bench.registry import case
from bench.suites._procs import tree_peak_mib
from bench.suites._store import scratch_store

__all__ = ["fit_store"]

_ACCOUNT = "big"


def _seed(url: str, entities: int, days: int, folder: str) -> int:
    from bench.suites.fit import simulate_history
    from optimizer.io import write_canonical_csv
    from optimizer.store.engine import make_engine
    from optimizer.usecases.accounts import create_account
    from optimizer.usecases.ingest import ingest

    history = simulate_history(entities, days)
    path = Path(folder) / "store-history.csv"
    write_canonical_csv(history, path)
    engine = make_engine(url)
    try:
        create_account(engine, _ACCOUNT, currency="EUR", timezone="Europe/Berlin")
        ingest(engine, _ACCOUNT, path, today=history["date"].max().date())
    finally:
        engine.dispose()
        path.unlink()
    return len(history)


@case("fit_store")
def fit_store(
    *, entities: int, slice_rows: int, days: int = 180, n_jobs: int = 2, workdir: str = ""
) -> dict[str, Any]:
    """`usecases.fit.fit` on a SQLite store holding `entities` x `days` rows."""
    with scratch_store("sqlite", workdir) as (engine, env):
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(1) as pool:
            rows = pool.apply(_seed, (env["PPCOPT_DATABASE_URL"], entities, days, workdir))
        os.environ["PPCOPT_FIT_SLICE_ROWS"] = str(slice_rows)
        from optimizer.settings import get_settings
        from optimizer.usecases.fit import fit

        get_settings.cache_clear()
        started = time.perf_counter()
        outcome = fit(engine, _ACCOUNT, n_jobs=n_jobs)
        seconds = time.perf_counter() - started
        workers_mib = tree_peak_mib()
    if n_jobs != 1:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    return {
        "entities": len(outcome.stored.curve_set),
        "rows": rows,
        "slice_rows": slice_rows,
        "seconds": seconds,
        "workers_peak_rss_mib": workers_mib,
    }
