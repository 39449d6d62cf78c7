"""A synthetic account history from known curves, so fitted models and allocations can be scored.

Spend follows budget levels that step every 14-35 days between 0.4x and 1.6x of each entity's base
level (staggered across entities), so every curve is observed over a wide range; daily auction noise
is a few percent. Conversions are gamma-Poisson (over-dispersed) around the true curve times its
campaign's weekday and trend factors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.money import currency_places, validate_currency
from optimizer.schema import CANONICAL_COLUMNS, NAME_COLUMNS, EntityKey
from optimizer.simulate.scenario import (
    LOST_IS_BUDGET_COLUMN,
    Scenario,
    aggregate_grain,
    effect_rng,
    reported,
    split_by_lag,
)
from optimizer.simulate.truth import (
    MAX_SHAPE,
    MIN_SHAPE,
    CampaignEffects,
    CurveParams,
    FloatArray,
    TrueCurve,
    Truth,
    expected_conversions,
)

__all__ = ["DEFAULT_START", "MATCH_TYPES", "Simulation", "simulate"]

DEFAULT_START = dt.date(2026, 1, 1)
MATCH_TYPES: tuple[str, ...] = ("exact", "phrase", "broad")

_MIN_SEGMENT_DAYS = 14
_MAX_SEGMENT_DAYS = 35
_LEVEL_RANGE = (0.4, 1.6)
_AUCTION_NOISE = 0.04
_CPC_ELASTICITY = 0.15
_CLICK_DISPERSION = 40.0
_AD_GROUP_SIZE = (5, 25)

_KINDS = ("Generic", "Category", "Competitor", "Search", "Seasonal")
_THEMES = (
    "Shoes",
    "Sneakers",
    "Boots",
    "Sandals",
    "Running",
    "Hiking",
    "Kids",
    "Outlet",
    "Sale",
    "Accessories",
    "Schuhe",
    "Größen",
    "Damen",
    "Herren",
    "Chaussures",
    "Été",
    "Zapatos",
    "Niños",
    "Café Racer",
    "Premium",
)
_MARKETS = ("DE", "AT", "CH", "FR", "NL", "BE", "ES", "IT", "UK", "PL", "SE", "DK")
_KEYWORDLESS_KINDS = ("Performance Max", "Shopping")
_PRODUCTS = (
    "running shoes",
    "sneakers",
    "hiking boots",
    "sandals",
    "laufschuhe",
    "wanderschuhe",
    "turnschuhe",
    "hausschuhe",
    "chaussures",
    "baskets",
    "zapatillas",
    "slippers",
    "loafers",
    "trail shoes",
    "football boots",
    "fußballschuhe",
    "ballet flats",
    "high heels",
    "clogs",
    "espadrilles",
    "gummistiefel",
    "winterstiefel",
    "socks",
    "insoles",
    "shoe care",
    "schnürsenkel",
    "rain boots",
    "walking shoes",
    "tennis shoes",
    "climbing shoes",
)
_MODIFIERS = (
    "",
    "buy",
    "cheap",
    "best",
    "online",
    "sale",
    "günstig",
    "kaufen",
    "herren",
    "damen",
    "kinder",
    "größe 42",
    "wasserdicht",
    "leder",
    "schwarz",
    "weiß",
    "near me",
    "for men",
    "for women",
    "outlet",
    "discount",
    "rabatt",
    "premium",
    "vegan",
    "pas cher",
    "été",
    "barato",
    "niños",
)


@dataclass(frozen=True, eq=False)
class _Observations:
    """The daily draws behind a history, kept when conversions are lagged so that the account can
    be exported again as of another day (`Simulation.export`)."""

    keys: tuple[EntityKey, ...]
    dates: pd.DatetimeIndex
    spend: FloatArray
    clicks: npt.NDArray[np.int64]
    impressions: npt.NDArray[np.int64]
    buckets: npt.NDArray[np.int32]
    order_value: FloatArray
    value_noise: FloatArray
    lost_is: FloatArray | None
    decimals: int
    grain: str

    def frame(self, last_day: int, first_day: int = 0) -> pd.DataFrame:
        conversions = reported(self.buckets, last_day)
        rows = slice(first_day, last_day + 1)
        daily = _frame(
            self.keys,
            self.dates[rows],
            self.spend[:, rows],
            self.clicks[:, rows],
            self.impressions[:, rows],
            conversions[:, rows],
            np.round(
                conversions[:, rows] * self.order_value[:, None] * self.value_noise[:, rows],
                self.decimals,
            ),
            None if self.lost_is is None else self.lost_is[:, rows],
        )
        return aggregate_grain(daily, self.grain, list(NAME_COLUMNS))


@dataclass(frozen=True, eq=False)
class Simulation:
    """A simulated history in the model shape (`CANONICAL_COLUMNS`, plus the lost impression share
    when the scenario asks for it) and the truth behind it."""

    history: pd.DataFrame
    truth: Truth
    observations: _Observations | None = field(default=None, repr=False)

    def export(self, as_of: dt.date, *, last_days: int | None = None) -> pd.DataFrame:
        """The account as exported at the end of `as_of`: its rows up to that day (the last
        `last_days` only, when given), with conversions as reported by then.

        Without conversion lag every export shows final conversions.
        """
        first = self.truth.start
        last = (as_of - first).days
        if last < 0:
            raise InvalidInputError(f"{as_of} is before the first simulated day, {first}")
        since = 0 if last_days is None else max(0, last - last_days + 1)
        if self.observations is not None:
            return self.observations.frame(min(last, len(self.observations.dates) - 1), since)
        dates = self.history["date"]
        since_day = pd.Timestamp(first) + pd.Timedelta(days=since)
        keep = (dates <= pd.Timestamp(as_of)) & (dates >= since_day)
        return self.history.loc[keep].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class _Behaviour:
    """Per-entity parameters that shape the observed rows but are not part of the truth."""

    base_spend: FloatArray
    cpc: FloatArray
    ctr: FloatArray
    dispersion: FloatArray
    cpa_at_base: FloatArray


def simulate(
    *,
    campaigns: int,
    keywords_per_campaign: int,
    days: int,
    seed: int,
    start: dt.date | None = None,
    campaign_level_campaigns: int | None = None,
    currency: str = "EUR",
    scenario: Scenario | None = None,
) -> Simulation:
    """Draw `campaigns` keyword campaigns plus keyword-less ones (default `max(1, campaigns // 5)`).

    `scenario` switches on real-world effects (see `optimizer.simulate.scenario`); without one the
    account is as it always was. The same arguments always give the same history and truth.
    """
    currency = validate_currency(currency)
    plan = Scenario() if scenario is None else scenario
    keywordless = (
        max(1, campaigns // 5) if campaign_level_campaigns is None else campaign_level_campaigns
    )
    for name, value, least in (
        ("campaigns", campaigns, 1),
        ("keywords_per_campaign", keywords_per_campaign, 1),
        ("days", days, 1),
        ("campaign_level_campaigns", keywordless, 0),
    ):
        if value < least:
            raise InvalidInputError(f"{name} must be at least {least}, got {value}")
    if plan.budget_limited_campaigns > campaigns:
        raise InvalidInputError(
            f"budget_limited_campaigns ({plan.budget_limited_campaigns}) exceeds the {campaigns} "
            "keyword campaigns"
        )
    first_day = DEFAULT_START if start is None else start
    rng = np.random.default_rng(seed)

    names = _campaign_names(rng, campaigns, keywordless)
    keys = _keyword_keys(rng, names[:campaigns], keywords_per_campaign)
    keys += [EntityKey(name) for name in names[campaigns:]]
    effects = {name: _campaign_effects(rng, plan.weekday_swing) for name in names}
    params, behaviour = _entity_params(rng, keys, effects)
    params = _campaign_shapes(
        effect_rng(seed, "campaign_shape"), params, behaviour, plan.campaign_shapes
    )
    params = _s_shapes(effect_rng(seed, "s_shape"), params, behaviour, plan.s_shaped_share)
    if plan.volume != 1.0:
        params = dataclasses.replace(params, vmax=params.vmax * plan.volume)
    rate = (
        _conversion_rates(effect_rng(seed, "auction"), len(keys))
        if plan.auction
        else np.zeros(len(keys))
    )
    budget = _daily_budgets(
        effect_rng(seed, "budget"), keys, names[: plan.budget_limited_campaigns], behaviour
    )
    truth = Truth(
        start=first_day,
        currency=currency,
        campaigns=effects,
        curves={
            key: TrueCurve(
                key=key,
                vmax=float(params.vmax[i]),
                k=float(params.k[i]),
                shape=float(params.shape[i]),
                order_value=float(params.order_value[i]),
                effects=effects[key.campaign],
                conversion_rate=float(rate[i]),
                daily_budget=float(budget[i]),
            )
            for i, key in enumerate(keys)
        },
        lag=plan.lag,
        events=plan.events,
        grain=plan.grain,
    )
    draws = _Draws(rng=rng, seed=seed, scenario=plan, truth=truth, rate=rate, budget=budget)
    history, observations = _history(
        draws, params, behaviour, first_day, days, currency_places(currency)
    )
    return Simulation(history=history, truth=truth, observations=observations)


@dataclass(frozen=True, eq=False)
class _Draws:
    """Where the history's randomness and its scenario come from."""

    rng: np.random.Generator
    seed: int
    scenario: Scenario
    truth: Truth
    rate: FloatArray
    budget: FloatArray


