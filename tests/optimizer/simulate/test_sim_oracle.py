import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from optimizer.errors import InfeasibleError, InvalidInputError
from optimizer.schema import EntityKey
from optimizer.simulate import (
    CampaignEffects,
    CurveParams,
    TrueCurve,
    expected_conversions,
    marginal_conversions,
    optimal_allocation,
    simulate,
)

FLAT = CampaignEffects(dow=(1.0,) * 7)
WAVY = CampaignEffects(dow=(1.2, 1.1, 1.0, 1.0, 0.9, 0.8, 1.0), trend_per_year=-0.15)


def _curves(seed: int, n: int, shapes: tuple[float, float] = (0.5, 1.0)) -> list[TrueCurve]:
    rng = np.random.default_rng(seed)
    return [
        TrueCurve(
            key=EntityKey(f"Campaign {i % 3}", "Ad group", f"keyword {i}", "exact"),
            vmax=float(rng.lognormal(1.5, 0.8)),
            k=float(rng.lognormal(3.0, 0.8)),
            shape=float(rng.uniform(*shapes)),
            order_value=float(rng.lognormal(4.0, 0.5)),
            effects=WAVY if i % 2 else FLAT,
        )
        for i in range(n)
    ]


def _objective(curves, x, weights=None, weekday=None, day_index=None):
    params = CurveParams.from_curves(curves)
    gain = np.ones(len(curves)) if weights is None else np.asarray(weights)
    return float(np.sum(expected_conversions(params, x, weekday, day_index) * gain))


def _assert_kkt(params, result, lower, upper, weights=None, weekday=None, day_index=None):
    x, lam = result.allocation, result.lambda_
    gain = np.ones(len(params)) if weights is None else np.asarray(weights)
    with np.errstate(invalid="ignore"):
        slope = marginal_conversions(params, x, weekday, day_index) * gain
    at_lower = x <= lower + 1e-9 * (1 + lower)
    at_upper = x >= upper - 1e-9 * (1 + np.minimum(upper, 1e300))
    inside = ~at_lower & ~at_upper
    assert inside.any()
    np.testing.assert_allclose(slope[inside], lam, rtol=1e-7)
    assert np.all(slope[at_upper] >= lam * (1 - 1e-7))
    assert np.all(slope[at_lower & ~at_upper] <= lam * (1 + 1e-7))


