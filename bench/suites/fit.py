"""Curve fitting at scale: `fit_account` on a simulated history, timed, scored against the truth.

Accuracy follows tests/optimizer/models/test_models_accuracy.py: fitted and true expected
conversions on the day after the history, each side with its own trend to that day and weekday
factors averaged out, at 0.5x / 1x / 1.5x each entity's mean observed daily spend; `rel_err_*` are
medians of |fitted / true - 1| over the fitted entities.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from typing import Any

import numpy as np
import pandas as pd

from bench.registry import case

__all__ = ["MULTIPLES", "fit_account_case", "fit_accuracy"]

MULTIPLES = (0.5, 1.0, 1.5)
_KEYWORDS = 20
_ENTITIES_PER_CAMPAIGN = _KEYWORDS + 1 / 5
_BUSY_CONVERSIONS_PER_DAY = 1.0


def _mean_spend(history: pd.DataFrame, keys: tuple[Any, ...], days: int) -> dict[Any, float]:
    """Mean daily spend per entity; the simulator writes day after day in truth-key order."""
    from optimizer.schema import NAME_COLUMNS, EntityKey

    n = len(keys)
    assert len(history) == n * days
    first = history.iloc[:n]
    seen = [EntityKey(*row) for row in first.loc[:, list(NAME_COLUMNS)].itertuples(index=False)]
    assert seen == list(keys), "simulated history is not in truth-key order"
    mean = history["spend"].to_numpy().reshape(days, n).mean(axis=0)
    return dict(zip(keys, mean.tolist(), strict=True))


def fit_accuracy(curves: Any, truth: Any, mean_spend: dict[Any, float]) -> dict[str, float]:
    """Median relative error of fitted vs true expected conversions at each multiple of the mean
    spend, pooled, and pooled over entities with at least one conversion a day."""
    from optimizer.simulate import expected_conversions

    target = curves.window_end + dt.timedelta(days=1)
    fitted_curves = list(curves)
    spend = np.array([mean_spend[c.key] for c in fitted_curves])[:, None] * np.array(MULTIPLES)
    fitted = np.array(
        [
            c.expected(x) * np.exp(c.tau * (target - c.reference_date).days)
            for c, x in zip(fitted_curves, spend, strict=True)
        ]
    )
    params = truth.params([c.key for c in fitted_curves])
    true = expected_conversions(params, spend, day_index=truth.day_index(target))
    errors = np.abs(fitted / true - 1.0)
    busy = np.array(
        [
            c.diagnostics.conversions / c.diagnostics.window_days >= _BUSY_CONVERSIONS_PER_DAY
            for c in fitted_curves
        ]
    )
    metrics = {f"rel_err_{m:g}x": float(np.median(errors[:, i])) for i, m in enumerate(MULTIPLES)}
    metrics["rel_err_all"] = float(np.median(errors))
    metrics["busy_entities"] = int(busy.sum())
    metrics["rel_err_busy"] = float(np.median(errors[busy])) if busy.any() else float("nan")
    return metrics


def _workers_peak_mib() -> float:
    """Largest resident size of the loky workers, once they have exited (0 if none ran)."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@case("fit_account")
def fit_account_case(*, entities: int, days: int, n_jobs: int = 2, workdir: str) -> dict[str, Any]:
    """Simulate about `entities` entities over `days` days, fit them all, score the fit."""
    from optimizer.models import FitOptions, fit_account
    from optimizer.simulate import simulate

    started = time.perf_counter()
    campaigns = max(1, round(entities / _ENTITIES_PER_CAMPAIGN))
    sim = simulate(campaigns=campaigns, keywords_per_campaign=_KEYWORDS, days=days, seed=1)
    simulate_s = time.perf_counter() - started
    started = time.perf_counter()
    curves = fit_account(sim.history, FitOptions(), n_jobs=n_jobs)
    elapsed = time.perf_counter() - started
    workers_mib = _workers_peak_mib()
    count = len(curves)
    accuracy = fit_accuracy(curves, sim.truth, _mean_spend(sim.history, sim.truth.keys, days))
    return {
        "entities": count,
        "skipped": len(curves.skipped),
        "days": days,
        "rows": len(sim.history),
        "n_jobs": n_jobs,
        "simulate_s": simulate_s,
        "seconds": elapsed,
        "entities_per_s": count / elapsed,
        "per_entity_ms": 1000 * elapsed / count,
        "workers_peak_rss_mib": workers_mib,
        **accuracy,
    }