def _campaign_names(rng: np.random.Generator, keyword: int, keywordless: int) -> list[str]:
    """Unique, realistic names; keyword campaigns include a non-ASCII one whenever there are two."""
    candidates = [f"Brand - {m}" for m in _MARKETS]
    candidates += [f"{k} - {t} - {m}" for k in _KINDS for t in _THEMES for m in _MARKETS]
    chosen = _unique_draw(rng, candidates, keyword)
    if keyword >= 2 and all(name.isascii() for name in chosen):
        taken = set(chosen)
        accented = [c for c in candidates if not c.isascii() and c not in taken]
        chosen[-1] = accented[int(rng.integers(len(accented)))]
    others = [f"{k} - {t} - {m}" for k in _KEYWORDLESS_KINDS for t in _THEMES for m in _MARKETS]
    return chosen + _unique_draw(rng, others, keywordless)


def _unique_draw(rng: np.random.Generator, candidates: list[str], count: int) -> list[str]:
    """`count` distinct names in random order, numbering repeats once the candidates run out."""
    order = rng.permutation(len(candidates))
    return [
        candidates[order[i % len(candidates)]]
        + ("" if i < len(candidates) else f" #{i // len(candidates) + 1}")
        for i in range(count)
    ]


def _keyword_keys(
    rng: np.random.Generator, campaigns: list[str], per_campaign: int
) -> list[EntityKey]:
    """Ad groups of 5-25 keywords, one product each, distinct (keyword, match type) within one."""
    low, high = _AD_GROUP_SIZE
    pool = len(_MODIFIERS) * len(MATCH_TYPES)
    products = {p.title(): p for p in _PRODUCTS}
    keys: list[EntityKey] = []
    for campaign in campaigns:
        sizes = rng.integers(low, high + 1, size=per_campaign // low + 1)
        sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), per_campaign)) + 1]
        sizes[-1] -= int(sizes.sum()) - per_campaign
        ad_groups = _unique_draw(rng, list(products), len(sizes))
        for ad_group, size in zip(ad_groups, sizes, strict=True):
            product = products[ad_group.split(" #")[0]]
            for pick in rng.choice(pool, size=int(size), replace=False):
                modifier, match_type = divmod(int(pick), len(MATCH_TYPES))
                text = f"{product} {_MODIFIERS[modifier]}".strip()
                keys.append(EntityKey(campaign, ad_group, text, MATCH_TYPES[match_type]))
    return keys


