from __future__ import annotations

import datetime as dt

import pytest

from optimizer.models import CurveSet, FitOptions, fit_account
from optimizer.simulate import simulate


@pytest.fixture(scope="session")
def small_fit() -> tuple[CurveSet, object]:
    """A fitted simulated account (3 campaigns x 4 keywords + 1 keyword-less), shared by tests."""
    sim = simulate(
        campaigns=3, keywords_per_campaign=4, days=84, seed=21, start=dt.date(2026, 8, 1)
    )
    return fit_account(sim.history, FitOptions(), n_jobs=1), sim.history
