"""Fit one campaign, its calendar and every entity in it: the unit of parallel work.

`fit_campaign` is a pure top-level function of picklable values, so joblib (or Dask) can map it over
campaigns. Within a campaign every step is vectorised over its entities and over the weight vectors
(full data, cross-validation folds, bootstrap replicates) at once:

1. weekday factors and trend, alternating with quick per-entity curves (`calendar`);
2. the campaign curve from its keywords' summed spend and conversions, the prior for thin keywords;
3. each family fitted to every entity with data of its own (thin keywords shrunk toward the
   campaign curve), scored on the held-out latest weeks; the best family is kept, except that thin
   keywords keep the campaign's;
   in a campaign with enough keywords, keyword elasticities are pooled instead (`shrinkage`) and
   the keywords share the family that forecasts their held-out weeks best in sum;
4. keywords with almost no data take the campaign curve scaled to their spend share (`pooling`);
5. bootstrap bands, trust region, value per conversion, diagnostics and grade.

Families are concave by construction, so an S-shaped response is approximated by its concave
envelope over the trust region; the solver never sees a convex stretch.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.families import FAMILIES, evaluate
from optimizer.models.bootstrap import band, percentile_replicates, week_weights
from optimizer.models.calendar import exposure, fit_calendar
from optimizer.models.curves import EntityCurve
from optimizer.models.diagnostics import EntityDiagnostics, grade
from optimizer.models.options import FitOptions
from optimizer.models.pooling import (
    FALLBACK,
    SHRUNK,
    classify,
    fallback_cap,
    range_cap,
    scaled_shape,
)
from optimizer.models.profile import (
    fixed_shape_scale,
    profile_fit,
    scale_for_shape,
    spend_scale,
    to_transformed,
)
from optimizer.models.selection import Folds, baseline_holdout, holdout_deviance, make_folds, skill
from optimizer.models.shrinkage import (
    POOLED_FAMILIES,
    elasticity,
    information_variance,
    shape_for_elasticity,
    shrink_elasticities,
)
from optimizer.schema import EntityKey

__all__ = ["CampaignTask", "fit_campaign"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Params = dict[str, FloatArray]

_CAP_POINTS = 256
_CALENDAR_FAMILY = "hill"


@dataclass(frozen=True, eq=False)
class CampaignTask:
    """One campaign's entities on a dense day axis starting at `start` (missing days are zeros).

    spend, conversions: (entities, days); value: total conversion value per entity. Every entity
    spent something in the window.
    """

    campaign: str
    start: dt.date
    keys: tuple[EntityKey, ...]
    spend: FloatArray
    conversions: FloatArray
    value: FloatArray
    account_value_per_conversion: float

    @property
    def days(self) -> int:
        return int(self.spend.shape[1])

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)


@dataclass(frozen=True, eq=False)
class _Axis:
    """The day axis and the weight vectors every fit of the campaign shares."""

    exposure: FloatArray
    folds: Folds
    weights: FloatArray
    bootstrap: int

    @property
    def cv_rows(self) -> slice:
        return slice(1, 1 + self.folds.count)

    @property
    def boot_rows(self) -> slice:
        return slice(1 + self.folds.count, 1 + self.folds.count + self.bootstrap)


@dataclass(frozen=True, eq=False)
class _Choice:
    """One entity's family, its parameters per weight vector (R,) and its holdout scores."""

    family: str
    params: Params
    holdout: float | None
    family_deviance: dict[str, float]


@dataclass(frozen=True, eq=False)
class _Campaign:
    """What every entity curve of a campaign is assembled from (arrays are per entity)."""

    task: CampaignTask
    options: FitOptions
    axis: _Axis
    dow: tuple[float, ...]
    tau: float
    keyword: BoolArray
    campaign_family: str
    campaign_params: dict[str, float]
    pooled: npt.NDArray[np.str_]
    stats: dict[str, FloatArray]
    baseline: FloatArray
    current: FloatArray
    campaign_vpc: float


