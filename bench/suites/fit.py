"""Curve fitting at scale: `fit_account` over simulated accounts on the local and Dask engines.

Large accounts are simulated in slices of campaigns whose names get a slice prefix, with the name
columns stored as categoricals: a 100,000-entity x 180-day history is 18M rows, which as plain
strings would need about 6 GiB before the fit starts. Peak memory is reported for this process
(`peak_rss_mib`, by bench.case) and for the largest worker process (`workers_peak_rss_mib`, read
from /proc before the pool or cluster shuts down; 0 when the fit ran in this process).
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
from pandas.api.types import union_categoricals

from bench.registry import case
from bench.suites._procs import tree_peak_mib

__all__ = ["fit_case", "simulate_history"]

_KEYWORDS = 20
_ENTITIES_PER_CAMPAIGN = _KEYWORDS + 1 / 5
_SLICE_CAMPAIGNS = 250
_NAMES = ("campaign", "ad_group", "keyword", "match_type")


def simulate_history(entities: int, days: int, seed: int = 1) -> pd.DataFrame:
    """About `entities` entities (20 keywords + 0.2 campaign-level rows per campaign) x `days`."""
    from optimizer.simulate import simulate

    campaigns = max(1, round(entities / _ENTITIES_PER_CAMPAIGN))
    parts = []
    for index, first in enumerate(range(0, campaigns, _SLICE_CAMPAIGNS)):
        size = min(_SLICE_CAMPAIGNS, campaigns - first)
        part = simulate(
            campaigns=size, keywords_per_campaign=_KEYWORDS, days=days, seed=seed + index
        ).history
        part["campaign"] = f"s{index:03d} " + part["campaign"].astype(str)
        for name in _NAMES:
            part[name] = part[name].astype("category")
        parts.append(part)
    if len(parts) == 1:
        return parts[0]
    names = {
        name: union_categoricals([part.pop(name) for part in parts], ignore_order=True)
        for name in _NAMES
    }
    history = pd.concat(parts, ignore_index=True)
    parts.clear()
    for name, values in names.items():
        history[name] = values
    return history


@case("fit")
def fit_case(
    *,
    entities: int,
    days: int = 180,
    engine: str = "local",
    n_jobs: int = 2,
    workers: int = 2,
    workdir: str = "",
) -> dict[str, Any]:
    """Fit a simulated account; a pool or cluster is started and warmed up before the clock."""
    from optimizer.models import FitOptions, fit_account
    from optimizer.simulate import simulate

    started = time.perf_counter()
    history = simulate_history(entities, days)
    simulate_s = time.perf_counter() - started
    warmup = simulate(campaigns=2, keywords_per_campaign=2, days=60, seed=2).history
    cluster = None
    address = None
    if engine == "dask":
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=40,
        )
        address = cluster.scheduler_address
    try:
        common: dict[str, Any] = {"n_jobs": n_jobs, "engine": engine, "dask_address": address}
        fit_account(warmup, FitOptions(bootstrap=2), **common)
        started = time.perf_counter()
        curves = fit_account(history, FitOptions(), **common)
        seconds = time.perf_counter() - started
        workers_mib = tree_peak_mib()
    finally:
        if cluster is not None:
            cluster.close()
    if engine == "local" and n_jobs != 1:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    fitted = len(curves)
    processes = workers if engine == "dask" else n_jobs
    return {
        "entities": fitted,
        "skipped": len(curves.skipped),
        "rows": len(history),
        "processes": processes,
        "simulate_s": simulate_s,
        "seconds": seconds,
        "entities_per_s": fitted / seconds,
        "ms_per_entity": 1000 * seconds / fitted,
        "cpu_ms_per_entity": 1000 * seconds * processes / fitted,
        "workers_peak_rss_mib": workers_mib,
    }
