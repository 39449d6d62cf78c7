"""Poisson deviance and the closed-form scale that the profile fit relies on."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from optimizer.models.likelihood import closed_form_scale, poisson_deviance, unit_deviance


def test_unit_deviance_is_zero_only_at_the_observation() -> None:
    y = np.array([0.0, 1.0, 4.0, 2.5])
    assert np.allclose(unit_deviance(y, y + (y == 0) * 1e-300), 0.0)
    assert (unit_deviance(y, y + 0.5) > 0).all()
    assert unit_deviance(0.0, 3.0) == 6.0


def test_zero_prediction_against_a_conversion_is_costly_but_finite() -> None:
    dev = unit_deviance(1.0, 0.0)
    assert np.isfinite(dev) and dev > 40


def test_closed_form_scale_maximises_the_poisson_likelihood() -> None:
    rng = np.random.default_rng(0)
    basis = rng.uniform(0.2, 2.0, 50)
    exposure = rng.uniform(0.8, 1.2, 50)
    weights = rng.integers(0, 3, 50).astype(float)
    y = rng.poisson(3.0 * exposure * basis).astype(float)
    a = closed_form_scale((weights * y).sum(), (weights * exposure * basis).sum())
    best = minimize_scalar(
        lambda s: float(poisson_deviance(y, s * exposure * basis, weights)),
        bounds=(0.1, 10.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert abs(float(a) - best.x) < 1e-6


def test_closed_form_scale_is_zero_without_data() -> None:
    assert closed_form_scale(np.array([0.0, 5.0]), np.array([0.0, 0.0])).tolist() == [0.0, 0.0]
