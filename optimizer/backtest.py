"""Backtest: for each of the last weeks, fit on the data before it, predict it at the spends made,
and score it as the ledger will (`optimizer.accuracy`), without waiting for the future.

`calibrate` then finds the band scale that makes the 80% band hold 80% of the backtest's entity
weeks (split conformal in spirit: the scale is a quantile of out-of-sample misses, measured on
fits that never saw the week they are scored on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.accuracy import Accuracy, predict_at, score, window_band_hits
from optimizer.errors import InvalidInputError
from optimizer.models import CurveSet

__all__ = ["MIN_TRAIN_DAYS", "Backtest", "BacktestWeek", "Calibration", "backtest", "calibrate"]

MIN_TRAIN_DAYS = 28
_TARGET = 0.80
_SCALES = np.concatenate([[0.0], np.exp(np.linspace(np.log(0.01), np.log(20.0), 240))])


@dataclass(frozen=True, eq=False)
class BacktestWeek:
    """One held-out week: its days, the fit's data window end, and its scores."""

    start: dt.date
    end: dt.date
    trained_to: dt.date
    accuracy: Accuracy


@dataclass(frozen=True, eq=False)
class Backtest:
    """Every held-out week, the scores of all of them together and their pairs (with `week`)."""

    weeks: tuple[BacktestWeek, ...]
    overall: Accuracy
    pairs: pd.DataFrame


def backtest(
    history: pd.DataFrame,
    *,
    weeks: int,
    fit: Callable[[pd.DataFrame], CurveSet],
    band_scale: float = 1.0,
    mature_days: int = 0,
) -> Backtest:
    """Hold out each of the last `weeks` whole weeks of `history` (model shaped) in turn; the
    newest held-out week ends `mature_days` before the history's last day, as the ledger waits,
    so conversions still arriving are not scored as the forecast's optimism."""
    if not 1 <= weeks <= 52:
        raise InvalidInputError(f"weeks must be between 1 and 52, got {weeks}")
    if not 0 <= mature_days <= 366:
        raise InvalidInputError(f"mature_days must be between 0 and 366, got {mature_days}")
    dates = pd.to_datetime(history["date"]).dt.date
    if dates.empty:
        raise InvalidInputError("there is no history to backtest")
    first, last = dates.min(), dates.max() - dt.timedelta(days=mature_days)
    held: list[BacktestWeek] = []
    all_pairs = []
    for k in range(weeks, 0, -1):
        start = last - dt.timedelta(days=7 * k - 1)
        end = start + dt.timedelta(days=6)
        if (start - first).days < MIN_TRAIN_DAYS:
            continue
        curve_set = fit(history[dates < start])
        pairs = predict_at(curve_set, history[(dates >= start) & (dates <= end)], band_scale)
        if pairs.empty:
            continue
        held.append(BacktestWeek(start, end, start - dt.timedelta(days=1), score(pairs)))
        all_pairs.append(pairs.assign(week=start))
    if not held:
        raise InvalidInputError(
            f"the history needs at least {MIN_TRAIN_DAYS} days before the first held-out week"
        )
    pairs = pd.concat(all_pairs, ignore_index=True)
    return Backtest(tuple(held), score(pairs), pairs)


@dataclass(frozen=True, slots=True)
class Calibration:
    """The band scale that makes the 80% band hold about 80% of held-out entity weeks, and the
    share it held before (scale 1) and holds after."""

    scale: float
    coverage_before: float
    coverage_after: float


def calibrate(pairs: pd.DataFrame) -> Calibration:
    """The smallest band scale (0, then a log grid from 0.01 to 20) whose 80% band holds at least
    80% of the entity weeks in `pairs` (a backtest's, with the band as fitted)."""
    if pairs.empty or "week" not in pairs:
        raise InvalidInputError("calibration needs a backtest's pairs")
    point = pairs["predicted"].to_numpy()
    below = point - pairs["low"].to_numpy()
    above = pairs["high"].to_numpy() - point

    def coverage(scale: float) -> float:
        scaled = pairs.assign(
            low=np.maximum(point - scale * below, 0.0), high=point + scale * above
        )
        hits = [window_band_hits(week) for _, week in scaled.groupby("week")]
        return float(pd.concat(hits, ignore_index=True)["inside"].mean())

    before = coverage(1.0)
    for scale in _SCALES:
        reached = coverage(float(scale))
        if reached >= _TARGET:
            return Calibration(float(scale), before, reached)
    return Calibration(float(_SCALES[-1]), before, reached)