def _campaign_effects(rng: np.random.Generator, swing: float = 1.0) -> CampaignEffects:
    """Mild weekday noise plus a weekend dip or lift, normalised to average 1; `swing` > 1
    strengthens the week in log space (B2B accounts that sleep at weekends, retail that peaks)."""
    raw = np.exp(rng.normal(0.0, 0.06, size=7))
    raw[5:] += rng.uniform(-0.25, 0.15)
    dow = raw / raw.mean()
    if swing != 1.0:
        dow = np.exp(swing * np.log(np.maximum(dow, 1e-3)))
        dow = dow / dow.mean()
    return CampaignEffects(
        dow=tuple(float(f) for f in dow), trend_per_year=float(rng.uniform(-0.2, 0.2))
    )


def _entity_params(
    rng: np.random.Generator, keys: list[EntityKey], effects: dict[str, CampaignEffects]
) -> tuple[CurveParams, _Behaviour]:
    """Curves that saturate near each entity's base spend, so the budget steps reveal the bend."""
    n = len(keys)
    keywordless = np.array([key.is_campaign_level for key in keys])
    base = np.where(
        keywordless,
        rng.lognormal(np.log(150.0), 0.5, size=n),
        rng.lognormal(np.log(15.0), 0.9, size=n),
    ).clip(1.0, 2_000.0)
    k = base * rng.lognormal(0.2, 0.5, size=n)
    shape = rng.uniform(MIN_SHAPE, MAX_SHAPE, size=n)
    cpa_at_base = rng.lognormal(np.log(20.0), 0.5, size=n)
    vmax = _vmax(base, k, shape, cpa_at_base)
    order_value = rng.lognormal(np.log(60.0), 0.6, size=n)
    cpc = np.minimum(rng.lognormal(np.log(0.9), 0.5, size=n), 0.3 * cpa_at_base)
    ctr = rng.lognormal(np.log(0.04), 0.5, size=n).clip(0.005, 0.5)
    dispersion = rng.uniform(2.0, 20.0, size=n)
    campaign_effects = [effects[key.campaign] for key in keys]
    params = CurveParams(
        keys=tuple(keys),
        vmax=vmax,
        k=k,
        shape=shape,
        order_value=order_value,
        dow=np.array([e.dow for e in campaign_effects], dtype=np.float64).reshape(n, 7),
        trend_per_year=np.array([e.trend_per_year for e in campaign_effects], dtype=np.float64),
    )
    return params, _Behaviour(
        base_spend=base, cpc=cpc, ctr=ctr, dispersion=dispersion, cpa_at_base=cpa_at_base
    )


