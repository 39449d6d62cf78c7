"""Each constraint type holds in the rounded answer, on both solvers, and is named where binding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from solver_helpers import curve_values, random_table

from optimizer.schema import MICROS
from optimizer.solver import AllocationRequest, Bounds, Group, allocate
from tests.optimizer.solver.solver_helpers import to_micros

SOLVERS = pytest.mark.parametrize("solver", ["highs", "cbc"], ids=["highs", "cbc"])


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return random_table(120, seed=11, campaigns=12)


def _request(table: pd.DataFrame, solver: str, **kwargs) -> AllocationRequest:
    base = {
        "currency": "EUR",
        "budget_micros": to_micros(float(table["current_spend"].sum())),
        "solver": solver,
    }
    return AllocationRequest(**{**base, **kwargs})


def _spend_by_campaign(entities: pd.DataFrame) -> pd.Series:
    return entities.groupby("campaign")["recommended_spend"].sum()


@SOLVERS
def test_total_cap_is_met_exactly_in_cents(table, solver) -> None:
    budget = 1234.567
    result = allocate(
        table, _request(table, solver, budget_micros=to_micros(budget), max_change=0.9)
    )
    micros = result.entities["recommended_micros"].to_numpy()
    assert (micros % 10_000 == 0).all()
    assert result.total_micros <= 1234.56 * MICROS
    assert result.total_micros >= 1234.56 * MICROS - 10_000
    assert result.entities["binding"].isin(["cap", "max_change", "trust_high"]).all()


@SOLVERS
def test_max_change_per_entity(table, solver) -> None:
    result = allocate(table, _request(table, solver, max_change=0.2))
    ratio = result.entities["recommended_spend"] / result.entities["current_spend"]
    assert ratio.between(0.8 - 1e-9, 1.2 + 1e-9).all()
    at_limit = (ratio > 1.2 - 1e-3) | (ratio < 0.8 + 1e-3)
    assert (result.entities.loc[at_limit, "binding"] == "max_change").all()


@SOLVERS
def test_entity_bounds_and_locks(table, solver) -> None:
    ids = table["entity_id"]
    bounds = {
        ids[0]: Bounds(minimum_micros=to_micros(40.0)),
        ids[1]: Bounds(maximum_micros=to_micros(1.0)),
    }
    result = allocate(
        table, _request(table, solver, entity_bounds=bounds, locked=frozenset({ids[2]}))
    )
    spend = result.entities.set_index("entity_id")["recommended_spend"]
    assert spend[ids[0]] >= 40.0
    assert spend[ids[1]] <= 1.0
    assert spend[ids[2]] == np.floor(table["current_spend"][2] * 100) / 100
    binding = result.entities.set_index("entity_id")["binding"]
    assert binding[ids[1]] == "entity_max"
    assert binding[ids[2]] == "locked"


@SOLVERS
def test_campaign_bounds_and_campaign_max_change(table, solver) -> None:
    current = table.groupby("campaign")["current_spend"].sum()
    first = current.index[0]
    request = _request(
        table,
        solver,
        budget_micros=to_micros(float(current.sum()) * 1.2),
        campaign_bounds={first: Bounds(maximum_micros=to_micros(float(current[first]) * 0.95))},
        campaign_max_change=0.1,
        max_change=1.0,
    )
    result = allocate(table, request)
    spend = _spend_by_campaign(result.entities)
    assert spend[first] <= current[first] * 0.95 + 1e-9
    assert (spend <= current * 1.1 + 1e-9).all()
    assert (spend >= current * 0.9 - 1e-9).all()
    assert f"campaign:{first}" in set(result.entities["binding"])


@SOLVERS
def test_trust_region_is_intersected(table, solver) -> None:
    tight = table.assign(trust_low=table["current_spend"], trust_high=table["current_spend"] * 1.05)
    budget = float(tight["current_spend"].sum()) * 1.03
    result = allocate(
        tight, _request(tight, solver, budget_micros=to_micros(budget), max_change=0.5)
    )
    ratio = result.entities["recommended_spend"] / tight["current_spend"]
    assert ratio.between(1.0 - 1e-9, 1.05 + 1e-9).all()
    assert {"trust_high", "trust_low"} <= set(result.entities["binding"])


@SOLVERS
def test_group_cap_as_share_and_floor_as_amount(table, solver) -> None:
    brand = table["campaign"].str.startswith("brand")
    brand_now = float(table.loc[brand, "current_spend"].sum())
    groups = (
        Group(name="brand", match="brand*", max_share=0.3),
        Group(name="generic", match="^generic-00", by="regex", min_amount_micros=to_micros(200.0)),
    )
    result = allocate(table, _request(table, solver, groups=groups, max_change=1.0))
    spend = result.entities["recommended_spend"]
    assert spend[brand].sum() <= 0.3 * spend.sum() + 0.01 * brand.sum()
    generic0 = result.entities["campaign"].str.startswith("generic-00")
    assert spend[generic0].sum() >= 200.0 - 1e-9
    assert brand_now > 0.3 * table["current_spend"].sum()
    assert "group:brand" in set(result.entities["binding"])


@SOLVERS
def test_group_by_label(table, solver) -> None:
    labels = {name: "core" for name in table["campaign"].unique()[:3]}
    cap = 50.0
    groups = (Group(name="core", match="core", by="label", max_amount_micros=to_micros(cap)),)
    result = allocate(
        table, _request(table, solver, groups=groups, campaign_labels=labels, max_change=1.0)
    )
    core = result.entities["campaign"].isin(labels)
    assert result.entities.loc[core, "recommended_spend"].sum() <= cap + 1e-9


@SOLVERS
def test_target_cpa_holds_on_the_fitted_curve(table, solver) -> None:
    free = allocate(table, _request(table, solver, budget_micros=None, max_change=1.0))
    target = 0.8 * free.average_cpa
    result = allocate(
        table,
        _request(
            table, solver, budget_micros=None, max_change=1.0, target_cpa_micros=to_micros(target)
        ),
    )
    assert result.average_cpa <= target * (1 + 1e-4)
    assert result.total_spend < free.total_spend
    assert "target_cpa" in set(result.entities["binding"])


@SOLVERS
def test_target_roas_holds(table, solver) -> None:
    free = allocate(table, _request(table, solver, budget_micros=None, max_change=1.0))
    target = 1.2 * free.roas
    result = allocate(
        table, _request(table, solver, budget_micros=None, max_change=1.0, target_roas=target)
    )
    assert result.roas >= target * (1 - 1e-4)


@SOLVERS
def test_new_entities_stay_at_zero_unless_allowed(table, solver) -> None:
    fresh = table.copy()
    fresh.loc[:4, "current_spend"] = 0.0
    fresh.loc[:4, "trust_high"] = 500.0
    stays = allocate(fresh, _request(fresh, solver))
    assert (stays.entities["recommended_spend"][:5] == 0).all()
    assert (stays.entities["binding"][:5] == "no_history").all()
    grows = allocate(fresh, _request(fresh, solver, allow_new=True))
    assert grows.entities["recommended_spend"][:5].sum() > 0


@SOLVERS
def test_conservative_optimises_the_low_band(table, solver) -> None:
    result = allocate(table, _request(table, solver, conservative=True, max_change=0.5))
    spend = result.entities["recommended_spend"].to_numpy()
    low = curve_values(table, spend, band="low")
    np.testing.assert_allclose(result.entities["conversions_low"], low, rtol=1e-9)
    assert result.conversions_low < result.expected_conversions < result.conversions_high


@SOLVERS
def test_zero_decimal_currency_rounds_to_whole_units(table, solver) -> None:
    result = allocate(
        table, _request(table, solver, currency="JPY", budget_micros=to_micros(3001.7))
    )
    assert (result.entities["recommended_micros"] % MICROS == 0).all()
    assert result.total_micros <= 3001 * MICROS
