"""Each family recovers known parameters from seeded synthetic Poisson data (with exposure)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.families import evaluate
from optimizer.models import HillCurve, LogCurve, PowerCurve

CASES = [
    (HillCurve, {"a": 60.0, "k": 25.0, "s": 0.7}),
    (HillCurve, {"a": 40.0, "k": 10.0, "s": 1.0}),
    (PowerCurve, {"a": 2.0, "b": 0.6}),
    (LogCurve, {"a": 20.0, "k": 10.0}),
]


@pytest.mark.parametrize(("cls", "truth"), CASES, ids=["hill-s0.7", "hill-mm", "power", "log"])
def test_recovers_parameters(cls, truth) -> None:
    rng = np.random.default_rng(42)
    estimates = []
    for _ in range(9):
        x = 25.0 * np.exp(rng.uniform(np.log(0.1), np.log(4.0), 540))
        exposure = rng.choice([0.8, 1.0, 1.2], 540)
        y = rng.poisson(exposure * evaluate(cls.lookup_name, truth, x)).astype(float)
        estimates.append(cls().fit(np.c_[x, exposure], y).params_)
    for name, value in truth.items():
        median = float(np.median([e[name] for e in estimates]))
        assert median == pytest.approx(value, rel=0.12), name
    grid = np.geomspace(3.0, 90.0, 12)
    fitted = np.median([evaluate(cls.lookup_name, e, grid) for e in estimates], axis=0)
    assert np.allclose(fitted, evaluate(cls.lookup_name, truth, grid), rtol=0.03)
