import datetime as dt
import json

import numpy as np
import pytest

from optimizer.errors import InvalidInputError
from optimizer.schema import EntityKey
from optimizer.simulate import (
    CampaignEffects,
    CurveParams,
    TrueCurve,
    Truth,
    expected_conversions,
    marginal_conversions,
    simulate,
)

EFFECTS = CampaignEffects(dow=(1.1, 1.0, 1.05, 0.95, 1.0, 0.85, 1.05), trend_per_year=0.1)


def _curve(shape: float, vmax: float = 12.0, k: float = 40.0) -> TrueCurve:
    return TrueCurve(
        key=EntityKey("Brand - DE", "Shoes", "shoes", "exact"),
        vmax=vmax,
        k=k,
        shape=shape,
        order_value=55.0,
        effects=EFFECTS,
    )


@pytest.fixture(scope="module")
def truth() -> Truth:
    return simulate(campaigns=4, keywords_per_campaign=6, days=20, seed=11).truth


@pytest.mark.parametrize("shape", [0.5, 0.73, 1.0], ids=["half", "between", "one"])
def test_curve_is_increasing_and_concave_on_a_grid(shape):
    curve = _curve(shape)
    grid = np.linspace(0.0, 10 * curve.k, 4001)
    values = expected_conversions(curve, grid)
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)
    assert np.all(np.diff(values, 2) <= 1e-12)
    assert values[-1] < curve.vmax


def test_simulated_curves_are_increasing_and_concave(truth):
    params = truth.params()
    grid = np.linspace(0.0, 1.0, 2001)[None, :] * (8 * params.k[:, None])
    values = expected_conversions(params, grid)
    assert np.all(np.diff(values, axis=1) > 0)
    assert np.all(np.diff(values, 2, axis=1) <= 1e-12 * params.vmax[:, None])
    assert np.all((params.shape >= 0.5) & (params.shape <= 1.0))


@pytest.mark.parametrize("shape", [0.5, 0.81, 1.0], ids=["half", "between", "one"])
def test_marginal_is_the_derivative(shape):
    curve = _curve(shape)
    x = np.array([0.5, 5.0, 40.0, 130.0, 900.0])
    h = 1e-5 * x
    numeric = (expected_conversions(curve, x + h) - expected_conversions(curve, x - h)) / (2 * h)
    np.testing.assert_allclose(marginal_conversions(curve, x), numeric, rtol=1e-7)


def test_marginal_at_zero_spend():
    assert marginal_conversions(_curve(0.6), np.array([0.0]))[0] == np.inf
    assert marginal_conversions(_curve(1.0), np.array([0.0]))[0] == pytest.approx(12.0 / 40.0)


def test_weekdays_average_out_and_trend_compounds():
    curve = _curve(0.7)
    spend = np.full(7, 33.0)
    plain = expected_conversions(curve, spend)
    by_day = expected_conversions(curve, spend, weekday=np.arange(7))
    assert by_day.mean() == pytest.approx(plain[0], rel=1e-12)
    assert by_day[5] < by_day[0]
    year_later = expected_conversions(curve, spend[:1], weekday=None, day_index=365)
    assert year_later[0] == pytest.approx(plain[0] * np.exp(0.1), rel=1e-12)


def test_vectorised_params_agree_with_single_curves(truth):
    params = truth.params()
    spend = np.linspace(1.0, 90.0, len(params))[:, None] * np.array([[0.5, 1.0, 2.0]])
    weekday = np.array([[0, 3, 6]])
    day_index = np.array([[0, 40, 400]])
    together = expected_conversions(params, spend, weekday=weekday, day_index=day_index)
    slopes = marginal_conversions(params, spend, weekday=weekday, day_index=day_index)
    for i, key in enumerate(params.keys):
        curve = truth.curves[key]
        np.testing.assert_allclose(
            together[i], expected_conversions(curve, spend[i], weekday[0], day_index[0]), rtol=1e-13
        )
        np.testing.assert_allclose(
            slopes[i], marginal_conversions(curve, spend[i], weekday[0], day_index[0]), rtol=1e-13
        )


def test_json_round_trip_is_exact(truth):
    text = truth.to_json()
    again = Truth.from_json(text)
    assert again == truth
    assert list(again.curves) == list(truth.curves)
    assert again.to_json() == text
    assert json.loads(text)["version"] == 1
    np.testing.assert_array_equal(again.params().vmax, truth.params().vmax)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(version=99),
        lambda p: p.pop("entities"),
        lambda p: p["entities"][0].update(shape=4.5),
        lambda p: p["campaigns"][0].update(dow=[1.0] * 6),
        lambda p: p.update(currency="XXX"),
    ],
    ids=["future-version", "no-entities", "shape-beyond-s", "six-weekdays", "bad-currency"],
)
def test_bad_truth_files_are_rejected(truth, mutate):
    payload = json.loads(truth.to_json())
    mutate(payload)
    with pytest.raises(InvalidInputError):
        Truth.from_json(json.dumps(payload))


def test_not_json_is_rejected():
    with pytest.raises(InvalidInputError):
        Truth.from_json("{not json")


@pytest.mark.parametrize(
    ("shape", "k", "vmax"),
    [(0.4, 10.0, 1.0), (4.2, 10.0, 1.0), (0.8, 0.0, 1.0), (0.8, 10.0, -1.0)],
    ids=["shape-too-low", "shape-too-high", "zero-k", "negative-vmax"],
)
def test_invalid_curves_are_rejected(shape, k, vmax):
    with pytest.raises(InvalidInputError):
        _curve(shape, vmax=vmax, k=k)


def test_day_of_week_profile_must_average_one():
    with pytest.raises(InvalidInputError):
        CampaignEffects(dow=(1.2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0))


def test_params_for_unknown_keys_raise(truth):
    with pytest.raises(InvalidInputError):
        truth.params([EntityKey("No such campaign")])


def test_params_follow_requested_order(truth):
    keys = list(reversed(truth.keys))
    params = truth.params(keys)
    assert params.keys == tuple(keys)
    assert params.k[0] == truth.curves[keys[0]].k


def test_weekday_out_of_range_raises():
    with pytest.raises(InvalidInputError):
        expected_conversions(_curve(0.7), np.array([1.0]), weekday=7)


def test_day_index_counts_from_start(truth):
    assert truth.day_index(truth.start + dt.timedelta(days=9)) == 9


def test_curve_params_from_curves_keeps_effects():
    params = CurveParams.from_curves([_curve(0.6), _curve(0.9)])
    assert params.dow.shape == (2, 7)
    np.testing.assert_allclose(params.multiplier(weekday=5), [0.85, 0.85])
