"""Pooled keyword elasticities: the maths maps both ways, and pooling beats raw estimates."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.families import FAMILIES
from optimizer.models.shrinkage import (
    elasticity,
    information_variance,
    shape_for_elasticity,
    shrink_elasticities,
)

FAMILY_IDS = ["log", "power"]


@pytest.mark.parametrize("family", FAMILY_IDS, ids=FAMILY_IDS)
def test_shape_for_elasticity_inverts_elasticity(family: str) -> None:
    rng = np.random.default_rng(2)
    lx = rng.uniform(-1.0, 1.0, size=(50, 3))
    target = rng.uniform(0.05, 0.95, size=(50, 3))
    shape = shape_for_elasticity(family, target, lx)
    np.testing.assert_allclose(elasticity(family, shape, lx), target, rtol=1e-6)


@pytest.mark.parametrize("family", FAMILY_IDS, ids=FAMILY_IDS)
def test_elasticity_is_the_log_derivative_of_the_curve(family: str) -> None:
    scale, spend = 20.0, 35.0
    t0 = np.array([0.4 if family == "power" else -0.3])
    params = {"a": 1.0, "b": float(t0[0])} if family == "power" else {"a": 1.0}
    if family == "log":
        params["k"] = scale * float(np.exp(t0[0]))
    f = FAMILIES[family].function
    h = 1e-5
    up = f(spend * np.exp(h), *(params[p] for p in FAMILIES[family].param_names))
    down = f(spend * np.exp(-h), *(params[p] for p in FAMILIES[family].param_names))
    numeric = (np.log(up) - np.log(down)) / (2 * h)
    lx = np.array([np.log(spend / scale)])
    np.testing.assert_allclose(elasticity(family, t0, lx), numeric, rtol=1e-6)


def test_pooling_noisy_estimates_beats_the_raw_estimates() -> None:
    rng = np.random.default_rng(7)
    truth = rng.normal(0.4, 0.08, size=2000)
    variance = rng.uniform(0.001, 0.09, size=2000)
    noisy = truth + rng.normal(0.0, np.sqrt(variance))
    pooled = shrink_elasticities(noisy[:, None], variance, np.ones(2000, dtype=bool))
    assert np.mean((pooled.values[:, 0] - truth) ** 2) < 0.5 * np.mean((noisy - truth) ** 2)
    assert pooled.spread == pytest.approx(0.08**2, rel=0.3)
    precise, vague = np.argmin(variance), np.argmax(variance)
    assert pooled.own_weight[precise] > 0.8 > 0.1 > pooled.own_weight[vague]


def test_a_precisely_measured_keyword_keeps_its_elasticity_in_a_small_campaign() -> None:
    """Four keywords whose noisy estimates agree too well for a moment estimate of their spread
    (DerSimonian-Laird gives 0); the fourth was measured precisely (a spend test). It must keep
    its own elasticity rather than take the campaign mean."""
    values = np.array([[0.30], [0.45], [0.50], [0.55]])
    variance = np.array([0.04, 0.04, 0.04, 0.0004])
    pooled = shrink_elasticities(values, variance, np.ones(4, dtype=bool))
    assert pooled.spread > 0
    assert pooled.own_weight[3] > 0.9
    assert pooled.values[3, 0] == pytest.approx(0.55, abs=0.01)
    assert (pooled.own_weight[:3] < 0.5).all()


def test_non_members_are_untouched_and_uninformative_members_take_the_mean() -> None:
    values = np.array([[0.2, 0.25], [0.4, 0.45], [0.6, 0.65], [0.9, 0.95]])
    variance = np.array([0.01, 0.01, np.inf, 0.01])
    members = np.array([True, True, True, False])
    pooled = shrink_elasticities(values, variance, members)
    np.testing.assert_array_equal(pooled.values[3], values[3])
    np.testing.assert_allclose(pooled.values[2], pooled.mean)
    np.testing.assert_allclose(pooled.mean, [0.3, 0.35])


def test_information_variance_falls_with_conversions_and_is_infinite_without_variation() -> None:
    spend = np.array([[10.0, 20.0, 10.0, 20.0], [10.0, 20.0, 10.0, 20.0], [15.0, 15.0, 15.0, 0.0]])
    conversions = np.array([[1.0, 1.0, 1.0, 1.0], [5.0, 5.0, 5.0, 5.0], [3.0, 3.0, 3.0, 0.0]])
    variance = information_variance(spend, conversions)
    assert variance[1] == pytest.approx(variance[0] / 5)
    assert np.isinf(variance[2])


def test_replicates_spread_to_the_posterior_variance_around_the_pooled_point() -> None:
    rng = np.random.default_rng(11)
    k, r = 40, 400
    point = rng.normal(0.4, 0.1, size=k) + rng.normal(0.0, np.sqrt(0.02), size=k)
    variance = np.full(k, 0.02)
    replicates = point[:, None] + rng.normal(0.0, np.sqrt(0.02), size=(k, r))
    values = np.column_stack([point, replicates])
    pooled = shrink_elasticities(values, variance, np.ones(k, dtype=bool), slice(1, 1 + r))
    spread = np.var(pooled.values[:, 1:], axis=1, ddof=1)
    moving_mean = np.var(pooled.mean[1:], ddof=1)
    expected = pooled.own_weight * variance + (1 - pooled.own_weight) ** 2 * moving_mean
    assert 0.1 < pooled.own_weight[0] < 0.9
    np.testing.assert_allclose(spread, expected, rtol=0.2)
    centre = pooled.values[:, 1:].mean(axis=1)
    np.testing.assert_allclose(centre, pooled.values[:, 0], atol=0.03)
