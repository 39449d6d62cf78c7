"""Shared small simulated accounts and their fits (fitted once per test session and worker)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.models import CurveSet, fit_account
from optimizer.simulate import Simulation, simulate


@pytest.fixture(scope="session")
def small_sim() -> Simulation:
    return simulate(campaigns=3, keywords_per_campaign=6, days=120, seed=5)


@pytest.fixture(scope="session")
def small_fit(small_sim: Simulation) -> CurveSet:
    return fit_account(small_sim.history)


def with_thin_keywords(history: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Add, to the first campaign, keywords too thin to fit alone: rare conversions, fixed spend."""
    rng = np.random.default_rng(seed)
    campaign = sorted(history["campaign"].unique())[0]
    own = history[history["campaign"] == campaign]
    ad_group = own["ad_group"].iloc[0]
    dates = pd.Series(sorted(history["date"].unique()))
    n = len(dates)
    rows = []
    specs = [
        ("thin rare", rng.uniform(0.5, 3.0, n), np.zeros(n)),
        ("thin flat", np.full(n, 4.0), rng.poisson(0.3, n).astype(float)),
        ("thin small", rng.uniform(1.0, 6.0, n), rng.poisson(0.15, n).astype(float)),
    ]
    specs[0][2][[3, n // 2, n - 4]] = 1.0
    for keyword, spend, conversions in specs:
        rows.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "campaign": campaign,
                    "ad_group": ad_group,
                    "keyword": keyword,
                    "match_type": "exact",
                    "spend": np.round(spend, 2),
                    "clicks": np.ceil(spend).astype(np.int64),
                    "impressions": np.ceil(spend * 10).astype(np.int64),
                    "conversions": conversions,
                    "conversion_value": conversions * 50.0,
                }
            )
        )
    return pd.concat([history, *rows], ignore_index=True)


@pytest.fixture(scope="session")
def thin_sim() -> Simulation:
    return simulate(campaigns=2, keywords_per_campaign=8, days=90, seed=11)


@pytest.fixture(scope="session")
def thin_fit(thin_sim: Simulation) -> CurveSet:
    return fit_account(with_thin_keywords(thin_sim.history))
