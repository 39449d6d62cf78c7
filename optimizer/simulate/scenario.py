"""Real-world effects the simulator can switch on, each off by default (so a plain `simulate` call
draws exactly what it always did).

- `lag`: each day's conversions are reported over the following days (`ConversionLag`); the
  history is the export as of its last day, and `Simulation.export(as_of)` gives earlier or
  later exports of the same account (re-exports raise recent conversions).
- `events`: account-wide multipliers of conversions over date ranges (a promotion, an outage).
- `s_shaped_share`: that share of the keywords gets an S-shaped curve (Hill shape 1.5-3, so
  returns increase below an inflection near the keyword's typical spend).
- `budget_limited_campaigns`: that many keyword campaigns have every entity's spend pinned at a
  daily budget for the last `budget_pinned_share` of the history (a third by default, at least 28
  days; 1: all of it, so their response above the budget is never seen), below what they would
  have spent; `impression_share` adds the export's "Search lost IS (budget)" column.
- `auction`: spend buys clicks along the curve divided by a per-entity conversion rate, and each
  click converts at that rate (day-to-day noise only): conversions follow the same curve, with
  clicks 10-50 times as many.
- `spend_levels`: the range of the budget levels the history's spend steps between, as multiples
  of each entity's base spend (0.4-1.6 by default; (0.9, 1.1): spend that barely moves, so the
  curves' bends stay unsure, as in accounts whose budgets are rarely changed).
- `campaign_shapes`: the share (0-1) of each keyword's curve shape and saturation point (as a
  multiple of its typical spend) that it takes from its campaign's, so a campaign's keywords bend
  alike (1: all the same elasticity at their typical spend), with the same cost per conversion
  there as before; 0 (the default) draws every keyword's curve on its own.
- `volume`: conversions a day at the same spend, as a multiple of the plain account's (its cost
  per conversion divided by it): an account with more conversions per entity, whose spend and
  clicks are as before.
- `grain`: 'week' or 'month' sums the daily rows into whole weeks (Monday first) or months,
  dated by their first day, as a marketing-mix export is.

Every effect draws from its own random stream (seeded from the simulation's seed), so switching one
on changes nothing that the others draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.schema import LOST_IS_BUDGET_COLUMN
from optimizer.simulate.truth import GRAINS, ConversionLag, TrueEvent

__all__ = [
    "LOST_IS_BUDGET_COLUMN",
    "Scenario",
    "aggregate_grain",
    "effect_rng",
    "reported",
    "split_by_lag",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_STREAMS = {"s_shape": 1, "budget": 2, "auction": 3, "lag": 4, "budget_pin": 5, "campaign_shape": 6}


@dataclass(frozen=True)
class Scenario:
    """Which real-world effects a simulated account shows (see the module docstring)."""

    lag: ConversionLag | None = None
    events: tuple[TrueEvent, ...] = ()
    s_shaped_share: float = 0.0
    budget_limited_campaigns: int = 0
    budget_pinned_share: float = 1 / 3
    impression_share: bool = False
    auction: bool = False
    grain: str = "day"
    weekday_swing: float = 1.0
    spend_levels: tuple[float, float] = (0.4, 1.6)
    volume: float = 1.0
    campaign_shapes: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))
        low, high = self.spend_levels
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high <= 10):
            raise InvalidInputError("spend_levels must be 0 < low <= high <= 10")
        if not (math.isfinite(self.volume) and 0.1 <= self.volume <= 100):
            raise InvalidInputError("volume must be between 0.1 and 100")
        if not (math.isfinite(self.weekday_swing) and 0 <= self.weekday_swing <= 10):
            raise InvalidInputError("weekday_swing must be between 0 and 10")
        if not (math.isfinite(self.s_shaped_share) and 0 <= self.s_shaped_share <= 1):
            raise InvalidInputError("s_shaped_share must be a fraction between 0 and 1")
        if not (math.isfinite(self.campaign_shapes) and 0 <= self.campaign_shapes <= 1):
            raise InvalidInputError("campaign_shapes must be a fraction between 0 and 1")
        if self.budget_limited_campaigns < 0:
            raise InvalidInputError("budget_limited_campaigns must not be negative")
        if not 0 < self.budget_pinned_share <= 1:
            raise InvalidInputError("budget_pinned_share must be a fraction in (0, 1]")
        if self.grain not in GRAINS:
            raise InvalidInputError(f"grain must be one of {', '.join(GRAINS)}")


def effect_rng(seed: int, effect: str) -> np.random.Generator:
    """The random stream of one effect, independent of the base simulation's stream."""
    return np.random.default_rng([seed, 18, _STREAMS[effect]])


def split_by_lag(
    rng: np.random.Generator, conversions: IntArray, lag: ConversionLag
) -> npt.NDArray[np.int32]:
    """(entities, days, ages) counts: each day's conversions by the age at which they are first
    reported (a multinomial draw per entity and day)."""
    counts = rng.multinomial(conversions.astype(np.int64), lag.pmf)
    return np.asarray(counts, dtype=np.int32)


def reported(buckets: npt.NDArray[np.int32], last_day: int) -> FloatArray:
    """Conversions of days 0..last_day as reported by the end of `last_day` (entities, days)."""
    ages = last_day - np.arange(last_day + 1)
    horizon = buckets.shape[2] - 1
    cumulative = np.cumsum(buckets[:, : last_day + 1, :], axis=2)
    index = np.minimum(ages, horizon)
    return np.asarray(
        np.take_along_axis(cumulative, index[None, :, None], axis=2)[..., 0], dtype=np.float64
    )


def aggregate_grain(frame: pd.DataFrame, grain: str, keys: list[str]) -> pd.DataFrame:
    """Daily rows summed into whole weeks (Monday first) or whole months, dated by their first day.

    Partial periods at either end are dropped, as a period export would not show them; the lost
    impression share, a fraction, is averaged.
    """
    if grain == "day":
        return frame
    dates = pd.to_datetime(frame["date"])
    if grain == "week":
        period = dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")
        length = pd.Series(7, index=frame.index)
    else:
        period = dates.dt.to_period("M").dt.start_time
        length = dates.dt.days_in_month
    seen = dates.groupby(period).nunique()
    full = seen.index[seen.to_numpy() == length.groupby(period).first().to_numpy()]
    keep = period.isin(full)
    work = frame.loc[keep].assign(date=period[keep])
    numeric = [c for c in work.columns if c not in ("date", *keys)]
    sums = [c for c in numeric if c != LOST_IS_BUDGET_COLUMN]
    grouped = work.groupby(["date", *keys], sort=False, observed=True)
    out = grouped[sums].sum()
    if LOST_IS_BUDGET_COLUMN in work.columns:
        out[LOST_IS_BUDGET_COLUMN] = grouped[LOST_IS_BUDGET_COLUMN].mean()
    out = out.reset_index().loc[:, list(frame.columns)]
    for column in ("clicks", "impressions"):
        out[column] = out[column].astype(np.int64)
    for column in ("spend", "conversion_value"):
        out[column] = out[column].round(6)
    return out
