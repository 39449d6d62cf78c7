"""The LP against the simulator's exact oracle on true Hill curves with weekday effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.curve_table import CURVE_TABLE_COLUMNS
from optimizer.schema import EntityKey
from optimizer.simulate import CampaignEffects, TrueCurve, optimal_allocation
from optimizer.solver import AllocationRequest, allocate
from tests.optimizer.solver.solver_helpers import to_micros

WEEKDAY = 4
EFFECTS = (
    CampaignEffects(dow=(1.0,) * 7),
    CampaignEffects(dow=(1.2, 1.1, 1.0, 1.0, 0.9, 0.8, 1.0)),
)


def _truth(n: int, seed: int) -> list[TrueCurve]:
    rng = np.random.default_rng(seed)
    return [
        TrueCurve(
            key=EntityKey(f"Campaign {i % 7}", "Ad group", f"keyword {i}", "exact"),
            vmax=float(rng.lognormal(1.5, 0.8)),
            k=float(rng.lognormal(3.0, 0.8)),
            shape=float(rng.uniform(0.5, 1.0)),
            order_value=float(rng.lognormal(4.0, 0.5)),
            effects=EFFECTS[i % 2],
        )
        for i in range(n)
    ]


def _table(curves: list[TrueCurve], current: np.ndarray) -> pd.DataFrame:
    hill = {
        "a": [c.vmax for c in curves],
        "k": [c.k for c in curves],
        "s": [c.shape for c in curves],
        "b": [np.nan] * len(curves),
    }
    table = pd.DataFrame(
        {
            "entity_id": [f"t{i}" for i in range(len(curves))],
            "campaign": [c.key.campaign for c in curves],
            "ad_group": [c.key.ad_group for c in curves],
            "keyword": [c.key.keyword for c in curves],
            "match_type": [c.key.match_type for c in curves],
            "family": "hill",
            **hill,
            **{f"low_{p}": v for p, v in hill.items()},
            **{f"high_{p}": v for p, v in hill.items()},
            "multiplier": [c.effects.dow[WEEKDAY] for c in curves],
            "value_per_conversion": [c.order_value for c in curves],
            "current_spend": current,
            "spend_min_obs": 0.5 * current,
            "spend_max_obs": 2 * current,
            "trust_low": 0.0,
            "trust_high": 10 * current,
            "grade": "A",
        }
    )
    return table.loc[:, list(CURVE_TABLE_COLUMNS)]


@pytest.mark.parametrize("objective", ["conversions", "value"], ids=["conversions", "value"])
def test_matches_the_oracle(objective) -> None:
    curves = _truth(300, seed=3)
    current = np.round(np.array([c.k for c in curves]) * 0.8, 2)
    table = _table(curves, current)
    budget = 0.9 * float(current.sum())
    request = AllocationRequest(
        currency="EUR", budget_micros=to_micros(budget), max_change=1.0, objective=objective
    )
    result = allocate(table, request)
    low = np.zeros(len(curves))
    high = np.floor(np.round(current * 2.0 * 1e6) / 1e4) / 100
    weights = table["value_per_conversion"].to_numpy() if objective == "value" else None
    oracle = optimal_allocation(
        curves, np.floor(budget * 100) / 100, low, high, weekday=WEEKDAY, weights=weights
    )
    reached = result.expected_conversions if objective == "conversions" else result.expected_value
    assert reached >= 0.9999 * oracle.objective
    assert reached <= oracle.objective * (1 + 1e-9)
    if objective == "conversions":
        assert result.cap_shadow_price == pytest.approx(oracle.lambda_, rel=0.02)
