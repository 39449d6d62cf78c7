"""Rounding to the currency: whole minor units, never above the cap, floors restored, best first."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.solver.rounding import SpendLimit, round_to_units

CENT = 10_000


def _round(spend, lower, upper, cap, marginal=None, limits=(), unit=CENT):
    marginal = np.ones(len(spend)) if marginal is None else np.asarray(marginal, dtype=float)
    return round_to_units(
        np.asarray(spend, dtype=float),
        np.asarray(lower, dtype=np.int64),
        np.asarray(upper, dtype=np.int64),
        unit=unit,
        cap=cap,
        marginal=marginal,
        limits=limits,
    )


def test_rounding_loss_goes_to_the_best_marginal_return() -> None:
    out = _round([1.004, 2.006, 3.009], [0] * 3, [10**9] * 3, cap=6_020_000, marginal=[1, 3, 2])
    assert out.tolist() == [1_000_000, 2_010_000, 3_000_000 + CENT]


def test_cap_holds_even_when_the_lp_overshoots_it() -> None:
    spend = np.full(4, 2.5000004)
    out = _round(spend, [0] * 4, [10**9] * 4, cap=10_000_000, marginal=[4, 3, 2, 1])
    assert out.sum() <= 10_000_000
    assert (out % CENT == 0).all()


def test_upper_bounds_and_group_caps_are_respected_when_handing_back() -> None:
    spend = [1.005, 1.005, 1.005]
    upper = [1_000_000, 2_000_000, 2_000_000]
    limits = [SpendLimit(np.array([1]), None, 1_000_000)]
    out = _round(spend, [0] * 3, upper, cap=None, marginal=[3, 2, 1], limits=limits)
    assert out.tolist() == [1_000_000, 1_000_000, 1_010_000]


def test_a_tight_cap_limits_what_is_handed_back() -> None:
    out = _round([1.004, 2.006, 3.009], [0] * 3, [10**9] * 3, cap=6_019_000, marginal=[1, 3, 2])
    assert out.tolist() == [1_000_000, 2_010_000, 3_000_000]


def test_a_floor_broken_by_rounding_is_restored() -> None:
    spend = [0.335, 0.335, 0.33]
    limits = [SpendLimit(np.array([0, 1]), 670_000, None)]
    out = _round(spend, [0] * 3, [10**9] * 3, cap=1_000_000, marginal=[1, 2, 3], limits=limits)
    assert out[[0, 1]].sum() >= 670_000
    assert out.sum() <= 1_000_000


def test_zero_decimal_currency() -> None:
    out = _round([100.7, 200.2], [0, 0], [10**12] * 2, cap=300_000_000, unit=1_000_000)
    assert (out % 1_000_000 == 0).all()
    assert out.sum() == 300_000_000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 500.0), min_size=1, max_size=40),
    st.floats(0.0, 1.0),
    st.integers(0, 2**31),
)
def test_sum_never_exceeds_the_cap_and_bounds_hold(values, share, seed) -> None:
    rng = np.random.default_rng(seed)
    spend = np.asarray(values)
    lower = (np.floor(spend * 0.5 * 100) * CENT).astype(np.int64)
    upper = (np.ceil(spend * 1.5 * 100) * CENT).astype(np.int64)
    cap = int(np.floor(spend.sum() * (0.99 + 0.02 * share) * 100)) * CENT
    cap = max(cap, int(lower.sum()))
    out = _round(spend, lower, upper, cap=cap, marginal=rng.uniform(0, 1, len(spend)))
    assert out.sum() <= cap
    assert (out >= lower).all() and (out <= upper).all()
    assert (out % CENT == 0).all()


@pytest.mark.parametrize("unit", [1_000, 10_000, 1_000_000], ids=["fils", "cent", "yen"])
def test_amounts_are_whole_minor_units(unit) -> None:
    spend = np.random.default_rng(1).uniform(0, 100, 50)
    out = _round(spend, np.zeros(50), np.full(50, 10**12), cap=None, unit=unit)
    assert (out % unit == 0).all()
    assert spend.sum() * 1e6 - out.sum() < unit
