"""Conversion lag: how much of a day's conversions an export already shows, and where that is known
from.

A click's conversions are reported over days to weeks, so the latest days of every export look
under-converted; read as data they look like a falling trend. The fit instead scales each day's
expected conversions by the share of them already reported at export time (an exposure offset in
the Poisson likelihood), from a `LagProfile`: the cumulative share reported by each age, age being
the days from the day to the export's last day (age 0 is that last day).

A profile comes from, in order of preference:
1. Google Ads' conversion-lag report, when the account was given one (`optimizer.io.lag_report`);
2. the store's own history: a day's conversions grow across re-uploads, and each upload's totals
   per campaign and day are kept, so the growth from one age to a later one is measured
   (`learn_lag`, a chain-ladder estimate as actuaries use for claims that arrive late);
3. `DEFAULT_LAG`, a documented typical search profile: 60% on the day itself, the rest spread over
   the next 30 days with a mean of 7 (86% by day 7, 98.5% by day 21).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from optimizer.errors import InvalidInputError

__all__ = [
    "COMPLETE_SHARE",
    "DEFAULT_LAG",
    "NO_LAG",
    "STILL_ARRIVING",
    "LagProfile",
    "learn_lag",
    "typical_lag",
]

FloatArray = npt.NDArray[np.float64]

COMPLETE_SHARE = 0.99
"""A day counts as discounted while less than this share of its conversions is reported."""

STILL_ARRIVING = 0.005
"""A learned profile still growing by this share on its last day warns that the uploads' window
is shorter than the lag."""

_MAX_AGE = 90
_MIN_REOBSERVED_CONVERSIONS = 50.0
_MIN_REOBSERVED_DAYS = 7
_SMOOTHING = 1.0


@dataclass(frozen=True)
class LagProfile:
    """Cumulative share of a day's conversions reported by each age 0..horizon (ending at 1), where
    it came from ('report', 'learned', 'default' or 'none') and how (in words)."""

    cumulative: tuple[float, ...]
    source: str
    detail: str = ""

    def __post_init__(self) -> None:
        shares = np.asarray(self.cumulative, dtype=np.float64)
        if shares.size < 1 or not np.all(np.isfinite(shares)):
            raise InvalidInputError("a lag profile needs at least one finite cumulative share")
        if np.any(shares <= 0) or np.any(np.diff(shares) < -1e-12) or shares[-1] != 1.0:
            raise InvalidInputError(
                "a lag profile's cumulative shares must be positive, never fall, and end at 1"
            )

    @property
    def horizon(self) -> int:
        return len(self.cumulative) - 1

    @property
    def measured(self) -> bool:
        """The account's own lag (its report, or learned from its re-uploads), not a guess."""
        return self.source in ("report", "learned")

    def share(self, age: npt.ArrayLike) -> FloatArray:
        """The share reported by `age` days (1 beyond the horizon and for ages below 0, which
        only a day after the export could have)."""
        ages = np.asarray(age, dtype=np.int64)
        shares = np.asarray(self.cumulative, dtype=np.float64)
        inside = (ages >= 0) & (ages < self.horizon)
        return np.asarray(np.where(inside, shares[np.clip(ages, 0, self.horizon)], 1.0))

    def discounted_days(self) -> int:
        """How many of the latest days have less than `COMPLETE_SHARE` of their conversions."""
        shares = np.asarray(self.cumulative)
        return int(np.flatnonzero(np.append(shares, 1.0) >= COMPLETE_SHARE)[0])

    def describe(self) -> str:
        """One line a PPC manager reads, e.g. 'learned from re-uploads (...): 58% of a day's
        conversions on the day, 85% by day 7, 97% by day 30; the last 24 days are discounted'."""
        if self.source == "none":
            return "conversion lag: none assumed (conversions are taken as final)"
        marks = [a for a in (7, 30) if a < self.horizon]
        parts = [f"{self.share(0)[()]:.0%} of a day's conversions on the day"] + [
            f"{self.share(a)[()]:.0%} by day {a}" for a in marks
        ]
        days = self.discounted_days()
        origin = {"report": "from the conversion-lag report", "learned": "learned from re-uploads"}
        source = origin.get(self.source, "the default profile")
        detail = f" ({self.detail})" if self.detail else ""
        count = "1 day is" if days == 1 else f"{days} days are"
        line = f"conversion lag {source}{detail}: {', '.join(parts)}; the last {count} discounted"
        growth = self.still_arriving()
        if growth >= STILL_ARRIVING:
            line += (
                f"; {growth:.1%} of a day's conversions still arrived on day {self.horizon}, the "
                "oldest day the uploads send again, so older days are taken as complete when they "
                "are not: send at least 30 days (the conversion window)"
            )
        return line

    def still_arriving(self) -> float:
        """The share of a learned profile's conversions first reported on its last age: what a
        re-sent window of `horizon` days cuts off is likely more (0 for other sources)."""
        if self.source != "learned" or self.horizon < 1:
            return 0.0
        return float(1.0 - self.cumulative[-2])

    def to_dict(self) -> dict[str, object]:
        return {"cumulative": list(self.cumulative), "source": self.source, "detail": self.detail}

    @classmethod
    def from_report(cls, cumulative: tuple[float, ...], detail: str) -> LagProfile:
        """The profile of a conversion-lag report (`optimizer.io.lag_report`)."""
        return cls(cumulative, "report", detail)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LagProfile:
        values = data["cumulative"]
        if not isinstance(values, list):
            raise InvalidInputError("a stored lag profile needs a list of shares")
        return cls(tuple(float(v) for v in values), str(data["source"]), str(data["detail"]))


