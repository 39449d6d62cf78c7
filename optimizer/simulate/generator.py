"""A synthetic account history from known curves, so fitted models and allocations can be scored.

Spend follows budget levels that step every 14-35 days between 0.4x and 1.6x of each entity's base
level (staggered across entities), so every curve is observed over a wide range; daily auction noise
is a few percent. Conversions are gamma-Poisson (over-dispersed) around the true curve times its
campaign's weekday and trend factors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.money import currency_places, validate_currency
from optimizer.schema import CANONICAL_COLUMNS, NAME_COLUMNS, EntityKey
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
class Simulation:
    """A simulated history in the model shape (`CANONICAL_COLUMNS`) and the truth behind it."""

    history: pd.DataFrame
    truth: Truth


@dataclass(frozen=True, eq=False)
class _Behaviour:
    """Per-entity parameters that shape the observed rows but are not part of the truth."""

    base_spend: FloatArray
    cpc: FloatArray
    ctr: FloatArray
    dispersion: FloatArray


def simulate(
    *,
    campaigns: int,
    keywords_per_campaign: int,
    days: int,
    seed: int,
    start: dt.date | None = None,
    campaign_level_campaigns: int | None = None,
    currency: str = "EUR",
) -> Simulation:
    """Draw `campaigns` keyword campaigns plus keyword-less ones (default `max(1, campaigns // 5)`).

    The same arguments always give the same history and truth.
    """
    currency = validate_currency(currency)
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
    first_day = DEFAULT_START if start is None else start
    rng = np.random.default_rng(seed)

    names = _campaign_names(rng, campaigns, keywordless)
    keys = _keyword_keys(rng, names[:campaigns], keywords_per_campaign)
    keys += [EntityKey(name) for name in names[campaigns:]]
    effects = {name: _campaign_effects(rng) for name in names}
    params, behaviour = _entity_params(rng, keys, effects)
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
            )
            for i, key in enumerate(keys)
        },
    )
    history = _history(rng, params, behaviour, first_day, days, currency_places(currency))
    return Simulation(history=history, truth=truth)


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


def _campaign_effects(rng: np.random.Generator) -> CampaignEffects:
    """Mild weekday noise plus a weekend dip or lift, normalised to average 1."""
    raw = np.exp(rng.normal(0.0, 0.06, size=7))
    raw[5:] += rng.uniform(-0.25, 0.15)
    dow = raw / raw.mean()
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
    ratio = (base / k) ** shape
    vmax = base / cpa_at_base * (1.0 + ratio) / ratio
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
    return params, _Behaviour(base_spend=base, cpc=cpc, ctr=ctr, dispersion=dispersion)


def _spend(rng: np.random.Generator, base: FloatArray, days: int, decimals: int) -> FloatArray:
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
    levels = rng.uniform(*_LEVEL_RANGE, size=(n, segments + 1))
    level = np.take_along_axis(levels, segment, axis=1)
    noise = rng.lognormal(0.0, _AUCTION_NOISE, size=(n, days))
    spend: FloatArray = np.round(base[:, None] * level * noise, decimals)
    return spend


def _history(
    rng: np.random.Generator,
    params: CurveParams,
    behaviour: _Behaviour,
    first_day: dt.date,
    days: int,
    decimals: int,
) -> pd.DataFrame:
    n = len(params)
    dates = pd.date_range(first_day, periods=days, freq="D")
    weekday = dates.day_of_week.to_numpy()[None, :]
    day_index = np.arange(days)[None, :]

    spend = _spend(rng, behaviour.base_spend, days, decimals)
    mean = expected_conversions(params, spend, weekday=weekday, day_index=day_index)
    shape = behaviour.dispersion[:, None]
    conversions = rng.poisson(rng.gamma(shape, mean / shape)).astype(np.float64)

    relative = spend / behaviour.base_spend[:, None]
    with np.errstate(divide="ignore"):
        cpc = behaviour.cpc[:, None] * np.power(relative, _CPC_ELASTICITY)
    expected_clicks = np.where(spend > 0, spend / cpc, 0.0)
    clicks = np.maximum(rng.poisson(expected_clicks), conversions.astype(np.int64))
    clicks = np.where(spend > 0, np.maximum(clicks, 1), clicks)
    impressions = np.maximum(rng.poisson(clicks / behaviour.ctr[:, None]), clicks)

    spread = 0.25 / np.sqrt(np.maximum(conversions, 1.0))
    value_noise = np.exp(rng.normal(-0.5 * spread**2, spread))
    value = np.round(conversions * params.order_value[:, None] * value_noise, decimals)

    names = {
        column: pd.Series(np.array([getattr(key, column) for key in params.keys], dtype=object))
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
    return frame.loc[:, list(CANONICAL_COLUMNS)]
