"""Spend tests where the curves are unsure: their value of information, their cost, their design.

A budget split turns on each entity's elasticity at its current spend (see docs/models.md), and
the data pin it down only as far as the spend has moved. Locally a curve is f(x) = f0 (x / x0)^e
(f0 the expected conversions at the planned spend x0, e the elasticity there), and the plan holds
the entity where its marginal return e f0 / x0 equals the account's (the cap's shadow price). If
the true elasticity were e instead of the estimate e0, the best spend would be
x0 (e / e0)^(1 / (1 - e)) (within the entity's allowed range), and moving there gains
f0 [r^e - 1 - e0 (r - 1)] conversions a day (the spend moved is valued at the shadow price).
Averaged over the elasticity's spread (Gauss-Hermite), that is the expected value of perfect
information per day (EVPI).

A test does not reveal e exactly: alternating blocks of +-step around x0 add Fisher information
C (sum of squared deviations of log spend) / phi about e (C conversions a day, phi the
over-dispersion), so the variance falls from v0 to 1 / (1 / v0 + I). Near the optimum the loss
of deciding with a wrong elasticity is quadratic in the error, so the test's expected gain per
day is EVPI x (1 - v1 / v0), over the days the better-informed plan is used (`horizon_days`).
Its cost is what the off-plan spend gives up, f0 [e0 (m - 1) - (m^e0 - 1)] per day at multiple
m (>= 0 for a concave curve), summed over the design. All figures are expected conversions.

The elasticity's spread comes from the bootstrap band of the curve: near x0 the log band's
variance grows as v_a + v_e log(x / x0)^2 (the level's and the elasticity's), fitted over the
band's spends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.families import NONCONCAVE_FAMILIES, derivative, evaluate
from optimizer.models import CurveSet, EntityCurve
from optimizer.schema import NAME_COLUMNS

__all__ = [
    "SUGGESTION_COLUMNS",
    "Design",
    "band_elasticity_sd",
    "candidates",
    "design_information",
    "elasticity_at",
    "evpi_per_day",
    "local_elasticity",
    "pick_tests",
    "predicted_sd",
    "rank_tests",
    "readout_figures",
    "schedule",
    "test_cost",
]

FloatArray = npt.NDArray[np.float64]

Z90 = 1.2815515655446004
"""The standard normal's 90% quantile: a 10-90% band spans 2 x Z90 standard deviations."""

_E_MIN, _E_MAX = 0.02, 0.98
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(21)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()

SUGGESTION_COLUMNS: tuple[str, ...] = (
    "entity_id",
    "campaign",
    "ad_group",
    "keyword",
    "match_type",
    "grade",
    "spend",
    "conversions_per_day",
    "elasticity",
    "elasticity_low",
    "elasticity_high",
    "elasticity_sd",
    "predicted_sd_after",
    "evpi_per_day",
    "gain",
    "cost",
    "net",
)


@dataclass(frozen=True, kw_only=True)
class Design:
    """Alternating blocks of `block_days` at (1 + step) and (1 - step) x the planned spend,
    `blocks` of them; `horizon_days` is how long what it teaches is used."""

    step: float = 0.3
    block_days: int = 7
    blocks: int = 4
    horizon_days: int = 60

    def __post_init__(self) -> None:
        if not 0 < self.step < 1:
            raise InvalidInputError("a test's step must be a fraction between 0 and 1")
        if not (1 <= self.block_days <= 28 and 2 <= self.blocks <= 12):
            raise InvalidInputError("a test has 2-12 blocks of 1-28 days")
        if not 1 <= self.horizon_days <= 366:
            raise InvalidInputError("horizon_days must be between 1 and 366")

    @property
    def days(self) -> int:
        return self.block_days * self.blocks


