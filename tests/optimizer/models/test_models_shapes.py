"""Every fitted curve, and every band curve, is increasing and concave (what the LP relies on),
except an S-shaped one, which is increasing and which the solver handles with a binary column."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.families import NONCONCAVE_FAMILIES, evaluate
from optimizer.models import CurveSet, HillCurve, LogCurve, PowerCurve


def _assert_increasing_concave(family: str, params: dict[str, float], top: float) -> None:
    grid = np.linspace(0.0, top, 401)
    values = evaluate(family, params, grid)
    assert (np.diff(values) >= -1e-12 * max(1.0, values.max())).all()
    second = np.diff(values, 2)
    assert (second <= 1e-9 * max(1.0, values.max())).all()


def test_fitted_and_band_curves_are_increasing_and_concave(small_fit: CurveSet) -> None:
    for curve in small_fit:
        for params in (curve.params, curve.low_params, curve.high_params):
            if curve.lookup_name in NONCONCAVE_FAMILIES:
                grid = np.linspace(0.0, 3.0 * curve.trust_high, 401)
                assert (np.diff(evaluate(curve.lookup_name, params, grid)) >= 0).all()
                continue
            _assert_increasing_concave(curve.lookup_name, params, 3.0 * curve.trust_high)


def test_band_is_ordered(small_fit: CurveSet) -> None:
    for curve in small_fit:
        assert (np.array(curve.band_low) <= np.array(curve.band_high)).all()
        assert curve.trust_low <= curve.current_spend or curve.current_spend == 0.0
        assert curve.trust_low < curve.trust_high


@pytest.mark.parametrize("cls", [HillCurve, PowerCurve, LogCurve], ids=["hill", "power", "log"])
def test_fit_to_convex_data_stays_concave(cls) -> None:
    """An S-shape (convex start) is fitted by a concave curve, never by a convex one."""
    rng = np.random.default_rng(3)
    x = rng.uniform(1.0, 100.0, 300)
    y = rng.poisson(30.0 * x**3 / (50.0**3 + x**3)).astype(float)
    model = cls().fit(x[:, None], y)
    _assert_increasing_concave(cls.lookup_name, model.params_, 150.0)