def _vmax(base: FloatArray, k: FloatArray, shape: FloatArray, cpa: FloatArray) -> FloatArray:
    """The Hill curve's ceiling that makes its cost per conversion at `base` spend `cpa`."""
    ratio = (base / k) ** shape
    return np.asarray(base / cpa * (1.0 + ratio) / ratio, dtype=np.float64)


def _campaign_shapes(
    rng: np.random.Generator, params: CurveParams, behaviour: _Behaviour, share: float
) -> CurveParams:
    """Keywords whose shape and saturation point (k over the typical spend, on a log scale) are
    `share` their campaign's and the rest their own (a campaign's drawn as a keyword's own are);
    keyword-less campaigns and the cost per conversion at the typical spend are left as they
    were."""
    if share == 0:
        return params
    campaigns, index = np.unique([key.campaign for key in params.keys], return_inverse=True)
    campaign_shape = rng.uniform(MIN_SHAPE, MAX_SHAPE, size=len(campaigns))[index]
    campaign_log_k = rng.normal(0.2, 0.5, size=len(campaigns))[index]
    keyword = np.array([not key.is_campaign_level for key in params.keys])
    base = behaviour.base_spend
    shape = (1 - share) * params.shape + share * campaign_shape
    k = base * np.exp((1 - share) * np.log(params.k / base) + share * campaign_log_k)
    vmax = _vmax(base, k, shape, behaviour.cpa_at_base)
    return dataclasses.replace(
        params,
        vmax=np.where(keyword, vmax, params.vmax),
        k=np.where(keyword, k, params.k),
        shape=np.where(keyword, shape, params.shape),
    )


def _s_shapes(
    rng: np.random.Generator, params: CurveParams, behaviour: _Behaviour, share: float
) -> CurveParams:
    """S-shaped curves (shape 1.5-3, inflection near the typical spend) for `share` of the
    keywords, with the same cost per conversion at their typical spend as before."""
    keyword = np.array([not key.is_campaign_level for key in params.keys])
    chosen = keyword & (rng.uniform(size=len(params)) < share)
    if not chosen.any():
        return params
    base = behaviour.base_spend
    shape = np.where(chosen, rng.uniform(1.5, 3.0, size=len(params)), params.shape)
    k = np.where(chosen, base * rng.lognormal(0.0, 0.25, size=len(params)), params.k)
    vmax = np.where(chosen, _vmax(base, k, shape, behaviour.cpa_at_base), params.vmax)
    return dataclasses.replace(params, vmax=vmax, k=k, shape=shape)