def schedule(
    design: Design, *, max_increase: float | None, max_decrease: float | None
) -> tuple[float, ...]:
    """Each test day's spend as a multiple of the planned spend, as the change limits allow.

    The solver's limits are relative to the entity's current spend, the mean of its last 7 days;
    the entity is taken to have spent the planned amount before the test and the schedule after.
    """
    past = [1.0] * 7
    out: list[float] = []
    for day in range(design.days):
        wanted = 1.0 + design.step if (day // design.block_days) % 2 == 0 else 1.0 - design.step
        current = float(np.mean(past[-7:]))
        high = current * (1.0 + max_increase) if max_increase is not None else np.inf
        low = current * (1.0 - max_decrease) if max_decrease is not None else 0.0
        m = float(min(max(wanted, low), high))
        out.append(m)
        past.append(m)
    return tuple(out)


def elasticity_at(family: str, params: Mapping[str, Any], spend: FloatArray) -> FloatArray:
    """x f'(x) / f(x) at `spend` (0 where the curve is 0)."""
    x = np.maximum(np.asarray(spend, dtype=np.float64), 1e-9)
    value = evaluate(family, params, x)
    slope = derivative(family, params, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(value > 0, x * slope / value, 0.0)
    return np.asarray(e, dtype=np.float64)


def band_elasticity_sd(
    band_spend: Sequence[float],
    band_low: Sequence[float],
    band_high: Sequence[float],
    spend: float,
    band_scale: float = 1.0,
) -> float:
    """The elasticity's standard deviation at `spend` read off a 10-90% band (see module doc).

    NaN when the band is too short or flat to say (fewer than 3 positive points)."""
    x = np.asarray(band_spend, dtype=np.float64)
    low = np.asarray(band_low, dtype=np.float64)
    high = np.asarray(band_high, dtype=np.float64)
    ok = (x > 0) & (low > 0) & (high > 0)
    if ok.sum() < 3 or spend <= 0:
        return float("nan")
    sd_log = band_scale * (np.log(high[ok]) - np.log(low[ok])) / (2 * Z90)
    lever = np.log(x[ok] / spend) ** 2
    design = np.column_stack([np.ones_like(lever), lever])
    coef, *_ = np.linalg.lstsq(design, sd_log**2, rcond=None)
    if coef[1] <= 0 or lever.max() <= 1e-6:
        # no growth away from the spend: the band says the elasticity is known to its resolution
        return float(np.sqrt(max(float(np.var(sd_log)), 0.0) / max(float(lever.max()), 1e-6)))
    return float(np.sqrt(coef[1]))


def local_elasticity(curve: EntityCurve, spend: float, band_scale: float) -> tuple[float, float]:
    """A fitted curve's elasticity at `spend` and its standard deviation read off the curve's band
    (`band_elasticity_sd`): what a test is ranked by and read out with."""
    params = {k: np.float64(v) for k, v in curve.params.items()}
    e = float(elasticity_at(curve.lookup_name, params, np.array([spend]))[0])
    low, high = curve.band_low, curve.band_high
    return e, band_elasticity_sd(curve.band_spend, low, high, spend, band_scale)


def evpi_per_day(
    f0: FloatArray,
    e0: FloatArray,
    sd: FloatArray,
    low_ratio: FloatArray,
    high_ratio: FloatArray,
) -> FloatArray:
    """Expected conversions a day gained by knowing the elasticity exactly (module doc).

    `low_ratio` / `high_ratio`: the entity's allowed spend range as multiples of x0."""
    f0, e0, sd = (np.asarray(v, dtype=np.float64) for v in (f0, e0, sd))
    e0c = np.clip(e0, _E_MIN, _E_MAX)
    e = np.clip(e0c[:, None] + np.nan_to_num(sd)[:, None] * _NODES[None, :], _E_MIN, _E_MAX)
    r = np.power(e / e0c[:, None], 1.0 / (1.0 - e))
    r = np.clip(r, np.asarray(low_ratio)[:, None], np.asarray(high_ratio)[:, None])
    gain = f0[:, None] * (np.power(r, e) - 1.0 - e0c[:, None] * (r - 1.0))
    return np.asarray(np.maximum(gain, 0.0) @ _WEIGHTS, dtype=np.float64)


def design_information(multiples: Sequence[float]) -> float:
    """The Fisher information a test's days at `multiples` x the spend add about the elasticity,
    per conversion a day: the sum of (log multiple - their mean)^2."""
    logs = np.log(np.asarray(multiples, dtype=np.float64))
    return float(((logs - logs.mean()) ** 2).sum()) if len(logs) else 0.0


def predicted_sd(
    sd: FloatArray,
    conversions_per_day: FloatArray,
    multiples: Sequence[float],
    dispersion: float = 1.0,
) -> FloatArray:
    """The elasticity's standard deviation after the test's days at `multiples` x the spend."""
    info = (
        np.asarray(conversions_per_day, dtype=np.float64)
        * design_information(multiples)
        / dispersion
    )
    with np.errstate(divide="ignore"):
        v0 = np.asarray(sd, dtype=np.float64) ** 2
        v1 = 1.0 / (1.0 / v0 + info)
    return np.asarray(np.sqrt(v1), dtype=np.float64)


def test_cost(f0: FloatArray, e0: FloatArray, multiples: Sequence[float]) -> FloatArray:
    """Expected conversions the test's off-plan days give up (0 for a plan held at x0)."""
    m = np.asarray(multiples, dtype=np.float64)[None, :]
    e = np.clip(np.asarray(e0, dtype=np.float64), _E_MIN, _E_MAX)[:, None]
    loss = np.asarray(f0, dtype=np.float64)[:, None] * (e * (m - 1.0) - (np.power(m, e) - 1.0))
    return np.asarray(loss.sum(axis=1), dtype=np.float64)


test_cost.__test__ = False  # type: ignore[attr-defined]  # a function named test_*, not a test


def rank_tests(
    entities: pd.DataFrame,
    design: Design,
    multiples: Sequence[float],
    *,
    dispersion: float = 1.0,
) -> pd.DataFrame:
    """Every entity's test scored and ranked by net value (gain - cost), best first.

    `entities` has `entity_id`, the name columns, `grade`, `spend` (x0), `conversions_per_day`
    (f0 at x0 on the test's days), `elasticity`, `elasticity_sd`, `low_ratio`, `high_ratio`.
    Columns out: `SUGGESTION_COLUMNS`."""
    f0 = entities["conversions_per_day"].to_numpy(dtype=np.float64)
    e0 = entities["elasticity"].to_numpy(dtype=np.float64)
    sd = entities["elasticity_sd"].to_numpy(dtype=np.float64)
    usable = np.isfinite(sd) & (sd > 0) & (f0 > 0) & np.isfinite(e0)
    sd_safe = np.where(usable, sd, 1.0)
    after = predicted_sd(sd_safe, f0, multiples, dispersion)
    evpi = evpi_per_day(
        f0,
        e0,
        np.where(usable, sd, 0.0),
        entities["low_ratio"].to_numpy(dtype=np.float64),
        entities["high_ratio"].to_numpy(dtype=np.float64),
    )
    learned = 1.0 - (after / sd_safe) ** 2
    gain = np.where(usable, evpi * learned * design.horizon_days, 0.0)
    cost = test_cost(f0, e0, multiples)
    out = entities.loc[:, ["entity_id", "campaign", "ad_group", "keyword", "match_type"]].copy()
    out["grade"] = entities["grade"].to_numpy()
    out["spend"] = entities["spend"].to_numpy(dtype=np.float64)
    out["conversions_per_day"] = f0
    out["elasticity"] = e0
    out["elasticity_low"] = e0 - Z90 * sd
    out["elasticity_high"] = e0 + Z90 * sd
    out["elasticity_sd"] = sd
    out["predicted_sd_after"] = np.where(usable, after, np.nan)
    out["evpi_per_day"] = evpi
    out["gain"] = gain
    out["cost"] = cost
    out["net"] = gain - cost
    out = out.sort_values(["net", "entity_id"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True).loc[:, list(SUGGESTION_COLUMNS)]


def pick_tests(
    ranked: pd.DataFrame,
    *,
    budget: float,
    share: float,
    step: float,
    used: float = 0.0,
    excluded: frozenset[str] = frozenset(),
    max_tests: int = 3,
) -> pd.DataFrame:
    """The best-ranked tests worth more than they cost whose spend moves (step x spend) fit the
    exploration budget `share` x `budget` beside the moves already `used`."""
    room = share * budget - used
    chosen: list[int] = []
    for i, row in enumerate(ranked.to_dict("records")):
        if len(chosen) >= max_tests:
            break
        if float(row["net"]) <= 0:
            break
        move = step * float(row["spend"])
        if str(row["entity_id"]) in excluded or move <= 0 or move > room:
            continue
        chosen.append(i)
        room -= move
    return ranked.iloc[chosen].reset_index(drop=True)


def readout_figures(
    *,
    base: float,
    spends: npt.ArrayLike,
    multipliers: npt.ArrayLike,
    f_at: FloatArray,
    f_base: float,
    slope_base: float,
    e_before: float,
    e_after: float,
    low_ratio: float = 0.7,
    high_ratio: float = 1.3,
) -> tuple[float, float]:
    """(conversions the test cost, the plan's move the new elasticity implies, as a multiple).

    Cost: per test day, the after-curve's conversions at the planned spend minus at the tested
    spend, less the spend saved valued at the marginal return there (`slope_base`); `f_at` is
    the after-curve at `spends`. The move: x0 (e_after / e_before)^(1 / (1 - e_after)) within
    the allowed range (1.0: the test changed nothing)."""
    days = np.asarray(multipliers, dtype=np.float64)
    x = np.asarray(spends, dtype=np.float64)
    cost = float(
        (days * (f_base - np.asarray(f_at))).sum() + (slope_base * days * (x - base)).sum()
    )
    eb = float(np.clip(e_before, _E_MIN, _E_MAX))
    ea = float(np.clip(e_after, _E_MIN, _E_MAX))
    move = float(np.clip((ea / eb) ** (1.0 / (1.0 - ea)), low_ratio, high_ratio))
    return cost, move


def candidates(
    curve_set: CurveSet,
    day: dt.date,
    planned: Mapping[str, float],
    *,
    max_increase: float | None,
    max_decrease: float | None,
    band_scale: float | None = None,
) -> pd.DataFrame:
    """The input of `rank_tests` for `day`: every concave entity with a planned spend (`planned`,
    entity_id -> spend), its elasticity there and its spread; budget-held entities are left out
    (their response above the budget is unseen, and they already move in small steps)."""
    scale = curve_set.band_scale if band_scale is None else band_scale
    rows = []
    for curve in curve_set:
        x0 = float(planned.get(curve.entity_id, 0.0))
        if x0 <= 0 or curve.lookup_name in NONCONCAVE_FAMILIES or curve.diagnostics.budget_held:
            continue
        e0, sd = local_elasticity(curve, x0, scale)
        low = curve.trust_low
        high = curve.trust_high
        if max_decrease is not None:
            low = max(low, curve.current_spend * (1.0 - max_decrease))
        if max_increase is not None:
            high = min(high, curve.current_spend * (1.0 + max_increase))
        rows.append(
            {
                "entity_id": curve.entity_id,
                **{name: getattr(curve.key, name) for name in NAME_COLUMNS},
                "grade": curve.diagnostics.grade,
                "spend": x0,
                "conversions_per_day": float(curve.expected(x0, day)),
                "elasticity": e0,
                "elasticity_sd": sd,
                "low_ratio": min(low / x0, 1.0),
                "high_ratio": max(high / x0, 1.0),
            }
        )
    columns = ["entity_id", *NAME_COLUMNS, "grade", "spend", "conversions_per_day",
               "elasticity", "elasticity_sd", "low_ratio", "high_ratio"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
