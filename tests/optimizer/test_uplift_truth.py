"""Fit, optimise, then score on the simulator's true curves: does the pipeline earn its uplift?

The recommendation is for the day after a 180-day history, at the current total budget, each entity
kept within [0.5x, 1.5x] of its current spend. It and the current split are both evaluated on the
true curves of that day; the oracle (the exact optimum of the true curves under the same budget and
bounds) says how much uplift there was to find. The issue's bar is on average over accounts: at
least 75% of the oracle's uplift, and never more than 1% lost against the current split on any.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from optimizer.models import fit_account
from optimizer.schema import NAME_COLUMNS, EntityKey
from optimizer.simulate import expected_conversions, optimal_allocation, simulate
from optimizer.solver import AllocationRequest, Bounds, allocate
from tests.optimizer.solver.solver_helpers import to_micros

LOW, HIGH = 0.5, 1.5
MIN_UPLIFT_SHARE = 0.75
MAX_LOSS = 0.01
MIN_AVAILABLE_UPLIFT = 0.02

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Outcome:
    """Budget, bounds and spends of one run, with true expected conversions of each split."""

    budget: float
    current: FloatArray
    recommended: FloatArray
    baseline: float
    reached: float
    best: float


SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def outcomes() -> dict[int, Outcome]:
    return {seed: _outcome(seed) for seed in SEEDS}


@pytest.fixture(params=[pytest.param(seed, id=f"seed{seed}") for seed in SEEDS])
def outcome(request: pytest.FixtureRequest, outcomes: dict[int, Outcome]) -> Outcome:
    return outcomes[request.param]


def _outcome(seed: int) -> Outcome:
    sim = simulate(campaigns=8, keywords_per_campaign=12, days=180, seed=seed)
    curves = fit_account(sim.history)
    day = curves.window_end + dt.timedelta(days=1)
    table = curves.table(day)
    current = table["current_spend"].to_numpy(dtype=np.float64)
    budget = float(current.sum())
    allocation = allocate(
        table,
        AllocationRequest(
            currency=sim.truth.currency,
            budget_micros=to_micros(budget),
            entity_bounds={
                entity: Bounds(to_micros(LOW * spend), to_micros(HIGH * spend))
                for entity, spend in zip(table["entity_id"], current, strict=True)
            },
        ),
    )
    recommended = (
        allocation.entities.set_index("entity_id")["recommended_spend"]
        .reindex(table["entity_id"])
        .to_numpy(dtype=np.float64)
    )
    keys = [EntityKey(*row) for row in table.loc[:, list(NAME_COLUMNS)].itertuples(index=False)]
    truth = sim.truth.params(keys)
    weekday, day_index = day.weekday(), sim.truth.day_index(day)

    def true_conversions(spend: FloatArray) -> float:
        return math.fsum(expected_conversions(truth, spend, weekday=weekday, day_index=day_index))

    oracle = optimal_allocation(
        truth, budget, LOW * current, HIGH * current, weekday=weekday, day_index=day_index
    )
    return Outcome(
        budget=budget,
        current=current,
        recommended=recommended,
        baseline=true_conversions(current),
        reached=true_conversions(recommended),
        best=oracle.objective,
    )


def test_recommendation_keeps_budget_and_bounds(outcome: Outcome) -> None:
    assert outcome.recommended.sum() <= outcome.budget + 1e-6
    assert np.all(outcome.recommended >= LOW * outcome.current - 0.01)
    assert np.all(outcome.recommended <= HIGH * outcome.current + 0.01)


def test_recommendation_never_loses_against_the_current_split(outcome: Outcome) -> None:
    assert outcome.reached >= (1 - MAX_LOSS) * outcome.baseline


def test_recommendation_captures_most_of_the_oracle_uplift_on_average(
    outcomes: dict[int, Outcome],
) -> None:
    shares = []
    for seed, outcome in outcomes.items():
        available = outcome.best - outcome.baseline
        assert available > MIN_AVAILABLE_UPLIFT * outcome.baseline, f"seed {seed}: nothing to find"
        shares.append((outcome.reached - outcome.baseline) / available)
    assert np.mean(shares) >= MIN_UPLIFT_SHARE, f"uplift shares {np.round(shares, 3)}"
