"""A simulated account that answers the spend it is given: one day's rows at chosen spends.

`simulate` draws a whole history at its own spend; a closed loop (plan -> spend -> data -> refit
-> plan) needs the account to respond to the plan's spend instead. `day_rows` draws one day from
the truth at the given spends, as the generator does: gamma-Poisson conversions around the true
curve times the campaign's weekday and trend factors (no lag), clicks at a cost per click rising
mildly with spend. Each (seed, day) has its own random stream, so two plans for the same account
meet the same luck on the same day.

`as_exported` turns such complete rows into what an export at the end of a later day shows under a
conversion lag: each day's conversions are split over the ages at which they are first reported by
one draw per (seed, day), so every export of a day agrees with the others and never shrinks. A
script that sends the last two weeks every night (as the Google Ads script does) sends each day
again as its conversions arrive, which is what the fit learns the account's lag from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.schema import CANONICAL_COLUMNS, NAME_COLUMNS, EntityKey
from optimizer.simulate.scenario import split_by_lag
from optimizer.simulate.truth import ConversionLag, Truth, expected_conversions

__all__ = ["DISPERSION", "as_exported", "day_rows", "true_conversions"]

DISPERSION = 8.0
"""Gamma shape of the day-to-day noise around the curve (the generator draws 2-20 per entity)."""

_CPC = 0.9


def true_conversions(truth: Truth, spends: Mapping[EntityKey, float], day: dt.date) -> float:
    """The expected conversions of `day` at `spends` under the truth (what a plan really buys)."""
    keys = list(spends)
    if not keys:
        return 0.0
    params = truth.params(keys)
    x = np.array([spends[k] for k in keys], dtype=np.float64)
    mean = expected_conversions(
        params, x, weekday=day.weekday(), day_index=np.full(len(keys), truth.day_index(day))
    )
    return float(mean.sum() * truth.event_factor(day))


def day_rows(
    truth: Truth, spends: Mapping[EntityKey, float], day: dt.date, seed: int
) -> pd.DataFrame:
    """One day's canonical rows at `spends` (model shape, `CANONICAL_COLUMNS`)."""
    keys = list(spends)
    unknown = [k for k in keys if k not in truth.curves]
    if unknown:
        raise InvalidInputError(f"{len(unknown)} spends name entities the truth does not have")
    rng = np.random.default_rng([seed, 23, day.toordinal()])
    x = np.round(np.array([spends[k] for k in keys], dtype=np.float64), 2)
    params = truth.params(keys)
    mean = expected_conversions(
        params, x, weekday=day.weekday(), day_index=np.full(len(keys), truth.day_index(day))
    ) * truth.event_factor(day)
    gamma = rng.gamma(DISPERSION, np.maximum(mean, 1e-12) / DISPERSION)
    conversions = rng.poisson(gamma).astype(np.float64)
    k = params.k
    cpc = _CPC * np.power(np.maximum(x, 1e-9) / k, 0.15)
    clicks = np.where(x > 0, np.maximum(rng.poisson(x / cpc), conversions.astype(np.int64)), 0)
    impressions = rng.poisson(np.maximum(clicks, 0) * 25.0) + clicks
    frame = pd.DataFrame(
        {
            "date": pd.Timestamp(day),
            **{name: [getattr(key, name) for key in keys] for name in NAME_COLUMNS},
            "spend": x,
            "clicks": clicks.astype(np.int64),
            "impressions": impressions.astype(np.int64),
            "conversions": conversions,
            "conversion_value": np.round(conversions * params.order_value, 2),
        }
    )
    return frame.loc[:, list(CANONICAL_COLUMNS)]


def as_exported(rows: pd.DataFrame, lag: ConversionLag, as_of: dt.date, seed: int) -> pd.DataFrame:
    """Complete canonical rows (any days up to `as_of`) as an export at the end of `as_of` shows
    them: conversions reported by then, conversion value in proportion (module doc)."""
    out = rows.sort_values(["date", *NAME_COLUMNS], kind="mergesort").reset_index(drop=True)
    dates = pd.to_datetime(out["date"]).dt.date
    if (dates > as_of).any():
        raise InvalidInputError(f"rows after {as_of} cannot be in an export made that day")
    conversions = out["conversions"].to_numpy(dtype=np.float64)
    shown = conversions.copy()
    for day in sorted(set(dates)):
        mine = (dates == day).to_numpy()
        rng = np.random.default_rng([seed, 29, day.toordinal()])
        buckets = split_by_lag(rng, np.rint(conversions[mine])[:, None].astype(np.int64), lag)
        age = min((as_of - day).days, lag.horizon)
        shown[mine] = buckets[:, 0, : age + 1].sum(axis=1)
    value = out["conversion_value"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(conversions > 0, shown / conversions, 0.0)
    out["conversions"] = shown
    out["conversion_value"] = np.round(value * share, 2)
    return out.loc[:, list(rows.columns)]