def _conversion_rates(rng: np.random.Generator, n: int) -> FloatArray:
    """Conversions per click, about 4% (auction-shaped accounts)."""
    return np.asarray(rng.lognormal(np.log(0.04), 0.4, size=n).clip(0.005, 0.3))


def _daily_budgets(
    rng: np.random.Generator,
    keys: list[EntityKey],
    limited: list[str],
    behaviour: _Behaviour,
) -> FloatArray:
    """A daily budget below each entity's typical spend in the budget-limited campaigns."""
    budget = np.round(behaviour.base_spend * rng.uniform(0.6, 0.9, size=len(keys)), 2)
    chosen = np.array([key.campaign in set(limited) for key in keys])
    return np.asarray(np.where(chosen, np.maximum(budget, 0.5), 0.0))


def _spend(
    rng: np.random.Generator,
    base: FloatArray,
    days: int,
    decimals: int,
    level_range: tuple[float, float] = _LEVEL_RANGE,
) -> FloatArray:
    """Step-wise budget levels with staggered change days, plus lognormal auction noise."""
    n = base.shape[0]
    segments = days // _MIN_SEGMENT_DAYS + 2
    lengths = rng.integers(_MIN_SEGMENT_DAYS, _MAX_SEGMENT_DAYS + 1, size=(n, segments))
    lengths[:, 0] = rng.integers(1, _MAX_SEGMENT_DAYS + 1, size=n)
    starts = np.cumsum(lengths, axis=1)
    rows = np.broadcast_to(np.arange(n)[:, None], starts.shape)
    inside = starts < days
    changes = np.zeros((n, days), dtype=np.int32)
    changes[rows[inside], starts[inside]] = 1
    segment = np.cumsum(changes, axis=1)
    levels = rng.uniform(*level_range, size=(n, segments + 1))
    level = np.take_along_axis(levels, segment, axis=1)
    noise = rng.lognormal(0.0, _AUCTION_NOISE, size=(n, days))
    spend: FloatArray = np.round(base[:, None] * level * noise, decimals)
    return spend


def _history(
    draws: _Draws,
    params: CurveParams,
    behaviour: _Behaviour,
    first_day: dt.date,
    days: int,
    decimals: int,
) -> tuple[pd.DataFrame, _Observations | None]:
    rng, plan = draws.rng, draws.scenario
    dates = pd.date_range(first_day, periods=days, freq="D")
    weekday = dates.day_of_week.to_numpy()[None, :]
    day_index = np.arange(days)[None, :]

    spend = _spend(rng, behaviour.base_spend, days, decimals, plan.spend_levels)
    lost_is = None
    if draws.budget.any() or plan.impression_share:
        spend, lost_is = _pin_to_budget(
            effect_rng(draws.seed, "budget_pin"),
            spend,
            behaviour.base_spend,
            draws.budget,
            decimals,
            plan.budget_pinned_share,
        )
        lost_is = lost_is if plan.impression_share else None
    mean = expected_conversions(params, spend, weekday=weekday, day_index=day_index)
    events = np.array([draws.truth.event_factor(d.date()) for d in dates])[None, :]
    shape = behaviour.dispersion[:, None]
    if plan.auction:
        clicks, conversions = _auction_draws(rng, mean, events, draws.rate, shape)
    else:
        conversions = rng.poisson(rng.gamma(shape, mean * events / shape)).astype(np.float64)
        relative = spend / behaviour.base_spend[:, None]
        with np.errstate(divide="ignore"):
            cpc = behaviour.cpc[:, None] * np.power(relative, _CPC_ELASTICITY)
        expected_clicks = np.where(spend > 0, spend / cpc, 0.0)
        clicks = np.maximum(rng.poisson(expected_clicks), conversions.astype(np.int64))
        clicks = np.where(spend > 0, np.maximum(clicks, 1), clicks)
    impressions = np.maximum(rng.poisson(clicks / behaviour.ctr[:, None]), clicks)

    spread = 0.25 / np.sqrt(np.maximum(conversions, 1.0))
    value_noise = np.exp(rng.normal(-0.5 * spread**2, spread))
    if plan.lag is None:
        value = np.round(conversions * params.order_value[:, None] * value_noise, decimals)
        frame = _frame(params.keys, dates, spend, clicks, impressions, conversions, value, lost_is)
        return aggregate_grain(frame, plan.grain, list(NAME_COLUMNS)), None
    observations = _Observations(
        keys=params.keys,
        dates=dates,
        spend=spend,
        clicks=clicks.astype(np.int64),
        impressions=impressions.astype(np.int64),
        buckets=split_by_lag(effect_rng(draws.seed, "lag"), conversions.astype(np.int64), plan.lag),
        order_value=params.order_value,
        value_noise=value_noise,
        lost_is=lost_is,
        decimals=decimals,
        grain=plan.grain,
    )
    return observations.frame(days - 1), observations