def fit_campaign(task: CampaignTask, options: FitOptions) -> list[EntityCurve]:
    """Fit every entity of one campaign (deterministic for a given task, options and seed)."""
    n = task.days
    weekday = (task.start.weekday() + np.arange(n)) % 7
    offset_days = np.arange(n, dtype=np.float64) - (n - 1)
    dow, tau = _calendar(task, weekday, offset_days, options)
    folds = make_folds(n, options.cv_splits, options.cv_test_days, options.min_train_days)
    seed = [options.seed, zlib.crc32(task.campaign.encode("utf-8"))]
    boot = week_weights(n, options.bootstrap, options.block_days, np.random.default_rng(seed))
    axis = _Axis(
        exposure=exposure(dow, tau, weekday, offset_days),
        folds=folds,
        weights=np.vstack([np.ones((1, n)), folds.train.astype(np.float64), boot]),
        bootstrap=options.bootstrap,
    )

    x, y = task.spend, task.conversions
    valid = x > 0
    keyword = np.array([not key.is_campaign_level for key in task.keys])
    campaign_family: str = ""
    campaign_params: dict[str, float] = {}
    share = np.ones(len(task.keys))
    if keyword.any():
        agg_x, agg_y = x[keyword].sum(axis=0), y[keyword].sum(axis=0)
        campaign_family, campaign_params = _campaign_curve(agg_x, agg_y, axis, options)
        share = np.where(keyword, x.sum(axis=1) / max(float(agg_x.sum()), 1e-300), 1.0)

    stats = _spend_stats(x, valid)
    current = x[:, max(0, n - options.current_days) :].sum(axis=1) / options.current_days
    conversions = y.sum(axis=1)
    pooled = classify(conversions, stats["cv"], keyword, options)
    trust = (options.trust_low_multiple * stats["min"], options.trust_high_multiple * stats["max"])
    stats = {**stats, "trust_low": trust[0], "trust_high": trust[1], "conversions": conversions}

    choices: dict[int, _Choice] = {}
    own = np.flatnonzero(pooled != FALLBACK)
    if own.size:
        choices.update(
            _fit_own(
                task,
                own,
                pooled[own],
                axis,
                options,
                campaign_family,
                campaign_params,
                share[own],
                (trust[0][own], trust[1][own]),
                current[own],
                keyword[own],
            )
        )
    borrowed = np.flatnonzero(pooled == FALLBACK)
    if borrowed.size:
        choices.update(_fit_fallback(task, borrowed, axis, campaign_family, campaign_params, share))

    m = options.value_prior_conversions
    shared = _Campaign(
        task=task,
        options=options,
        axis=axis,
        dow=dow,
        tau=tau,
        keyword=keyword,
        campaign_family=campaign_family,
        campaign_params=campaign_params,
        pooled=pooled,
        stats=stats,
        baseline=(
            baseline_holdout(y, valid, folds) if folds.count else np.full(len(task.keys), np.nan)
        ),
        current=current,
        campaign_vpc=(float(task.value.sum()) + m * task.account_value_per_conversion)
        / (float(conversions.sum()) + m),
    )
    return [_entity_curve(shared, i, choices[i]) for i in range(len(task.keys))]


