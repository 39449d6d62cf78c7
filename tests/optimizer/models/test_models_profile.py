"""Profile fitting: grid + refinement finds the likelihood optimum; batching does not change it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from optimizer.families import hill
from optimizer.models.likelihood import poisson_deviance
from optimizer.models.profile import (
    fixed_shape_scale,
    profile_fit,
    scale_for_shape,
    spend_scale,
    to_transformed,
)


def _data(seed: int, n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 30.0 * np.exp(rng.uniform(np.log(0.1), np.log(4.0), n))
    return x, rng.poisson(hill(x, 40.0, 30.0, 0.7)).astype(float)


@pytest.mark.parametrize("seed", [1, 2, 3, 4], ids=["s1", "s2", "s3", "s4"])
def test_refined_hill_fit_is_within_a_hair_of_the_optimum(seed: int) -> None:
    x, y = _data(seed)
    fit = profile_fit("hill", x[None], y[None], np.ones((1, x.size)), np.ones((1, x.size)))
    params = {p: float(v[0, 0]) for p, v in fit.params.items()}
    ours = float(poisson_deviance(y, hill(x, params["a"], params["k"], params["s"])))

    def deviance(t: np.ndarray) -> float:
        g = hill(x, 1.0, np.exp(t[0]), t[1])
        return float(poisson_deviance(y, y.sum() / g.sum() * g))

    best = minimize(deviance, [np.log(params["k"]), params["s"]], method="Nelder-Mead")
    assert ours - best.fun < 0.05


def test_batched_entities_and_weights_equal_separate_fits() -> None:
    xs, ys = zip(*(_data(seed, 120) for seed in (5, 6, 7)), strict=True)
    x, y = np.stack(xs), np.stack(ys)
    rng = np.random.default_rng(0)
    weights = np.vstack([np.ones(120), rng.integers(0, 3, 120)]).astype(float)
    batch = profile_fit("hill", x, y, np.ones_like(x), weights)
    for k in range(3):
        for r in range(2):
            alone = profile_fit(
                "hill", x[k : k + 1], y[k : k + 1], np.ones((1, 120)), weights[r : r + 1]
            )
            for name in ("a", "k", "s"):
                assert batch.params[name][k, r] == pytest.approx(alone.params[name][0, 0], rel=1e-9)


def test_zero_weight_days_are_the_same_as_absent_days() -> None:
    x, y = _data(8, 100)
    w = np.ones(100)
    w[::3] = 0.0
    weighted = profile_fit("log", x[None], y[None], np.ones((1, 100)), w[None])
    kept = w > 0
    dropped = profile_fit(
        "log",
        x[None, kept],
        y[None, kept],
        np.ones((1, kept.sum())),
        np.ones((1, kept.sum())),
        scale=spend_scale(x[None]),
    )
    for name in ("a", "k"):
        assert weighted.params[name][0, 0] == pytest.approx(dropped.params[name][0, 0], rel=1e-9)


def test_a_strong_prior_pins_the_shape() -> None:
    x, y = _data(9)
    scale = spend_scale(x[None])
    center = np.array([[np.log(12.0 / scale[0]), 0.95]])
    fit = profile_fit(
        "power",
        x[None],
        y[None],
        np.ones((1, x.size)),
        np.ones((1, x.size)),
        scale=scale,
        prior_center=center[:, 1:],
        prior_strength=np.array([1e6]),
    )
    assert fit.params["b"][0, 0] == pytest.approx(0.95, abs=1e-3)


def test_days_without_spend_are_ignored_even_with_conversions() -> None:
    x, y = _data(10, 100)
    base = profile_fit("power", x[None], y[None], np.ones((1, 100)), np.ones((1, 100)))
    x2, y2 = np.append(x, 0.0), np.append(y, 7.0)
    extra = profile_fit(
        "power",
        x2[None],
        y2[None],
        np.ones((1, 101)),
        np.ones((1, 101)),
        scale=spend_scale(x[None]),
    )
    assert extra.params["b"][0, 0] == pytest.approx(base.params["b"][0, 0], rel=1e-12)


def test_fixed_shape_scale_matches_the_closed_form() -> None:
    x, y = _data(11, 50)
    a = fixed_shape_scale(
        "hill",
        {"k": np.array([30.0]), "s": np.array([0.7])},
        x[None],
        y[None],
        np.ones((1, 50)),
        np.ones((1, 50)),
    )
    assert a[0, 0] == pytest.approx(y.sum() / hill(x, 1.0, 30.0, 0.7).sum())


def test_spend_scale_ignores_repetition_and_zero_days() -> None:
    x = np.array([[1.0, 4.0, 0.0, 16.0]])
    assert spend_scale(x)[0] == pytest.approx(4.0)
    assert spend_scale(x, np.array([[2.0, 2.0, 5.0, 2.0]]))[0] == pytest.approx(4.0)


@pytest.mark.parametrize("family", ["hill", "power", "log"], ids=["hill", "power", "log"])
def test_scale_for_shape_reproduces_the_profile_fit(family: str) -> None:
    xs, ys = zip(*(_data(seed, 120) for seed in (8, 9)), strict=True)
    x, y = np.stack(xs), np.stack(ys)
    rng = np.random.default_rng(1)
    weights = np.vstack([np.ones(120), rng.integers(0, 3, 120)]).astype(float)
    scale = spend_scale(x)
    fit = profile_fit(family, x, y, np.ones_like(x), weights, scale=scale)
    shape = {p: v for p, v in fit.params.items() if p != "a"}
    again = scale_for_shape(
        family, to_transformed(family, shape, scale[:, None]), x, y, np.ones_like(x), weights, scale
    )
    for name, value in fit.params.items():
        np.testing.assert_allclose(again[name], value, rtol=1e-9)