def typical_lag(
    *, same_day: float, mean_days: float, horizon: int, source: str, detail: str = ""
) -> LagProfile:
    """`same_day` of the conversions on the day, the rest a discretised exponential with mean about
    `mean_days` over the next `horizon` days."""
    ages = np.arange(horizon + 1, dtype=np.float64)
    tail = (1.0 - np.exp(-ages / mean_days)) / (1.0 - math.exp(-horizon / mean_days))
    shares = same_day + (1.0 - same_day) * tail
    shares[-1] = 1.0
    return LagProfile(tuple(float(v) for v in shares), source, detail)


DEFAULT_LAG = typical_lag(
    same_day=0.6,
    mean_days=7.0,
    horizon=30,
    source="default",
    detail="60% on the day, the rest over 30 days with a mean of 7",
)
NO_LAG = LagProfile((1.0,), "none")


def learn_lag(snapshots: pd.DataFrame) -> LagProfile | None:
    """A profile from what successive uploads said about the same days; None without enough of it.

    `snapshots` has one row per upload, campaign and day: `campaign`, `date`, `as_of` (the
    upload's last date), `upload` (increasing with upload order) and `conversions`. For each
    campaign and day, every pair of successive uploads gives the growth from one age to a later
    one; pairs are pooled by their ages (summed conversions, as chain-ladder link ratios are), and
    log F at every age is fitted to the pooled log growths by least squares with a light
    smoothness penalty, then made non-decreasing. Ages beyond the oldest re-observation are taken
    as complete: uploads that re-export the last 30 days see a 30-day lag whole.

    Needs at least 50 conversions and 7 days seen again in a later upload.
    """
    if snapshots.empty:
        return None
    frame = snapshots.loc[:, ["campaign", "date", "as_of", "upload", "conversions"]].copy()
    frame["age"] = (pd.to_datetime(frame["as_of"]) - pd.to_datetime(frame["date"])).dt.days
    frame = frame[(frame["age"] >= 0) & (frame["age"] <= _MAX_AGE)]
    frame = frame.sort_values(["campaign", "date", "upload"], kind="stable")
    same = (frame["campaign"].shift() == frame["campaign"]) & (
        frame["date"].shift() == frame["date"]
    )
    pairs = pd.DataFrame(
        {
            "early": frame["age"].shift()[same].astype(np.int64),
            "late": frame["age"][same],
            "before": frame["conversions"].shift()[same],
            "after": frame["conversions"][same],
            "day": frame["date"][same],
        }
    )
    pairs = pairs[(pairs["late"] > pairs["early"]) & (pairs["before"] > 0)]
    if (
        pairs.empty
        or float(pairs["before"].sum()) < _MIN_REOBSERVED_CONVERSIONS
        or pairs["day"].nunique() < _MIN_REOBSERVED_DAYS
    ):
        return None
    pooled = pairs.groupby(["early", "late"])[["before", "after"]].sum().reset_index()
    horizon = int(pooled["late"].max())
    log_f = _chain_ladder(pooled, horizon)
    shares = np.minimum(np.exp(log_f), 1.0)
    shares[-1] = 1.0
    detail = (
        f"{pairs['day'].nunique():,} days seen again in a later upload, "
        f"{pairs['before'].sum():,.0f} conversions re-observed"
    )
    return LagProfile(tuple(float(v) for v in shares), "learned", detail)


def _chain_ladder(pooled: pd.DataFrame, horizon: int) -> FloatArray:
    """log F(0..horizon) with log F(horizon) = 0, from pooled (early, late, before, after) sums."""
    early = pooled["early"].to_numpy(dtype=np.int64)
    late = pooled["late"].to_numpy(dtype=np.int64)
    growth = np.log(
        np.maximum(pooled["after"].to_numpy(), 1e-9) / pooled["before"].to_numpy(dtype=np.float64)
    )
    weight = pooled["before"].to_numpy(dtype=np.float64)
    unknowns = horizon
    design = np.zeros((len(pooled), unknowns))
    rows = np.arange(len(pooled))
    design[rows[early < horizon], early[early < horizon]] -= 1.0
    design[rows[late < horizon], late[late < horizon]] += 1.0
    smooth = np.zeros((max(unknowns - 2, 0), unknowns))
    for i in range(max(unknowns - 2, 0)):
        smooth[i, i : i + 3] = (1.0, -2.0, 1.0)
    lhs = design.T @ (design * weight[:, None]) + _SMOOTHING * smooth.T @ smooth
    lhs += 1e-6 * np.eye(unknowns)
    rhs = design.T @ (weight * growth)
    log_f = np.append(np.linalg.solve(lhs, rhs), 0.0)
    iso = IsotonicRegression(increasing=True, y_max=0.0)
    fitted = iso.fit_transform(np.arange(horizon + 1), log_f)
    return np.asarray(np.minimum(fitted, 0.0), dtype=np.float64)