def _entity_curve(shared: _Campaign, i: int, choice: _Choice) -> EntityCurve:
    """Bands, skill, grade and value for entity i, assembled into its frozen EntityCurve."""
    task, options, stats = shared.task, shared.options, shared.stats
    spend = task.spend[i]
    days = int((spend > 0).sum())
    conversions = float(stats["conversions"][i])
    current = float(shared.current[i])
    point = {name: float(v[0]) for name, v in choice.params.items()}
    grid = np.linspace(stats["trust_low"][i], stats["trust_high"][i], options.band_points)
    reference = current if current > 0 else float(np.exp(np.mean(np.log(spend[spend > 0]))))
    low_params, high_params, band_low, band_high = _bands(
        choice.family, choice.params, shared.axis, grid, reference, options
    )
    baseline = None if np.isnan(shared.baseline[i]) else float(shared.baseline[i])
    score = None
    if choice.holdout is not None and baseline is not None:
        value = float(skill(np.array(choice.holdout), np.array(baseline)))
        score = None if np.isnan(value) else value
    pooled = str(shared.pooled[i])
    letter, reason = grade(
        conversions=conversions,
        days=days,
        spend_cv=float(stats["cv"][i]),
        skill=score,
        pooled=pooled,
        flat_spend=conversions >= options.fallback_conversions,
    )
    keyword = bool(shared.keyword[i])
    diagnostics = EntityDiagnostics(
        days=days,
        window_days=task.days,
        conversions=conversions,
        spend_min=float(stats["min"][i]),
        spend_max=float(stats["max"][i]),
        spend_cv=float(stats["cv"][i]),
        family=choice.family,
        params=point,
        holdout_deviance=choice.holdout,
        baseline_deviance=baseline,
        skill=score,
        pooled=pooled,
        grade=letter,
        reason=reason,
        family_deviance=choice.family_deviance,
        campaign_family=shared.campaign_family if keyword else "",
        campaign_params=dict(shared.campaign_params) if keyword else {},
    )
    m = options.value_prior_conversions
    return EntityCurve(
        key=task.keys[i],
        lookup_name=choice.family,
        params=point,
        low_params=low_params,
        high_params=high_params,
        dow=shared.dow,
        tau=shared.tau,
        reference_date=task.end,
        value_per_conversion=(float(task.value[i]) + m * shared.campaign_vpc) / (conversions + m),
        spend_min_obs=float(stats["min"][i]),
        spend_max_obs=float(stats["max"][i]),
        trust_low=float(stats["trust_low"][i]),
        trust_high=float(stats["trust_high"][i]),
        current_spend=current,
        band_spend=tuple(float(v) for v in grid),
        band_low=tuple(float(v) for v in band_low),
        band_high=tuple(float(v) for v in band_high),
        diagnostics=diagnostics,
    )


def _calendar(
    task: CampaignTask, weekday: npt.NDArray[np.int64], offset_days: FloatArray, options: FitOptions
) -> tuple[tuple[float, ...], float]:
    """Alternate: every entity's curve given the calendar, the calendar given the curves.

    The calendar multiplies all entities of a campaign alike, so given the entities' curves f_k the
    campaign's daily conversions have mean calendar_t * sum_k f_k(spend_kt): the summed curves are
    the exact offset, where one curve of the summed spend would be misspecified and leak into the
    trend.
    """
    x, y = task.spend, task.conversions
    n = task.days
    dow: tuple[float, ...] = (1.0,) * 7
    tau = 0.0
    expo = np.ones(n)
    for _ in range(options.calendar_rounds):
        fit = profile_fit(_CALENDAR_FAMILY, x, y, expo, np.ones((1, n)))
        curves = evaluate(_CALENDAR_FAMILY, {p: v[:, :1] for p, v in fit.params.items()}, x)
        offset = curves.sum(axis=0)
        ok = offset > 0
        dow, tau = fit_calendar(
            y.sum(axis=0),
            np.log(np.where(ok, offset, 1.0)),
            ok,
            weekday,
            offset_days,
            dow_ridge=options.dow_ridge,
            trend_prior_sd_per_year=options.trend_prior_sd_per_year,
        )
        expo = exposure(dow, tau, weekday, offset_days)
    return dow, tau


def _spend_stats(x: FloatArray, valid: BoolArray) -> dict[str, FloatArray]:
    count = valid.sum(axis=1)
    safe = np.maximum(count, 1)
    mean = np.where(valid, x, 0.0).sum(axis=1) / safe
    var = np.where(valid, (x - mean[:, None]) ** 2, 0.0).sum(axis=1) / safe
    return {
        "min": np.where(valid, x, np.inf).min(axis=1),
        "max": np.where(valid, x, 0.0).max(axis=1),
        "cv": np.where(mean > 0, np.sqrt(var) / np.where(mean > 0, mean, 1.0), 0.0),
    }


