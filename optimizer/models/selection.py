"""Time-ordered cross-validation: which family predicts the latest weeks best, and by how much.

Each split trains on every day before a block of the latest weeks and scores that block, so a family
is chosen for forecasting the next days, not for fitting the past. The yardstick is the plainest
forecast, mean conversions per day over the training days; skill = 1 - model deviance / baseline
deviance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import TimeSeriesSplit

from optimizer.models.likelihood import poisson_deviance, unit_deviance

__all__ = [
    "Folds",
    "baseline_holdout",
    "holdout_days",
    "holdout_deviance",
    "make_folds",
    "significantly_better",
    "skill",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Folds:
    """Training and test day masks, one row per split (empty when the window is too short)."""

    train: BoolArray
    test: BoolArray

    @property
    def count(self) -> int:
        return int(self.train.shape[0])


def make_folds(days: int, splits: int, test_days: int, min_train_days: int) -> Folds:
    """TimeSeriesSplit over the day axis, with as many splits (up to `splits`) as leave enough
    training.

    (TimeSeriesSplit needs two splits or more; a single split is the same cut made directly.)
    """
    usable = min(splits, max(0, (days - min_train_days) // test_days))
    train = np.zeros((usable, days), dtype=bool)
    test = np.zeros((usable, days), dtype=bool)
    if usable == 1:
        train[0, : days - test_days] = True
        test[0, days - test_days :] = True
    elif usable > 1:
        splitter = TimeSeriesSplit(n_splits=usable, test_size=test_days)
        for row, (tr, te) in enumerate(splitter.split(np.arange(days))):
            train[row, tr] = True
            test[row, te] = True
    return Folds(train, test)


def holdout_deviance(
    conversions: FloatArray, predicted: FloatArray, valid: BoolArray, folds: Folds
) -> FloatArray:
    """Summed test-day deviance per entity; predicted is (K, folds, N), the rest (K, N)."""
    test = folds.test[None, :, :] & valid[:, None, :]
    dev = poisson_deviance(conversions[:, None, :], predicted, test)
    return np.asarray(dev.sum(axis=-1), dtype=np.float64)


def holdout_days(
    conversions: FloatArray, predicted: FloatArray, valid: BoolArray, folds: Folds
) -> FloatArray:
    """Test-day deviance per entity and day (K, N), each day from the fold that holds it out
    (0 on days no fold tests); `holdout_deviance` is its sum over days."""
    test = folds.test[None, :, :] & valid[:, None, :]
    dev = unit_deviance(conversions[:, None, :], predicted) * test
    return np.asarray(dev.sum(axis=1), dtype=np.float64)


def significantly_better(difference: FloatArray, days: BoolArray) -> bool:
    """Whether the summed daily differences (challenger minus incumbent deviance) over the test
    `days` are below zero by more than two standard errors: the challenger forecasts clearly
    better, not by luck."""
    d = difference[days]
    if d.size < 2:
        return False
    spread = float(np.std(d, ddof=1)) * np.sqrt(d.size)
    return bool(float(d.sum()) < -2.0 * spread)


def baseline_holdout(
    conversions: FloatArray,
    valid: BoolArray,
    folds: Folds,
    exposure: FloatArray | None = None,
) -> FloatArray:
    """Test-day deviance per entity of the mean conversions per spending day of the training.

    `exposure` (per day; default 1) is what a day counts for: its days (a week's row is 7) times
    the share of its conversions already reported, so the baseline is as fair to a lagged or
    weekly history as the curves are.
    """
    train = folds.train[None, :, :] & valid[:, None, :]
    if exposure is None:
        days = train.sum(axis=-1)
        total = np.where(train, conversions[:, None, :], 0.0).sum(axis=-1)
        mean = np.where(days > 0, total / np.maximum(days, 1), 0.0)
        predicted = mean[:, :, None]
    else:
        weight = np.where(train, exposure[None, None, :], 0.0).sum(axis=-1)
        total = np.where(train, conversions[:, None, :], 0.0).sum(axis=-1)
        rate = np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), 0.0)
        predicted = rate[:, :, None] * exposure[None, None, :]
    test = folds.test[None, :, :] & valid[:, None, :]
    dev = poisson_deviance(conversions[:, None, :], predicted, test)
    return np.asarray(dev.sum(axis=-1), dtype=np.float64)


def skill(model: FloatArray, baseline: FloatArray) -> FloatArray:
    """1 - model / baseline deviance (NaN where the baseline has nothing to score)."""
    ok = baseline > 0
    return np.asarray(np.where(ok, 1.0 - model / np.where(ok, baseline, 1.0), np.nan))
