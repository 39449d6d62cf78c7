"""Pacing over the period (issue 17): how fast the period plan solves, and what it earns over a
month against the weekday-share rule it replaced, on the simulator's truth at the same cap.

`pacing_period`: `plan_period` for n entities x 31 days (the curves of `bench.suites.solver`'s
problem, each entity with its own weekday profile).

`pacing_vs_weekday_share`: a fitted account planned every night of a 31-day period under one cap,
once with the weekday-share rule (`daily_budget`) and once with the period plan (`paced`); every
day's split by `allocate` at +30% a day at most; conversions counted on the true curves of that
day (weekday, trend), spend as planned. The guard is the same in both (half of what is left).
`weekday_swing` strengthens the simulator's weeks (3: weekend dips and lifts three times as deep).
`promo_lift` runs a promotion over days `promo_first`..`promo_first + promo_days - 1` of the
period (true conversions per unit of spend times `promo_lift`); the period plan is told it as a
confirmed promotion with `stated_lift` (a manager's estimate, which may be off), the weekday-share
rule has no way to use it.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

import numpy as np

from bench.registry import case

__all__ = ["pacing_period", "pacing_vs_weekday_share"]

_DAYS = 31
_CAP_SHARE = 0.9
_MAX_INCREASE = 0.3


@case("pacing_period")
def pacing_period(*, entities: int, workdir: str = "") -> Any:
    """Seconds to plan the period for `entities` x 31 days."""
    from bench.suites.solver import make_case
    from optimizer.schema import MICROS
    from optimizer.solver import AllocationRequest, plan_period

    table, _, _ = make_case(entities)
    rng = np.random.default_rng(7)
    profile = rng.uniform(0.7, 1.3, (entities, 7))
    start = dt.date(2026, 12, 1)
    days = [start + dt.timedelta(days=i) for i in range(_DAYS)]
    weights = np.array([profile[:, d.weekday()] for d in days])
    remaining = round(float(table["current_spend"].sum()) * _DAYS * _CAP_SHARE * MICROS)
    request = AllocationRequest(currency="EUR")
    started = time.perf_counter()
    plan = plan_period(table, weights, days, request, remaining_micros=remaining)
    seconds = time.perf_counter() - started
    return {
        "entities": entities,
        "days": _DAYS,
        "seconds": seconds,
        "planned_share_of_cap": plan.total_micros / remaining,
    }


@case("pacing_vs_weekday_share")
def pacing_vs_weekday_share(
    *,
    seeds: int,
    campaigns: int,
    keywords: int,
    days: int,
    cap_share: float,
    weekday_swing: float = 1.0,
    promo_lift: float = 1.0,
    stated_lift: float | None = None,
    promo_first: int = 10,
    promo_days: int = 5,
    workdir: str = "",
) -> Any:
    """Period conversions (true curves) with the period plan over those with the weekday share."""
    from optimizer.models import fit_account
    from optimizer.models.events import Event
    from optimizer.schema import MICROS, NAME_COLUMNS, EntityKey
    from optimizer.simulate import Scenario, expected_conversions, simulate

    ratios: list[float] = []
    spends: list[tuple[float, float]] = []
    for seed in range(1, seeds + 1):
        sim = simulate(
            campaigns=campaigns,
            keywords_per_campaign=keywords,
            days=days,
            seed=seed,
            scenario=Scenario(weekday_swing=weekday_swing),
        )
        curves = fit_account(sim.history)
        start = curves.window_end + dt.timedelta(days=1)
        end = start + dt.timedelta(days=_DAYS - 1)
        table = curves.table(start)
        cap = round(float(table["current_spend"].sum()) * _DAYS * cap_share * MICROS)
        keys = [EntityKey(*r) for r in table.loc[:, list(NAME_COLUMNS)].itertuples(index=False)]
        truth = sim.truth.params(keys)
        promo = (
            start + dt.timedelta(days=promo_first),
            start + dt.timedelta(days=promo_first + promo_days - 1),
        )
        events = (
            (Event(promo[0], promo[1], "promo", stated_lift),) if stated_lift is not None else ()
        )
        results = {}
        for rule in ("weekday_share", "period_plan"):
            conversions, spent = 0.0, 0
            for offset in range(_DAYS):
                day = start + dt.timedelta(days=offset)
                spend = _one_day(curves, rule, day, end, cap, spent, sim.truth.currency, events)
                spent += round(float(spend.sum()) * MICROS)
                lift = promo_lift if promo[0] <= day <= promo[1] else 1.0
                conversions += lift * math.fsum(
                    expected_conversions(
                        truth, spend, weekday=day.weekday(), day_index=sim.truth.day_index(day)
                    )
                )
            assert spent <= cap, (rule, spent, cap)
            results[rule] = (conversions, spent / cap)
        ratios.append(results["period_plan"][0] / results["weekday_share"][0])
        spends.append((results["weekday_share"][1], results["period_plan"][1]))
    return {
        "seeds": seeds,
        "cap_share_of_current": cap_share,
        "weekday_swing": weekday_swing,
        "promo_lift": promo_lift,
        "stated_lift": stated_lift,
        "mean_conversions_ratio": float(np.mean(ratios)),
        "min_conversions_ratio": float(np.min(ratios)),
        "max_conversions_ratio": float(np.max(ratios)),
        "weekday_share_spend_of_cap": float(np.mean([w for w, _ in spends])),
        "period_plan_spend_of_cap": float(np.mean([p for _, p in spends])),
    }


def _one_day(
    curves: Any,
    rule: str,
    day: dt.date,
    end: dt.date,
    cap: int,
    spent: int,
    currency: str,
    events: tuple[Any, ...],
) -> np.ndarray:
    import dataclasses

    from optimizer.planning import paced, pacing_weights
    from optimizer.solver import AllocationRequest, allocate, daily_budget

    request = AllocationRequest(currency=currency, max_increase=_MAX_INCREASE)
    if rule == "weekday_share":
        budget = daily_budget(
            monthly_cap_micros=cap,
            month_to_date_micros=spent,
            day=day,
            weekday_weights=pacing_weights(curves),
            currency=currency,
            period_end=end,
        ).daily_budget_micros
    else:
        budget = paced(
            curves, request, day, cap_micros=cap, spent_micros=spent, period_end=end, events=events
        ).daily_budget_micros
    table = curves.table(day)
    allocation = allocate(table, dataclasses.replace(request, budget_micros=budget))
    return (
        allocation.entities.set_index("entity_id")["recommended_spend"]
        .reindex(table["entity_id"])
        .to_numpy(dtype=np.float64)
    )