CASES = {
    "unbounded": dict(n=40, budget=900.0, lower=0.0, upper=np.inf, weights=False, weekday=None),
    "boxed": dict(n=40, budget=900.0, lower=2.0, upper=35.0, weights=False, weekday=None),
    "value-weighted": dict(n=40, budget=600.0, lower=0.0, upper=60.0, weights=True, weekday=None),
    "weekday-trend": dict(n=40, budget=700.0, lower=1.0, upper=80.0, weights=False, weekday=5),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_optimum_satisfies_kkt_and_respects_budget_and_bounds(case):
    curves = _curves(3, case["n"])
    params = CurveParams.from_curves(curves)
    rng = np.random.default_rng(9)
    lower = np.full(case["n"], case["lower"]) * rng.uniform(0.5, 1.5, case["n"])
    upper = np.maximum(np.full(case["n"], case["upper"]) * rng.uniform(0.5, 1.5, case["n"]), lower)
    weights = params.order_value if case["weights"] else None
    day = None if case["weekday"] is None else 200
    result = optimal_allocation(
        curves,
        case["budget"],
        lower,
        upper,
        weekday=case["weekday"],
        day_index=day,
        weights=weights,
    )
    assert result.spent == pytest.approx(case["budget"], rel=1e-12)
    assert np.all(result.allocation >= lower) and np.all(result.allocation <= upper)
    assert result.objective == pytest.approx(
        _objective(curves, result.allocation, weights, case["weekday"], day), rel=1e-12
    )
    _assert_kkt(params, result, lower, upper, weights, case["weekday"], day)


def test_matches_scipy_slsqp_on_five_entities():
    curves = _curves(17, 5)
    lower = np.array([1.0, 2.0, 0.5, 3.0, 1.0])
    upper = np.array([60.0, 25.0, 80.0, 40.0, 15.0])
    budget = 110.0
    result = optimal_allocation(curves, budget, lower, upper)
    reference = minimize(
        lambda x: -_objective(curves, x),
        x0=lower + (budget - lower.sum()) / 5 / 2,
        method="SLSQP",
        bounds=list(zip(lower, upper, strict=True)),
        constraints=[{"type": "ineq", "fun": lambda x: budget - x.sum()}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    assert reference.success
    assert result.objective == pytest.approx(-reference.fun, rel=1e-6)
    assert result.objective >= -reference.fun * (1 - 1e-12)
    np.testing.assert_allclose(result.allocation, reference.x, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shapes", [(0.5, 0.6), (1.0, 1.0)], ids=["steep-at-zero", "linear-shape"])
def test_matches_a_one_dimensional_search_on_two_entities(shapes):
    curves = _curves(5, 2, shapes)
    budget = 30.0
    inf = np.full(2, np.inf)
    result = optimal_allocation(curves, budget, np.zeros(2), inf)
    best = minimize_scalar(
        lambda a: -_objective(curves, np.array([a, budget - a])),
        bounds=(0.0, budget),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert result.objective == pytest.approx(-best.fun, rel=1e-9)
    assert result.objective >= -best.fun * (1 - 1e-14)


def test_sequence_and_params_give_the_same_answer():
    curves = _curves(8, 30)
    lower, upper = np.zeros(30), np.full(30, 50.0)
    from_list = optimal_allocation(curves, 400.0, lower, upper)
    from_params = optimal_allocation(CurveParams.from_curves(curves), 400.0, lower, upper)
    np.testing.assert_array_equal(from_list.allocation, from_params.allocation)
    assert from_list.objective == from_params.objective


def test_larger_budget_never_lowers_the_objective():
    curves = _curves(21, 25)
    lower, upper = np.full(25, 1.0), np.full(25, 40.0)
    results = [optimal_allocation(curves, b, lower, upper) for b in np.linspace(25.0, 1100.0, 60)]
    objectives = np.array([r.objective for r in results])
    lambdas = np.array([r.lambda_ for r in results])
    assert np.all(np.diff(objectives) >= 0)
    assert np.all(np.diff(lambdas) <= 0)


def test_budget_that_does_not_bind_fills_every_upper_bound():
    curves = _curves(4, 6)
    upper = np.array([5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    result = optimal_allocation(curves, 1_000.0, np.zeros(6), upper)
    np.testing.assert_array_equal(result.allocation, upper)
    assert result.lambda_ == 0.0


@pytest.mark.parametrize(
    "lower",
    [[5.0, 0.0, 7.0, 0.0, 9.0, 10.0], [5.0, 1.0, 7.0, 2.0, 9.0, 10.0]],
    ids=["some-at-zero", "all-positive"],
)
def test_budget_equal_to_lower_bounds_spends_exactly_those(lower):
    curves = _curves(4, 6)
    lower = np.array(lower)
    result = optimal_allocation(curves, float(lower.sum()), lower, np.full(6, 100.0))
    np.testing.assert_array_equal(result.allocation, lower)
    slopes = marginal_conversions(CurveParams.from_curves(curves), lower)
    assert result.lambda_ == slopes.max()
    assert np.isinf(result.lambda_) == bool(np.any(lower == 0))


def test_entities_without_weight_stay_at_their_lower_bound():
    curves = _curves(6, 5)
    weights = np.array([1.0, 0.0, 2.0, 0.0, 1.0])
    lower = np.full(5, 1.5)
    result = optimal_allocation(curves, 60.0, lower, np.full(5, np.inf), weights=weights)
    np.testing.assert_array_equal(result.allocation[[1, 3]], [1.5, 1.5])
    assert result.spent == pytest.approx(60.0, rel=1e-12)


def test_value_objective_beats_the_conversion_optimum_on_value():
    curves = _curves(12, 20)
    params = CurveParams.from_curves(curves)
    lower, upper = np.zeros(20), np.full(20, np.inf)
    by_value = optimal_allocation(params, 300.0, lower, upper, weights=params.order_value)
    by_count = optimal_allocation(params, 300.0, lower, upper)
    value_of_count = _objective(curves, by_count.allocation, params.order_value)
    assert by_value.objective > value_of_count
    assert by_count.objective > _objective(curves, by_value.allocation)


def test_lower_bounds_above_budget_are_infeasible():
    curves = _curves(2, 3)
    with pytest.raises(InfeasibleError) as caught:
        optimal_allocation(curves, 10.0, np.array([4.0, 4.0, 4.0]), np.full(3, 9.0))
    assert "budget" in caught.value.conflicts


@pytest.mark.parametrize(
    ("budget", "lower", "upper"),
    [
        (-1.0, [0.0, 0.0], [1.0, 1.0]),
        (float("nan"), [0.0, 0.0], [1.0, 1.0]),
        (5.0, [-1.0, 0.0], [1.0, 1.0]),
        (5.0, [2.0, 0.0], [1.0, 1.0]),
        (5.0, [0.0], [1.0]),
    ],
    ids=["negative-budget", "nan-budget", "negative-lower", "lower-above-upper", "wrong-length"],
)
def test_invalid_inputs_raise(budget, lower, upper):
    with pytest.raises(InvalidInputError):
        optimal_allocation(_curves(1, 2), budget, np.array(lower), np.array(upper))


def test_simulated_account_optimum_is_consistent():
    truth = simulate(campaigns=20, keywords_per_campaign=25, days=1, seed=2).truth
    params = truth.params()
    n = len(params)
    lower, upper = np.zeros(n), params.k * 3
    result = optimal_allocation(
        params, float(params.k.sum()), lower, upper, weekday=2, day_index=90
    )
    assert result.spent == pytest.approx(params.k.sum(), rel=1e-12)
    _assert_kkt(params, result, lower, upper, weekday=2, day_index=90)


def _three(seed: int) -> tuple[list[TrueCurve], float]:
    rng = np.random.default_rng(seed)
    curves = [
        TrueCurve(
            key=EntityKey("Campaign", "Ad group", f"keyword {i}", "exact"),
            vmax=float(rng.lognormal(1.0, 0.5)),
            k=float(rng.lognormal(3.0, 0.3)),
            shape=float(rng.choice([0.7, 2.0, 2.8])),
            order_value=1.0,
            effects=FLAT,
        )
        for i in range(3)
    ]
    return curves, float(rng.uniform(20.0, 150.0))


@pytest.mark.parametrize("seed", range(12), ids=[f"seed{s}" for s in range(12)])
def test_s_shaped_curves_come_within_one_percent_of_a_brute_force_search(seed):
    curves, budget = _three(seed)
    params = CurveParams.from_curves(curves)
    low, high = np.full(3, 2.0), np.full(3, 80.0)
    result = optimal_allocation(curves, budget, low, high)
    assert result.allocation.sum() <= budget * (1 + 1e-9)
    assert np.all((result.allocation >= low - 1e-9) & (result.allocation <= high + 1e-9))
    grid = np.linspace(2.0, 80.0, 781)
    first, second = np.meshgrid(grid, grid, indexing="ij")
    third = budget - first - second
    ok = (third >= 2.0) & (third <= 80.0)
    spends = np.stack([first[ok], second[ok], third[ok]])
    best = expected_conversions(params, spends).sum(axis=0).max()
    assert result.objective >= 0.99 * best


def test_an_s_shaped_entity_is_either_left_low_or_past_its_chord():
    curves = _curves(4, 30) + [
        TrueCurve(
            key=EntityKey("S", "Ad group", f"s {i}", "exact"),
            vmax=8.0,
            k=30.0,
            shape=2.5,
            order_value=1.0,
            effects=FLAT,
        )
        for i in range(4)
    ]
    n = len(curves)
    low, high = np.full(n, 1.0), np.full(n, 120.0)
    result = optimal_allocation(curves, 400.0, low, high)
    s_spend = result.allocation[-4:]
    chord_end = 30.0 * 1.5 ** (1 / 2.5)  # where f(x) / x peaks for a Hill curve from zero
    assert np.all((s_spend <= 1.0 + 1e-6) | (s_spend >= 0.5 * chord_end))
    assert result.allocation.sum() == pytest.approx(400.0)
