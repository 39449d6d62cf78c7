"""The curve estimators honour scikit-learn's estimator contract and the project's errors.

scikit-learn's full `check_estimator` suite runs on all four (the S-shaped one too) with no
expected failures. Skipped by scikit-learn itself: `check_array_api_input` (needs
SCIPY_ARRAY_API set and array-API libraries). The estimators declare `positive_only` for X
(spend, exposure) and y (conversions), and `poor_score` because the suite's random regression
data is not a concave response to spend.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from optimizer.errors import InvalidInputError, NotFittedError
from optimizer.families import FAMILIES
from optimizer.models import (
    ESTIMATORS,
    HillCurve,
    LogCurve,
    PowerCurve,
    SHillCurve,
    curve_from_dict,
)

ALL = [HillCurve(), PowerCurve(), LogCurve()]


@parametrize_with_checks([*ALL, SHillCurve()])
def test_scikit_learn_contract(estimator, check) -> None:
    check(estimator)


def _xy(seed: int = 0, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(2.0, 60.0, n)
    return x[:, None], rng.poisson(0.5 * np.sqrt(x)).astype(float)


@pytest.mark.parametrize("estimator", ALL, ids=["hill", "power", "log"])
def test_predict_before_fit_raises_both_not_fitted_errors(estimator) -> None:
    with pytest.raises(NotFittedError) as info:
        clone(estimator).predict(np.ones((3, 1)))
    assert isinstance(info.value, SklearnNotFittedError)


@pytest.mark.parametrize(
    ("x", "y", "weight"),
    [
        (np.array([[-1.0], [2.0]]), np.array([1.0, 1.0]), None),
        (np.array([[1.0], [2.0]]), np.array([-1.0, 1.0]), None),
        (np.array([[np.nan], [2.0]]), np.array([1.0, 1.0]), None),
        (np.array([[1.0, -0.5], [2.0, 1.0]]), np.array([1.0, 1.0]), None),
        (np.array([[1.0], [2.0]]), np.array([1.0, 1.0]), np.array([1.0])),
        (np.array([[1.0], [2.0]]), np.array([1.0, 1.0]), np.array([0.0, 0.0])),
    ],
    ids=[
        "negative-spend",
        "negative-y",
        "nan",
        "negative-exposure",
        "weight-length",
        "zero-weights",
    ],
)
def test_bad_input_raises_invalid_input(x, y, weight) -> None:
    with pytest.raises(InvalidInputError):
        HillCurve().fit(x, y, sample_weight=weight)


def test_bad_prior_raises_invalid_input() -> None:
    x, y = _xy()
    with pytest.raises(InvalidInputError):
        HillCurve(prior={"k": 10.0}, prior_strength=1.0).fit(x, y)
    with pytest.raises(InvalidInputError):
        PowerCurve(prior={"b": 1.5}, prior_strength=1.0).fit(x, y)


@pytest.mark.parametrize("cls", [HillCurve, PowerCurve, LogCurve], ids=["hill", "power", "log"])
def test_exposure_column_multiplies_the_prediction(cls) -> None:
    x, y = _xy(1)
    model = cls().fit(np.c_[x, np.ones(len(x))], y)
    spend = np.array([5.0, 20.0, 40.0])
    with_exposure = model.predict(np.c_[spend, [0.5, 1.0, 2.0]])
    assert np.allclose(with_exposure, model.curve(spend) * [0.5, 1.0, 2.0])


@pytest.mark.parametrize("cls", [HillCurve, PowerCurve, LogCurve], ids=["hill", "power", "log"])
def test_stored_curve_rebuilds_the_same_predictions(cls) -> None:
    x, y = _xy(2)
    model = cls().fit(x, y)
    rebuilt = curve_from_dict(model.to_dict())
    assert type(rebuilt) is cls
    spend = np.linspace(0.0, 80.0, 9)
    assert np.array_equal(rebuilt.predict(spend[:, None]), model.predict(spend[:, None]))


def test_registry_names_match_the_families() -> None:
    assert set(ESTIMATORS) == set(FAMILIES)
    assert all(cls.lookup_name == name for name, cls in ESTIMATORS.items())


def test_unknown_stored_family_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        curve_from_dict({"lookup_name": "spline", "params": {"a": 1.0}})
    with pytest.raises(InvalidInputError):
        curve_from_dict({"lookup_name": "hill", "params": {"a": 1.0, "k": 2.0}})
    with pytest.raises(InvalidInputError):
        curve_from_dict({"lookup_name": "power", "params": {"a": 1.0, "b": 1.5}})


def test_params_round_trip_through_get_and_set() -> None:
    model = HillCurve(prior={"k": 5.0, "s": 0.8}, prior_strength=2.0)
    assert model.get_params() == {"prior": {"k": 5.0, "s": 0.8}, "prior_strength": 2.0}
    assert model.set_params(prior_strength=0.0).prior_strength == 0.0