def _predict(
    family: str, params: Params, rows: slice, x: FloatArray, expo: FloatArray
) -> FloatArray:
    """(K, rows, N) expected conversions of each entity under the parameters of `rows`."""
    picked = {name: v[:, rows, None] for name, v in params.items()}
    return np.asarray(expo * evaluate(family, picked, x[:, None, :]), dtype=np.float64)


def _campaign_curve(
    agg_x: FloatArray, agg_y: FloatArray, axis: _Axis, options: FitOptions
) -> tuple[str, dict[str, float]]:
    """The keywords' summed curve: the family that forecasts the held-out weeks best."""
    cv_only = axis.weights[: 1 + axis.folds.count]
    candidates = []
    for family in options.families:
        fit = profile_fit(family, agg_x[None, :], agg_y[None, :], axis.exposure[None, :], cv_only)
        score = _selection_score(
            family, fit.params, fit.objective, agg_x[None, :], agg_y[None, :], axis
        )
        point = {name: float(v[0, 0]) for name, v in fit.params.items()}
        candidates.append((float(score[0]), family, point))
    _, family, point = min(candidates, key=lambda c: c[0])
    return family, point


def _selection_score(
    family: str, params: Params, objective: FloatArray, x: FloatArray, y: FloatArray, axis: _Axis
) -> FloatArray:
    """Holdout deviance when there are folds, else in-sample deviance plus 2 per parameter."""
    if axis.folds.count:
        mu = _predict(family, params, axis.cv_rows, x, axis.exposure)
        return holdout_deviance(y, mu, x > 0, axis.folds)
    return 2.0 * objective[:, 0] + 2.0 * len(FAMILIES[family].param_names)


def _fit_own(
    task: CampaignTask,
    idx: npt.NDArray[np.intp],
    pooled: npt.NDArray[np.str_],
    axis: _Axis,
    options: FitOptions,
    campaign_family: str,
    campaign_params: Mapping[str, float],
    share: FloatArray,
    trust: tuple[FloatArray, FloatArray],
    current: FloatArray,
    keywords: BoolArray,
) -> dict[int, _Choice]:
    """Fit every family to entities with data of their own.

    In a campaign with enough keywords their elasticities are pooled and they share one family;
    otherwise thin keywords are shrunk toward the campaign curve. Either way a thin keyword is
    capped below its campaign curve over its trust region.
    """
    x, y = task.spend[idx], task.conversions[idx]
    scale = spend_scale(x)
    shrunk = pooled == SHRUNK
    families = [f for f in options.families if f in POOLED_FAMILIES]
    pool = bool(families) and 0 < options.pool_min_keywords <= int(keywords.sum())
    cap_grid = np.geomspace(trust[0], trust[1], _CAP_POINTS, axis=-1)
    tried = [f for f in options.families if not pool or f in families or not keywords.all()]
    fits: dict[str, Params] = {}
    scores: dict[str, FloatArray] = {}
    for family in tried:
        center = strength = None
        if family == campaign_family and shrunk.any() and not pool:
            prior = scaled_shape(family, campaign_params, share)
            center = np.stack(to_transformed(family, prior, scale), axis=-1)
            strength = np.where(shrunk, options.prior_strength, 0.0)
        fit = profile_fit(
            family,
            x,
            y,
            axis.exposure,
            axis.weights,
            scale=scale,
            prior_center=center,
            prior_strength=strength,
        )
        params = dict(fit.params)
        if pool and family in families:
            params = _pooled_elasticity(family, params, x, y, axis, scale, keywords, current)
        if shrunk.any() and (family == campaign_family or (pool and family in families)):
            shape = {name: v for name, v in params.items() if name != "a"}
            cap = range_cap(family, campaign_params, shape, cap_grid, campaign_family)
            params["a"] = np.where(shrunk[:, None], np.minimum(params["a"], cap), params["a"])
        fits[family] = params
        scores[family] = _selection_score(family, params, fit.objective, x, y, axis)
    table = np.stack([scores[f] for f in tried], axis=1)
    choice = np.array([tried[c] for c in np.argmin(table, axis=1)])
    if pool:
        summed = {f: float(scores[f][keywords].sum()) for f in families}
        choice = np.where(keywords, min(families, key=summed.__getitem__), choice)
    else:
        choice = np.where(shrunk, campaign_family, choice)
    out: dict[int, _Choice] = {}
    for j, i in enumerate(idx):
        family = str(choice[j])
        params = {name: v[j] for name, v in fits[family].items()}
        holdout = float(scores[family][j]) if axis.folds.count else None
        family_dev = {f: float(scores[f][j]) for f in tried} if axis.folds.count else {}
        out[int(i)] = _Choice(family, params, holdout, family_dev)
    return out


