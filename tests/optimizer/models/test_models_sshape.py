"""Increasing returns: the S-shaped Hill family, the test that decides where it is used, and its
estimator."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.errors import InvalidInputError
from optimizer.families import NONCONCAVE_FAMILIES
from optimizer.models import FitOptions, SHillCurve, curve_from_dict, fit_account
from optimizer.simulate import Scenario, simulate


def test_the_estimator_recovers_an_s_shape() -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(5.0, 120.0, 400)
    y = rng.poisson(40.0 * x**2.5 / (50.0**2.5 + x**2.5)).astype(float)
    model = SHillCurve().fit(x[:, None], y)
    assert model.params_["s"] == pytest.approx(2.5, abs=0.35)
    assert model.params_["k"] == pytest.approx(50.0, rel=0.1)
    assert model.params_["a"] == pytest.approx(40.0, rel=0.1)


def test_stored_s_curves_must_be_s_shaped() -> None:
    with pytest.raises(InvalidInputError):
        curve_from_dict({"lookup_name": "s_hill", "params": {"a": 1.0, "k": 2.0, "s": 0.8}})
    with pytest.raises(InvalidInputError):
        FitOptions(families=("hill", "s_hill"))
    assert "s_hill" in NONCONCAVE_FAMILIES


def test_auction_accounts_show_their_s_shaped_keywords_and_nothing_else() -> None:
    sim = simulate(
        campaigns=4,
        keywords_per_campaign=8,
        days=180,
        seed=61,
        scenario=Scenario(s_shaped_share=0.4, auction=True),
    )
    curves = fit_account(sim.history)
    shaped = {c.key for c in curves if c.lookup_name == "s_hill"}
    truly = {k for k, t in sim.truth.curves.items() if t.s_shaped}
    assert shaped and shaped <= truly
    for curve in curves:
        if curve.key in shaped:
            assert curve.diagnostics.s_statistic is not None
            assert curve.diagnostics.s_statistic > FitOptions().s_test_level
            assert "S-shaped" in curve.diagnostics.reason
            assert curve.params["s"] > 1


def test_concave_accounts_are_not_taken_for_s_shaped() -> None:
    curves = fit_account(simulate(campaigns=4, keywords_per_campaign=8, days=180, seed=62).history)
    tested = [c for c in curves if c.diagnostics.s_statistic is not None]
    assert tested
    assert sum(c.lookup_name == "s_hill" for c in curves) <= 1


def test_the_test_can_be_switched_off() -> None:
    sim = simulate(
        campaigns=2,
        keywords_per_campaign=6,
        days=150,
        seed=63,
        scenario=Scenario(s_shaped_share=0.5, auction=True),
    )
    curves = fit_account(sim.history, FitOptions(s_shapes=False))
    assert all(c.lookup_name != "s_hill" for c in curves)
    assert all(c.diagnostics.s_statistic is None for c in curves)
