"""Quality against the simulator's truth: curve accuracy and band coverage, and the uplift the
recommendation earns against the oracle (issues 3 and 4). The tests assert the same figures on
smaller accounts; here they are reported over more seeds.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from bench.registry import case

__all__ = ["band_calibration", "fit_accuracy", "uplift"]

_MULTIPLES = np.array([0.5, 1.0, 1.5])
_LOW, _HIGH = 0.5, 1.5


@case("fit_accuracy")
def fit_accuracy(*, seeds: int, campaigns: int, keywords: int, days: int, workdir: str = "") -> Any:
    """Median |fitted / true - 1| of expected conversions at 0.5x / 1x / 1.5x current spend, on
    entities with at least one conversion a day, and how often the truth lies in the 10-90% band."""
    from optimizer.models import fit_account
    from optimizer.simulate import expected_conversions, simulate

    errors: list[np.ndarray] = []
    inside: list[bool] = []
    for seed in range(1, seeds + 1):
        sim = simulate(campaigns=campaigns, keywords_per_campaign=keywords, days=days, seed=seed)
        curves = fit_account(sim.history)
        target = curves.window_end + dt.timedelta(days=1)
        for curve in curves:
            if curve.diagnostics.conversions / curve.diagnostics.window_days < 1.0:
                continue
            spend = _MULTIPLES * curve.current_spend
            trend = np.exp(curve.tau * (target - curve.reference_date).days)
            true = expected_conversions(
                sim.truth.curves[curve.key], spend, day_index=sim.truth.day_index(target)
            )
            errors.append(np.abs(curve.expected(spend) * trend / true - 1.0))
            low = curve.expected(spend, band="low") * trend
            high = curve.expected(spend, band="high") * trend
            inside.extend(bool(v) for v in (low <= true) & (true <= high))
    table = np.array(errors)
    return {
        "seeds": seeds,
        "entities": len(table),
        "median_rel_err": float(np.median(table)),
        "median_rel_err_0_5x": float(np.median(table[:, 0])),
        "median_rel_err_1x": float(np.median(table[:, 1])),
        "median_rel_err_1_5x": float(np.median(table[:, 2])),
        "band_coverage_10_90": float(np.mean(inside)),
    }


@case("uplift")
def uplift(*, seeds: int, campaigns: int, keywords: int, days: int, workdir: str = "") -> Any:
    """Share of the oracle's uplift over the current split that the recommendation earns, at the
    current total budget with every entity within [0.5x, 1.5x] of its current spend."""
    from optimizer.models import fit_account
    from optimizer.schema import MICROS, NAME_COLUMNS, EntityKey
    from optimizer.simulate import optimal_allocation, simulate
    from optimizer.solver import AllocationRequest, Bounds, allocate

    shares: list[float] = []
    changes: list[float] = []
    for seed in range(1, seeds + 1):
        sim = simulate(campaigns=campaigns, keywords_per_campaign=keywords, days=days, seed=seed)
        curves = fit_account(sim.history)
        day = curves.window_end + dt.timedelta(days=1)
        table = curves.table(day)
        current = table["current_spend"].to_numpy(dtype=np.float64)
        budget = float(current.sum())
        bounds = {
            entity: Bounds(round(_LOW * spend * MICROS), round(_HIGH * spend * MICROS))
            for entity, spend in zip(table["entity_id"], current, strict=True)
        }
        request = AllocationRequest(
            currency=sim.truth.currency,
            budget_micros=round(budget * MICROS),
            entity_bounds=bounds,
        )
        allocation = allocate(table, request)
        recommended = (
            allocation.entities.set_index("entity_id")["recommended_spend"]
            .reindex(table["entity_id"])
            .to_numpy(dtype=np.float64)
        )
        keys = [EntityKey(*r) for r in table.loc[:, list(NAME_COLUMNS)].itertuples(index=False)]
        truth = sim.truth.params(keys)
        weekday, index = day.weekday(), sim.truth.day_index(day)

        base = _conversions(truth, current, weekday, index)
        best = optimal_allocation(
            truth, budget, _LOW * current, _HIGH * current, weekday=weekday, day_index=index
        ).objective
        reached = _conversions(truth, recommended, weekday, index)
        shares.append((reached - base) / (best - base))
        changes.append(reached / base - 1.0)
    return {
        "seeds": seeds,
        "days": days,
        "mean_uplift_share": float(np.mean(shares)),
        "min_uplift_share": float(np.min(shares)),
        "max_uplift_share": float(np.max(shares)),
        "worst_change_vs_current": float(np.min(changes)),
    }


def _conversions(truth: Any, spend: np.ndarray, weekday: int, day_index: int) -> float:
    from optimizer.simulate import expected_conversions

    return math.fsum(expected_conversions(truth, spend, weekday=weekday, day_index=day_index))


@case("band_calibration")
def band_calibration(
    *, seeds: int, campaigns: int, keywords: int, days: int, weeks: int, workdir: str = ""
) -> Any:
    """Out-of-sample coverage of the 80% predictive band of entity weeks: calibrated on the first
    half of a backtest's held-out weeks, scored on the second half (issue 19)."""

    from optimizer.backtest import backtest, calibrate
    from optimizer.models import fit_account
    from optimizer.simulate import simulate

    before: list[float] = []
    after: list[float] = []
    scales: list[float] = []
    for seed in range(1, seeds + 1):
        sim = simulate(campaigns=campaigns, keywords_per_campaign=keywords, days=days, seed=seed)
        result = backtest(sim.history, weeks=weeks, fit=fit_account)
        starts = sorted(result.pairs["week"].unique())
        half = len(starts) // 2
        early = result.pairs[result.pairs["week"].isin(starts[:half])]
        late = result.pairs[result.pairs["week"].isin(starts[half:])]
        scale = calibrate(early).scale
        scales.append(scale)
        before.append(_week_coverage(late, 1.0))
        after.append(_week_coverage(late, scale))
    return {
        "seeds": seeds,
        "held_out_weeks": weeks,
        "coverage_80_as_fitted": float(np.mean(before)),
        "coverage_80_calibrated": float(np.mean(after)),
        "calibrated_gap_from_80": abs(float(np.mean(after)) - 0.80),
        "median_scale": float(np.median(scales)),
    }


def _week_coverage(pairs: Any, scale: float) -> float:
    import pandas as pd

    from optimizer.accuracy import window_band_hits
    from optimizer.bands import scaled_band

    low, high = scaled_band(pairs["predicted"], pairs["low"], pairs["high"], scale)
    scaled = pairs.assign(low=low, high=high)
    hits = [window_band_hits(week) for _, week in scaled.groupby("week")]
    return float(pd.concat(hits, ignore_index=True)["inside"].mean())
