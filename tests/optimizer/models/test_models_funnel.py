"""The click funnel: spend -> clicks (shape) x a conversion rate per click, used where the data back
it: on auction-shaped accounts (clicks along the curve, a steady rate) and not where the rate per
click moves with spend."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.models import CurveSet, FitOptions, fit_account
from optimizer.models.funnel import conversion_rate_elasticity
from optimizer.simulate import Scenario, Simulation, simulate

SIZE = {"campaigns": 4, "keywords_per_campaign": 8, "days": 150}


@pytest.fixture(scope="module")
def auction() -> Simulation:
    return simulate(**SIZE, seed=51, scenario=Scenario(auction=True))


@pytest.fixture(scope="module")
def auction_fit(auction: Simulation) -> CurveSet:
    return fit_account(auction.history)


def test_auction_accounts_use_the_funnel_with_the_true_rates(
    auction: Simulation, auction_fit: CurveSet
) -> None:
    funnel = [c for c in auction_fit if c.diagnostics.mode == "funnel"]
    assert len(funnel) >= 0.7 * len(auction_fit)
    errors = []
    for curve in funnel:
        d = curve.diagnostics
        assert d.clicks_params and d.conversion_rate is not None
        assert d.funnel_deviance is not None and d.direct_deviance is not None
        assert d.rate_elasticity is not None and abs(d.rate_elasticity) < 0.3
        assert "click funnel" in d.reason
        errors.append(abs(d.conversion_rate / auction.truth.curves[curve.key].conversion_rate - 1))
    assert np.median(errors) < 0.15


def test_the_funnel_curve_is_the_rate_times_the_click_curve(auction_fit: CurveSet) -> None:
    from optimizer.families import evaluate

    curve = next(c for c in auction_fit if c.diagnostics.mode == "funnel")
    d = curve.diagnostics
    x = np.linspace(0.5, 2.0, 7) * curve.current_spend
    assert d.conversion_rate is not None
    clicks = evaluate(curve.lookup_name, d.clicks_params, x)
    np.testing.assert_allclose(curve.expected(x), d.conversion_rate * clicks, rtol=1e-9)


def test_where_the_rate_falls_with_spend_the_funnel_is_not_used() -> None:
    plain = fit_account(simulate(**SIZE, seed=52).history)
    assert all(c.diagnostics.mode == "direct" for c in plain)
    assert all(
        c.diagnostics.rate_elasticity is None or c.diagnostics.rate_elasticity < -0.15
        for c in plain
        if not c.key.is_campaign_level
    )


def test_the_funnel_can_be_switched_off(auction: Simulation) -> None:
    direct = fit_account(auction.history, FitOptions(funnel=False))
    assert all(c.diagnostics.mode == "direct" for c in direct)


@pytest.mark.parametrize("gamma", [-0.4, 0.0, 0.3], ids=["falling", "steady", "rising"])
def test_the_rate_elasticity_is_estimated(gamma: float) -> None:
    rng = np.random.default_rng(7)
    spend = rng.uniform(5.0, 50.0, (6, 200))
    clicks = rng.poisson(20.0 * spend**0.7).astype(float)
    rate = 0.05 * (spend / 20.0) ** gamma
    conversions = rng.poisson(clicks * rate).astype(float)
    ones = np.ones(200)
    found, spread = conversion_rate_elasticity(spend, clicks, conversions, ones, ones)
    assert found == pytest.approx(gamma, abs=max(0.05, 3 * spread))
    assert spread < 0.05
