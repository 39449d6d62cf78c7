"""The value-of-information maths of spend tests (`optimizer.experiments`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.errors import InvalidInputError
from optimizer.experiments import (
    Z90,
    Design,
    band_elasticity_sd,
    elasticity_at,
    evpi_per_day,
    pick_tests,
    predicted_sd,
    rank_tests,
    schedule,
    test_cost,
)


@pytest.mark.parametrize(
    ("limit_up", "limit_down"),
    [pytest.param(0.3, None, id="default-policy"), pytest.param(0.1, 0.2, id="tight-both-ways")],
)
def test_the_schedule_stays_inside_the_change_limits(limit_up, limit_down) -> None:
    multiples = schedule(Design(), max_increase=limit_up, max_decrease=limit_down)
    past = [1.0] * 7
    for m in multiples:
        current = float(np.mean(past[-7:]))
        assert m <= current * (1 + limit_up) + 1e-12
        if limit_down is not None:
            assert m >= current * (1 - limit_down) - 1e-12
        past.append(m)
    assert len(multiples) == Design().days
    assert max(multiples) > 1 and min(multiples) < 1


def test_without_limits_the_schedule_is_the_designed_blocks() -> None:
    multiples = schedule(
        Design(step=0.2, block_days=3, blocks=2), max_increase=None, max_decrease=None
    )
    assert multiples == pytest.approx((1.2,) * 3 + (0.8,) * 3)


def test_a_design_outside_its_ranges_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="step"):
        Design(step=1.5)


def test_the_elasticity_of_a_power_curve_is_its_exponent() -> None:
    params = {"a": np.array([2.0]), "b": np.array([0.4])}
    assert elasticity_at("power", params, np.array([17.0])) == pytest.approx([0.4])


@pytest.mark.parametrize("sd", [pytest.param(0.05, id="narrow"), pytest.param(0.25, id="wide")])
def test_the_band_gives_back_the_elasticity_spread_it_was_drawn_with(sd: float) -> None:
    x0, e0, level_sd = 20.0, 0.5, 0.05
    spend = np.linspace(8.0, 35.0, 25)
    lever = np.log(spend / x0)
    center = np.log(3.0) + e0 * lever
    spread = np.sqrt(level_sd**2 + sd**2 * lever**2)
    low, high = np.exp(center - Z90 * spread), np.exp(center + Z90 * spread)
    assert band_elasticity_sd(spend, low, high, x0) == pytest.approx(sd, rel=1e-6)


def test_information_is_worth_nothing_when_the_elasticity_is_known() -> None:
    f0, e0 = np.array([5.0, 5.0]), np.array([0.5, 0.5])
    value = evpi_per_day(f0, e0, np.array([0.0, 0.2]), np.array([0.7, 0.7]), np.array([1.3, 1.3]))
    assert value[0] == pytest.approx(0.0, abs=1e-12)
    assert value[1] > 0


@settings(max_examples=50, deadline=None)
@given(
    e0=st.floats(0.05, 0.95),
    sd=st.floats(0.01, 0.5),
    f0=st.floats(0.1, 100),
)
def test_information_is_worth_more_the_less_is_known(e0: float, sd: float, f0: float) -> None:
    low, high = np.array([0.5]), np.array([2.0])
    narrow = evpi_per_day(np.array([f0]), np.array([e0]), np.array([sd]), low, high)
    wide = evpi_per_day(np.array([f0]), np.array([e0]), np.array([sd * 2]), low, high)
    assert 0 <= narrow[0] <= wide[0] + 1e-12


@settings(max_examples=50, deadline=None)
@given(e0=st.floats(0.02, 0.98), m=st.lists(st.floats(0.3, 2.0), min_size=1, max_size=30))
def test_a_test_never_gains_on_a_concave_curve_held_at_its_optimum(e0: float, m: list[float]):
    cost = test_cost(np.array([3.0]), np.array([e0]), m)
    assert cost[0] >= -1e-9
    assert test_cost(np.array([3.0]), np.array([e0]), [1.0] * len(m))[0] == pytest.approx(0.0)


def test_a_test_shrinks_the_spread_by_the_information_it_adds() -> None:
    multiples = (1.3,) * 7 + (0.7,) * 7
    after = predicted_sd(np.array([0.2, 0.2]), np.array([0.0, 10.0]), multiples)
    assert after[0] == pytest.approx(0.2)
    logs = np.log(multiples)
    info = 10.0 * ((logs - logs.mean()) ** 2).sum()
    assert after[1] == pytest.approx(np.sqrt(1 / (1 / 0.04 + info)))


def _entities(**columns: list[float]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "entity_id": [f"e{i}" for i in range(n)],
        "campaign": ["c"] * n,
        "ad_group": [""] * n,
        "keyword": [f"k{i}" for i in range(n)],
        "match_type": [""] * n,
        "grade": ["B"] * n,
        "low_ratio": [0.7] * n,
        "high_ratio": [1.3] * n,
    }
    return pd.DataFrame({**base, **columns})


def test_tests_rank_by_what_they_teach_net_of_what_they_cost() -> None:
    frame = _entities(
        spend=[10.0, 10.0, 10.0],
        conversions_per_day=[5.0, 5.0, 0.01],
        elasticity=[0.5, 0.5, 0.5],
        elasticity_sd=[0.3, 0.01, 0.3],
    )
    design = Design()
    ranked = rank_tests(frame, design, schedule(design, max_increase=0.3, max_decrease=None))
    assert ranked["entity_id"].iloc[0] == "e0"  # unsure and converting: the most to learn
    assert ranked["net"].iloc[0] > 0
    assert (ranked.loc[ranked["entity_id"] == "e1", "net"] < 0).all()
    assert (ranked["predicted_sd_after"] <= ranked["elasticity_sd"] + 1e-12).all()


def test_picked_tests_fit_the_exploration_share_and_skip_held_entities() -> None:
    ranked = pd.DataFrame(
        {
            "entity_id": ["a", "b", "c", "d"],
            "spend": [100.0, 10.0, 10.0, 10.0],
            "net": [5.0, 4.0, 3.0, -1.0],
        }
    )
    chosen = pick_tests(ranked, budget=200.0, share=0.03, step=0.3, excluded=frozenset({"b"}))
    assert list(chosen["entity_id"]) == ["c"]  # a moves 30 > 6; b is held; d is not worth it
    none = pick_tests(ranked, budget=200.0, share=0.0, step=0.3)
    assert none.empty
