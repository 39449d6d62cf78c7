"""Time-ordered folds and holdout scoring against the mean-per-day baseline."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.models.selection import baseline_holdout, holdout_deviance, make_folds, skill


def test_folds_hold_out_the_latest_weeks_after_their_training_days() -> None:
    folds = make_folds(180, 3, 14, 28)
    assert folds.count == 3
    assert folds.test.sum(axis=1).tolist() == [14, 14, 14]
    assert folds.test[-1, -14:].all()
    for train, test in zip(folds.train, folds.test, strict=True):
        assert np.flatnonzero(train).max() < np.flatnonzero(test).min()
        assert not (train & test).any()


@pytest.mark.parametrize(
    ("days", "expected"), [(180, 3), (56, 2), (45, 1), (41, 0)], ids=["180", "56", "45", "41"]
)
def test_short_windows_get_fewer_splits(days: int, expected: int) -> None:
    assert make_folds(days, 3, 14, 28).count == expected


def test_perfect_forecast_has_skill_one_and_baseline_zero() -> None:
    rng = np.random.default_rng(0)
    mu = np.where(np.arange(90) < 60, 2.0, 8.0)[None, :]
    y = rng.poisson(mu).astype(float)
    valid = np.ones_like(y, dtype=bool)
    folds = make_folds(90, 2, 14, 28)
    base = baseline_holdout(y, valid, folds)
    exact = holdout_deviance(y, np.repeat(y[:, None, :], folds.count, axis=1), valid, folds)
    assert exact[0] == pytest.approx(0.0, abs=1e-9)
    assert skill(exact, base)[0] == pytest.approx(1.0)
    assert skill(base, base)[0] == pytest.approx(0.0)
