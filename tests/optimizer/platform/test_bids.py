"""Keyword max CPC from recommended spend: never lower for more spend, within the change limit,
from the keyword's own history (fallback when thin)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.platform.bids import (
    FALLBACK_ELASTICITY,
    fit_cpc_response,
    recommended_bid_micros,
)


def _history(seed: int, elasticity: float, days: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Daily spend around 50 and clicks whose CPC rises as spend^elasticity (with noise)."""
    rng = np.random.default_rng(seed)
    spend = 50.0 * np.exp(rng.normal(0.0, 0.4, days))
    cpc = 1.2 * (spend / 50.0) ** elasticity * np.exp(rng.normal(0.0, 0.02, days))
    return spend, np.maximum(np.round(spend / cpc), 1)


@pytest.mark.parametrize("elasticity", [0.0, 0.3, 0.7], ids=["flat", "mild", "steep"])
def test_the_fit_recovers_how_cpc_rises_with_spend(elasticity: float) -> None:
    response = fit_cpc_response(*_history(3, elasticity))
    assert response is not None and response.fitted
    assert response.elasticity == pytest.approx(elasticity, abs=0.08)


def test_thin_history_falls_back_and_no_clicks_gives_nothing() -> None:
    spend, clicks = _history(4, 0.7, days=3)
    response = fit_cpc_response(spend, clicks)
    assert response is not None and not response.fitted
    assert response.elasticity == FALLBACK_ELASTICITY
    assert fit_cpc_response([10.0, 12.0], [0, 0]) is None


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    elasticity=st.floats(0.0, 1.0),
    bid=st.integers(10_000, 50_000_000),
    spends=st.lists(st.floats(0.0, 1_000.0), min_size=2, max_size=6),
    limit=st.floats(0.0, 0.9),
)
def test_more_spend_never_gives_a_lower_bid_and_the_change_limit_holds(
    seed: int, elasticity: float, bid: int, spends: list[float], limit: float
) -> None:
    response = fit_cpc_response(*_history(seed, elasticity, days=10))
    assert response is not None
    bids = [
        recommended_bid_micros(bid, response, s, max_change=limit, unit_micros=10_000)
        for s in sorted(spends)
    ]
    assert bids == sorted(bids)
    for b in bids:
        assert b % 10_000 == 0 or b == bid
        assert bid * (1 - limit) - 1e-6 <= b <= bid * (1 + limit) + 1e-6 or b == 10_000


def test_a_steeper_cpc_response_moves_the_bid_more_for_the_same_extra_spend() -> None:
    flat = fit_cpc_response(*_history(5, 0.1))
    steep = fit_cpc_response(*_history(5, 0.8))
    assert flat is not None and steep is not None
    more = 1.15 * flat.spend0
    low = recommended_bid_micros(1_000_000, flat, more, max_change=0.5, unit_micros=10_000)
    high = recommended_bid_micros(1_000_000, steep, more, max_change=0.5, unit_micros=10_000)
    assert 1_000_000 <= low < high