def _pooled_elasticity(
    family: str,
    params: Params,
    x: FloatArray,
    y: FloatArray,
    axis: _Axis,
    scale: FloatArray,
    keywords: BoolArray,
    current: FloatArray,
) -> Params:
    """Keyword shapes moved to their pooled elasticity at current spend (every weight vector), and
    the scale `a` refitted for the moved shape."""
    (t0,) = to_transformed(family, {n: v for n, v in params.items() if n != "a"}, scale[:, None])
    reference = np.where(current > 0, current, scale)
    lx = np.log(reference / scale)[:, None]
    own = elasticity(family, t0, lx)
    boot = own[:, axis.boot_rows]
    variance = np.var(boot, axis=1, ddof=1) if boot.shape[1] > 1 else np.zeros(len(own))
    variance = np.maximum(variance, information_variance(x, y))
    moved = shrink_elasticities(own, variance, keywords, axis.boot_rows)
    shape = np.where(keywords[:, None], shape_for_elasticity(family, moved.values, lx), t0)
    return scale_for_shape(family, (shape,), x, y, axis.exposure, axis.weights, scale)


def _fit_fallback(
    task: CampaignTask,
    idx: npt.NDArray[np.intp],
    axis: _Axis,
    campaign_family: str,
    campaign_params: Mapping[str, float],
    share: FloatArray,
) -> dict[int, _Choice]:
    """The campaign curve, k scaled by spend share; own Poisson MLE of a, capped below it."""
    x, y = task.spend[idx], task.conversions[idx]
    shape = scaled_shape(campaign_family, campaign_params, share[idx])
    a = fixed_shape_scale(campaign_family, shape, x, y, axis.exposure, axis.weights)
    a = np.minimum(a, fallback_cap(campaign_family, campaign_params, share[idx])[:, None])
    params: Params = {"a": a, **{n: np.broadcast_to(v[:, None], a.shape) for n, v in shape.items()}}
    holdout = None
    if axis.folds.count:
        mu = _predict(campaign_family, params, axis.cv_rows, x, axis.exposure)
        holdout = holdout_deviance(y, mu, x > 0, axis.folds)
    return {
        int(i): _Choice(
            campaign_family,
            {name: np.asarray(v[j]) for name, v in params.items()},
            None if holdout is None else float(holdout[j]),
            {},
        )
        for j, i in enumerate(idx)
    }


def _bands(
    family: str,
    params: Params,
    axis: _Axis,
    grid: FloatArray,
    reference: float,
    options: FitOptions,
) -> tuple[dict[str, float], dict[str, float], FloatArray, FloatArray]:
    """Band curves (replicates ranked at the band quantiles at `reference`) and band on `grid`."""
    reps = {name: np.asarray(v[axis.boot_rows], dtype=np.float64) for name, v in params.items()}
    point = {name: float(v[0]) for name, v in params.items()}
    if axis.bootstrap == 0:
        values = evaluate(family, point, grid)
        return point, dict(point), values, values
    curves = evaluate(family, {n: v[:, None] for n, v in reps.items()}, grid[None, :])
    low_band, high_band = band(curves[None, :, :], options.band_quantiles)
    at_ref = evaluate(family, reps, np.full(axis.bootstrap, reference))
    low, high = percentile_replicates(at_ref[None, :], options.band_quantiles)
    low_params = {name: float(v[low[0]]) for name, v in reps.items()}
    high_params = {name: float(v[high[0]]) for name, v in reps.items()}
    return low_params, high_params, low_band[0], high_band[0]