def _pin_to_budget(
    rng: np.random.Generator,
    spend: FloatArray,
    base: FloatArray,
    budget: FloatArray,
    decimals: int,
    share: float,
) -> tuple[FloatArray, FloatArray]:
    """Spend of budget-limited entities pinned at their daily budget over the last `share` of the
    history (at least 28 days), where they would have spent 1.3-2.2x their typical spend; and the
    share of impressions lost to the budget, about 1 - budget / wanted spend (0 elsewhere)."""
    n, days = spend.shape
    pinned = np.zeros(days, dtype=bool)
    pinned[max(0, days - max(28, round(days * share))) :] = True
    limited = budget > 0
    wanted = base * rng.uniform(1.3, 2.2, size=n)
    jitter = rng.lognormal(0.0, 0.01, size=(n, days))
    mask = limited[:, None] & pinned[None, :]
    out = np.where(mask, np.round(budget[:, None] * jitter, decimals), spend)
    lost = np.clip(1.0 - budget / np.maximum(wanted, 1e-9), 0.0, 0.95)[:, None]
    noise = rng.normal(0.0, 0.02, size=(n, days))
    lost_is = np.where(mask, np.clip(lost + noise, 0.0, 0.95), 0.0)
    return np.asarray(out, dtype=np.float64), np.round(np.asarray(lost_is), 4)


def _auction_draws(
    rng: np.random.Generator,
    mean: FloatArray,
    events: FloatArray,
    rate: FloatArray,
    dispersion: FloatArray,
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Clicks along the curve over the conversion rate (mildly over-dispersed), each converting at
    the rate times that day's noise and event factor: the expected conversions are the curve's."""
    clicks_mean = mean / rate[:, None]
    clicks = rng.poisson(rng.gamma(_CLICK_DISPERSION, clicks_mean / _CLICK_DISPERSION))
    daily_rate = rate[:, None] * events * rng.gamma(dispersion, 1.0 / dispersion, size=mean.shape)
    conversions = rng.binomial(clicks, np.clip(daily_rate, 0.0, 1.0)).astype(np.float64)
    return np.asarray(clicks, dtype=np.int64), conversions


def _frame(
    keys: tuple[EntityKey, ...],
    dates: pd.DatetimeIndex,
    spend: FloatArray,
    clicks: npt.NDArray[np.int64],
    impressions: npt.NDArray[np.int64],
    conversions: FloatArray,
    value: FloatArray,
    lost_is: FloatArray | None,
) -> pd.DataFrame:
    n, days = spend.shape
    names = {
        column: pd.Series(np.array([getattr(key, column) for key in keys], dtype=object))
        .astype(str)
        .take(np.tile(np.arange(n), days))
        .reset_index(drop=True)
        for column in NAME_COLUMNS
    }
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates.to_numpy().astype("datetime64[ns]"), n),
            **names,
            "spend": spend.T.ravel(),
            "clicks": clicks.T.ravel().astype(np.int64),
            "impressions": impressions.T.ravel().astype(np.int64),
            "conversions": conversions.T.ravel(),
            "conversion_value": value.T.ravel(),
        }
    )
    frame = frame.loc[:, list(CANONICAL_COLUMNS)]
    if lost_is is not None:
        frame[LOST_IS_BUDGET_COLUMN] = lost_is.T.ravel()
    return frame
