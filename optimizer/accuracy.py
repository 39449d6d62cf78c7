"""Forecast accuracy: what the curves predicted at the spend actually made, against what happened.

One scoring for the ledger (published plans, scored as their days' data arrive) and the backtest
(past weeks predicted by fits that did not see them), so both report the same numbers. The
prediction is the curve evaluated at the spend the account really made, not at the plan's spend:
a manager who did not follow the plan still gets a fair score.

The band check is predictive: an entity's conversions over the window lie inside its 80% band when
they are neither in the lowest 10% of what its low curve's total makes likely nor in the highest
10% of what its high curve's total does (Poisson counts, mid-p; curve uncertainty and count noise
together: a band on the expected value alone would almost never hold an integer count of 0, 1 or
2). With the band collapsed to the forecast this holds 80% of the time when the forecast is right,
so extra width is what the forecast's own error needs. `band_scale` widens or narrows the curve
band around the forecast (1: as fitted), which is what calibration adjusts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import poisson

from optimizer.bands import PREDICTIVE_QUANTILES, scaled_band
from optimizer.errors import InvalidInputError
from optimizer.models import CurveSet
from optimizer.models.curves import entity_id
from optimizer.schema import NAME_COLUMNS, EntityKey

__all__ = ["PAIR_COLUMNS", "Accuracy", "predict_at", "score", "window_band_hits"]

PAIR_COLUMNS: tuple[str, ...] = (
    "date",
    "entity_id",
    "campaign",
    "spend",
    "predicted",
    "low",
    "high",
    "actual",
)
_LOW_Q, _HIGH_Q = PREDICTIVE_QUANTILES


@dataclass(frozen=True, eq=False)
class Accuracy:
    """Scores over a window.

    total_error: predicted / actual conversions over the window - 1 (> 0: optimistic).
    median_abs_error: median over entities of |predicted - actual| conversions in the window.
    median_abs_pct_error: the same relative to actual, over entities with at least 5 conversions.
    coverage: share of entities whose window conversions lie in their 80% predictive band.
    daily_bias: median over days of predicted / actual - 1 for the account's day totals.
    by_campaign: campaign, predicted, actual, total_error, coverage.
    by_day: date, predicted, actual (the account's day totals).
    """

    days: int
    entities: int
    predicted: float
    actual: float
    total_error: float
    median_abs_error: float
    median_abs_pct_error: float
    coverage: float
    daily_bias: float
    by_campaign: pd.DataFrame
    by_day: pd.DataFrame


def predict_at(
    curve_set: CurveSet, actual: pd.DataFrame, band_scale: float | None = None
) -> pd.DataFrame:
    """Pairs in `PAIR_COLUMNS`: each model-shaped row of `actual` (date, names, spend, conversions)
    that the curve set has a curve for, with the curve's forecast and band at the spend made (the
    band scaled by `band_scale`, else by the curve set's own calibration)."""
    scale = curve_set.band_scale if band_scale is None else band_scale
    if actual.empty:
        return pd.DataFrame(columns=list(PAIR_COLUMNS))
    curves = {c.entity_id: c for c in curve_set}
    ids = [
        entity_id(EntityKey(*names))
        for names in actual.loc[:, list(NAME_COLUMNS)].itertuples(index=False)
    ]
    frame = actual.assign(entity_id=ids)
    frame = frame[frame["entity_id"].isin(curves)].reset_index(drop=True)
    rows = []
    for key, group in frame.groupby("entity_id", sort=True):
        curve = curves[str(key)]
        days = pd.to_datetime(group["date"]).dt.date.to_numpy()
        spend = group["spend"].to_numpy(dtype=np.float64)
        factor = np.array([curve.multiplier(d) for d in days])
        base = {band: curve.expected(spend, band=band) * factor for band in ("", "low", "high")}
        rows.append(
            pd.DataFrame(
                {
                    "date": days,
                    "entity_id": str(key),
                    "campaign": group["campaign"].to_numpy(),
                    "spend": spend,
                    "predicted": base[""],
                    **dict(
                        zip(
                            ("low", "high"),
                            scaled_band(base[""], base["low"], base["high"], scale),
                            strict=True,
                        )
                    ),
                    "actual": group["conversions"].to_numpy(dtype=np.float64),
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=list(PAIR_COLUMNS))
    return pd.concat(rows, ignore_index=True).loc[:, list(PAIR_COLUMNS)]


def window_band_hits(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per entity over the window: predicted, actual, the 80% predictive band and whether it holds
    the actual total.

    The check uses mid-p values, so that counts of 0, 1 or 2 are not counted as inside merely
    because a Poisson quantile is a whole number: the actual total is inside when some mean in the
    band makes it ordinary, that is it is not in the lowest 10% even under the low curve's mean nor
    in the highest 10% even under the high curve's mean.
    """
    totals = pairs.groupby("entity_id", sort=True).agg(
        campaign=("campaign", "first"),
        predicted=("predicted", "sum"),
        low=("low", "sum"),
        high=("high", "sum"),
        actual=("actual", "sum"),
    )
    actual = np.round(totals["actual"].to_numpy())
    low, high = totals["low"].to_numpy(), totals["high"].to_numpy()
    not_too_low = _mid_cdf(actual, low) >= _LOW_Q
    not_too_high = _mid_cdf(actual, high) <= _HIGH_Q
    return totals.assign(
        band_low=poisson.ppf(_LOW_Q, np.maximum(low, 1e-12)),
        band_high=poisson.ppf(_HIGH_Q, np.maximum(high, 1e-12)),
        inside=not_too_low & not_too_high,
    ).reset_index()


def _mid_cdf(count: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """P(X < count) + P(X = count) / 2 for X ~ Poisson(mean)."""
    rate = np.maximum(mean, 1e-12)
    below = poisson.cdf(count - 1, rate)
    return np.asarray(below + 0.5 * poisson.pmf(count, rate), dtype=np.float64)


def score(pairs: pd.DataFrame) -> Accuracy:
    """Scores of the pairs (see `Accuracy`); InvalidInputError when there is nothing to score."""
    if pairs.empty:
        raise InvalidInputError(
            "no day in the window has both a prediction and reported performance to compare"
        )
    entities = window_band_hits(pairs)
    predicted, actual = float(entities["predicted"].sum()), float(entities["actual"].sum())
    gaps = (entities["predicted"] - entities["actual"]).abs()
    sizable = entities[entities["actual"] >= 5]
    pct = (sizable["predicted"] / sizable["actual"] - 1).abs()
    by_day = pairs.groupby("date", sort=True)[["predicted", "actual"]].sum()
    daily = by_day[by_day["actual"] > 0]
    campaigns = entities.groupby("campaign", sort=True).agg(
        predicted=("predicted", "sum"), actual=("actual", "sum"), coverage=("inside", "mean")
    )
    campaigns["total_error"] = np.where(
        campaigns["actual"] > 0, campaigns["predicted"] / campaigns["actual"] - 1, np.nan
    )
    return Accuracy(
        days=int(pairs["date"].nunique()),
        entities=len(entities),
        predicted=predicted,
        actual=actual,
        total_error=predicted / actual - 1 if actual > 0 else math.nan,
        median_abs_error=float(gaps.median()),
        median_abs_pct_error=float(pct.median()) if len(pct) else math.nan,
        coverage=float(entities["inside"].mean()),
        daily_bias=float((daily["predicted"] / daily["actual"] - 1).median())
        if len(daily)
        else math.nan,
        by_campaign=campaigns.reset_index().loc[
            :, ["campaign", "predicted", "actual", "total_error", "coverage"]
        ],
        by_day=by_day.reset_index(),
    )
