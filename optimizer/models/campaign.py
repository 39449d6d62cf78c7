"""Fit one campaign, its calendar and every entity in it: the unit of parallel work.

`fit_campaign` is a pure top-level function of picklable values, so joblib (or Dask) can map it over
campaigns. Within a campaign every step is vectorised over its entities and over the weight vectors
(full data, cross-validation folds, bootstrap replicates) at once:

1. weekday factors, trend and promotion factors, alternating with quick per-entity curves
   (`calendar`); each column's exposure counts its days and the share of its conversions already
   reported (conversion lag), and excluded columns (outages) count nothing;
2. the campaign curve from its keywords' summed spend and conversions, the prior for thin keywords;
3. each family fitted to every entity with data of its own (thin keywords shrunk toward the
   campaign curve), scored on the held-out latest weeks; the best family is kept, except that thin
   keywords keep the campaign's;
   in a campaign with enough keywords, keyword elasticities are pooled instead (`shrinkage`) and
   the keywords share the family that forecasts their held-out weeks best in sum;
   with clicks in the history, each family is also fitted as a click funnel (the shape from
   spend -> clicks, a conversion rate per keyword pooled to the campaign), and kept where it
   forecasts the held-out weeks better than the direct curve;
4. keywords with almost no data take the campaign curve scaled to their spend share (`pooling`);
5. entities with data of their own are tested for increasing returns and get an S-shaped curve
   where the test and the held-out weeks agree (`_s_shaped`);
6. bootstrap bands, trust region (a small step around the current spend for a budget-limited
   entity, `budget`), value per conversion, diagnostics and grade.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2

from optimizer.families import FAMILIES, evaluate
from optimizer.models.bootstrap import band, percentile_replicates, week_weights
from optimizer.models.budget import BudgetLimit, budget_limited
from optimizer.models.calendar import CalendarFit, exposure, fit_calendar_terms
from optimizer.models.context import DayAxis
from optimizer.models.curves import EntityCurve
from optimizer.models.diagnostics import EntityDiagnostics, grade
from optimizer.models.funnel import conversion_rate_elasticity
from optimizer.models.likelihood import MU_FLOOR, poisson_deviance
from optimizer.models.options import FitOptions
from optimizer.models.pooling import (
    FALLBACK,
    NONE,
    SHRUNK,
    classify,
    fallback_cap,
    range_cap,
    scaled_shape,
)
from optimizer.models.profile import (
    basis_sums,
    fixed_shape_scale,
    profile_fit,
    scale_for_shape,
    spend_scale,
    to_natural,
    to_transformed,
)
from optimizer.models.selection import (
    Folds,
    baseline_holdout,
    holdout_days,
    holdout_deviance,
    make_folds,
    significantly_better,
    skill,
)
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
_S_FAMILY = "s_hill"
_S_MARGIN = 1.0
_S_SCREEN = 0.9
_WEEK = 7.0
DIRECT = "direct"
FUNNEL = "funnel"


@dataclass(frozen=True, eq=False)
class CampaignTask:
    """One campaign's entities on a dense day axis starting at `start` (missing days are zeros).

    spend, conversions: (entities, columns); value: total conversion value per entity. Every entity
    spent something in the window. clicks: (entities, columns) when the history has them (for the
    click funnel); lost_is: the lost impression share (NaN: unknown), when the history has it.
    axis: the columns' grain, reported share, exclusions and promotions (None: plain days).
    """

    campaign: str
    start: dt.date
    keys: tuple[EntityKey, ...]
    spend: FloatArray
    conversions: FloatArray
    value: FloatArray
    account_value_per_conversion: float
    clicks: FloatArray | None = None
    lost_is: FloatArray | None = None
    axis: DayAxis | None = None

    @property
    def days(self) -> int:
        """Columns of the axis: days, or weeks or months for a history on that grain."""
        return int(self.spend.shape[1])

    @property
    def end(self) -> dt.date:
        """The last day the history covers."""
        span = self.days if self.axis is None else self.axis.span_days
        return self.start + dt.timedelta(days=span - 1)

    @property
    def day_axis(self) -> DayAxis:
        return DayAxis.daily(self.days) if self.axis is None else self.axis


@dataclass(frozen=True, eq=False)
class _Axis:
    """The day axis and the weight vectors every fit of the campaign shares.

    `usable`: the columns not excluded; `base`: their exposure before the calendar (days times
    the reported share). With clicks, `clicks_exposure` is the clicks' own calendar exposure.
    `last_round`: the exposure of the calendar's last round of concave Hill fits (of the clicks
    when the funnel is tried, else of the conversions), their full-data objective and their shape
    s per entity, which the S-shape test starts from.
    """

    exposure: FloatArray
    folds: Folds
    weights: FloatArray
    bootstrap: int
    usable: BoolArray
    base: FloatArray
    clicks: FloatArray | None = None
    clicks_exposure: FloatArray | None = None
    last_round: tuple[FloatArray, FloatArray, FloatArray] | None = None

    @property
    def cv_rows(self) -> slice:
        return slice(1, 1 + self.folds.count)

    @property
    def boot_rows(self) -> slice:
        return slice(1 + self.folds.count, 1 + self.folds.count + self.bootstrap)


@dataclass(frozen=True, eq=False)
class _Choice:
    """One entity's family, its parameters per weight vector (R,), its holdout scores, and how it
    came about (direct or funnel, the click curve and rate, the S-shape test)."""

    family: str
    params: Params
    holdout: float | None
    family_deviance: dict[str, float]
    mode: str = DIRECT
    clicks_params: dict[str, float] = field(default_factory=dict)
    conversion_rate: float | None = None
    direct_deviance: float | None = None
    funnel_deviance: float | None = None
    s_statistic: float | None = None


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
    budget: list[BudgetLimit]
    period: str
    rate_elasticity: float | None


def fit_campaign(task: CampaignTask, options: FitOptions) -> list[EntityCurve]:
    """Fit every entity of one campaign (deterministic for a given task, options and seed)."""
    days = task.day_axis
    n = task.days
    weekday = (task.start.weekday() + days.offsets) % 7
    offset_days = days.offsets + (days.lengths - 1.0) / 2.0 - (days.span_days - 1)
    usable = ~days.excluded
    base = days.lengths * days.reported * usable
    calendar, last_round = _calendar(
        task.spend, task.conversions, base, weekday, offset_days, days, options
    )
    period = float(np.mean(days.lengths))
    folds = make_folds(n, *_fold_sizes(options, period))
    seed = [options.seed, zlib.crc32(task.campaign.encode("utf-8"))]
    block = (
        options.block_days if days.grain == "day" else max(1, round(options.block_days / period))
    )
    boot = week_weights(n, options.bootstrap, block, np.random.default_rng(seed))
    conversion_exposure = _exposure(calendar, weekday, offset_days, days) * base
    clicks, clicks_exposure, rate_elasticity = None, None, None
    if options.funnel and task.clicks is not None and folds.count and task.clicks.sum() > 0:
        clicks_base = days.lengths * usable
        calendar_factor = _exposure(calendar, weekday, offset_days, days)
        rate_elasticity, spread = conversion_rate_elasticity(
            task.spend, task.clicks, task.conversions, calendar_factor * clicks_base,
            conversion_exposure,
        )  # fmt: skip
        tolerance = options.rate_elasticity_tolerance
        if spread <= tolerance and abs(rate_elasticity) - 2.0 * spread <= tolerance:
            clicks = task.clicks
            clicks_calendar, last_round = _calendar(
                task.spend, clicks, clicks_base, weekday, offset_days, days, options, calendar
            )
            clicks_exposure = _exposure(clicks_calendar, weekday, offset_days, days) * clicks_base
    axis = _Axis(
        exposure=conversion_exposure,
        folds=folds,
        weights=np.vstack([np.ones((1, n)), folds.train.astype(np.float64), boot]),
        bootstrap=options.bootstrap,
        usable=usable,
        base=base,
        clicks=clicks,
        clicks_exposure=clicks_exposure,
        last_round=last_round,
    )

    x, y = task.spend, task.conversions
    valid = (x > 0) & usable
    keyword = np.array([not key.is_campaign_level for key in task.keys])
    campaign_family: str = ""
    campaign_params: dict[str, float] = {}
    share = np.ones(len(task.keys))
    if keyword.any():
        agg_x, agg_y = x[keyword].sum(axis=0), y[keyword].sum(axis=0)
        campaign_family, campaign_params = _campaign_curve(agg_x, agg_y, axis, options)
        share = np.where(keyword, x.sum(axis=1) / max(float(agg_x.sum()), 1e-300), 1.0)

    stats = _spend_stats(x, valid)
    recent = np.flatnonzero(usable)[-max(1, round(options.current_days / period)) :]
    current = x[:, recent].sum(axis=1) / max(1, round(options.current_days / period))
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
    if options.s_shapes and axis.folds.count:
        tested = np.flatnonzero(
            (pooled == NONE)
            & (conversions >= options.thin_conversions)
            & (stats["cv"] >= options.thin_spend_cv)
        )
        if tested.size:
            choices.update(_s_shaped(task, tested, axis, options, choices))

    m = options.value_prior_conversions
    shared = _Campaign(
        task=task,
        options=options,
        axis=axis,
        dow=calendar.dow,
        tau=calendar.tau,
        keyword=keyword,
        campaign_family=campaign_family,
        campaign_params=campaign_params,
        pooled=pooled,
        stats=stats,
        baseline=(
            baseline_holdout(y, valid, folds, None if days.plain else base)
            if folds.count
            else np.full(len(task.keys), np.nan)
        ),
        current=current,
        campaign_vpc=(float(task.value.sum()) + m * task.account_value_per_conversion)
        / (float(conversions.sum()) + m),
        budget=budget_limited(
            x,
            task.lost_is,
            usable,
            max(3, round(options.budget_recent_days / period)),
            options,
            days.grain,
        ),
        period=days.grain,
        rate_elasticity=rate_elasticity,
    )
    return [_entity_curve(shared, i, choices[i]) for i in range(len(task.keys))]


def _fold_sizes(options: FitOptions, period: float) -> tuple[int, int, int]:
    """(splits, test columns, least training columns): the options' days for daily rows; for
    weeks or months, test blocks of about four weeks (at least two columns) and at least twelve
    weeks of training (at least eight columns)."""
    if period == 1.0:
        return options.cv_splits, options.cv_test_days, options.min_train_days
    return (
        options.cv_splits,
        max(2, round(4 * _WEEK / period)),
        max(8, round(12 * _WEEK / period)),
    )


def _exposure(
    calendar: CalendarFit, weekday: npt.NDArray[np.int64], offset_days: FloatArray, days: DayAxis
) -> FloatArray:
    """The calendar's factor per column, promotions included (before days and reported share)."""
    factor = exposure(calendar.dow, calendar.tau, weekday, offset_days)
    if calendar.promo:
        factor = factor * np.exp(np.log(np.asarray(calendar.promo)) @ days.promo)
    return factor


def _entity_curve(shared: _Campaign, i: int, choice: _Choice) -> EntityCurve:
    """Bands, skill, grade and value for entity i, assembled into its frozen EntityCurve."""
    task, options, stats = shared.task, shared.options, shared.stats
    spend = task.spend[i]
    days = int((spend > 0).sum())
    conversions = float(stats["conversions"][i])
    current = float(shared.current[i])
    point = {name: float(v[0]) for name, v in choice.params.items()}
    limited_trust = shared.budget[i].held and current > 0
    grid = np.linspace(
        current * (1.0 - options.budget_step) if limited_trust else stats["trust_low"][i],
        current * (1.0 + options.budget_step) if limited_trust else stats["trust_high"][i],
        options.band_points,
    )
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
    limit = shared.budget[i]
    letter, reason = grade(
        conversions=conversions,
        days=days,
        spend_cv=float(stats["cv"][i]),
        skill=score,
        pooled=pooled,
        flat_spend=conversions >= options.fallback_conversions,
        budget_limited=limit.reason if limit.held else "",
        period=shared.period,
    )
    reason = _with_shape_notes(reason, choice)
    if limit.reason and not limit.held:
        reason = f"{reason}; {limit.reason}"
    trust_low, trust_high = float(stats["trust_low"][i]), float(stats["trust_high"][i])
    if limit.held and current > 0:
        trust_low = current * (1.0 - options.budget_step)
        trust_high = current * (1.0 + options.budget_step)
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
        mode=choice.mode,
        clicks=0.0 if shared.axis.clicks is None else float(shared.axis.clicks[i].sum()),
        clicks_params=dict(choice.clicks_params),
        conversion_rate=choice.conversion_rate,
        direct_deviance=choice.direct_deviance,
        funnel_deviance=choice.funnel_deviance,
        s_statistic=choice.s_statistic,
        budget_limited=bool(limit.reason),
        budget_held=limit.held,
        budget_reason=limit.reason,
        rate_elasticity=shared.rate_elasticity,
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
        trust_low=trust_low,
        trust_high=trust_high,
        current_spend=current,
        band_spend=tuple(float(v) for v in grid),
        band_low=tuple(float(v) for v in band_low),
        band_high=tuple(float(v) for v in band_high),
        diagnostics=diagnostics,
    )


def _with_shape_notes(reason: str, choice: _Choice) -> str:
    """The grade's reason, plus how the curve's shape came about when it was not the plain fit."""
    notes = []
    if choice.mode == FUNNEL and choice.conversion_rate is not None:
        notes.append(
            f"click funnel: shape from spend -> clicks, {choice.conversion_rate:.2%} of clicks "
            "convert"
        )
    if choice.family == _S_FAMILY and choice.s_statistic is not None:
        notes.append(
            f"S-shaped: increasing returns at low spend (test statistic {choice.s_statistic:.1f})"
        )
    return reason if not notes else f"{reason}; {'; '.join(notes)}"


def _calendar(
    x: FloatArray,
    y: FloatArray,
    base: FloatArray,
    weekday: npt.NDArray[np.int64],
    offset_days: FloatArray,
    days: DayAxis,
    options: FitOptions,
    start: CalendarFit | None = None,
) -> tuple[CalendarFit, tuple[FloatArray, FloatArray, FloatArray]]:
    """Alternate: every entity's curve given the calendar, the calendar given the curves.

    The calendar multiplies all entities of a campaign alike, so given the entities' curves f_k the
    campaign's daily conversions have mean calendar_t * sum_k f_k(spend_kt): the summed curves are
    the exact offset, where one curve of the summed spend would be misspecified and leak into the
    trend. `base` is each column's exposure before the calendar (days x reported share; 0 for an
    excluded column), so lag and grain enter the offset too. From a `start` (the conversions'
    calendar, for the clicks') one round is enough. Also returns the last round's exposure and the
    full-data objective of its Hill fits.
    """
    n = x.shape[1]
    calendar = CalendarFit(dow=(1.0,) * 7, tau=0.0) if start is None else start
    expo = base if start is None else _exposure(start, weekday, offset_days, days) * base
    for _ in range(options.calendar_rounds if start is None else 1):
        fit = profile_fit(_CALENDAR_FAMILY, x, y, expo, np.ones((1, n)))
        last_round = (expo, fit.objective[:, 0], fit.params["s"][:, 0])
        curves = evaluate(_CALENDAR_FAMILY, {p: v[:, :1] for p, v in fit.params.items()}, x)
        offset = curves.sum(axis=0) * base
        ok = offset > 0
        calendar = fit_calendar_terms(
            y.sum(axis=0),
            np.log(np.where(ok, offset, 1.0)),
            ok,
            weekday,
            offset_days,
            dow_ridge=options.dow_ridge,
            trend_prior_sd_per_year=options.trend_prior_sd_per_year,
            promo=days.promo if days.promo.shape[0] else None,
            weekdays=days.grain == "day",
            robust=options.robust_trend,
        )
        expo = _exposure(calendar, weekday, offset_days, days) * base
    return calendar, last_round


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
        return holdout_deviance(y, mu, (x > 0) & axis.usable, axis.folds)
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
    """Fit every family to entities with data of their own, directly and, with clicks, as a click
    funnel.

    In a campaign with enough keywords their elasticities are pooled and they share one family (and
    mode); otherwise thin keywords are shrunk toward the campaign curve. Either way a thin keyword
    is capped below its campaign curve over its trust region.
    """
    x, y = task.spend[idx], task.conversions[idx]
    scale = spend_scale(x)
    shrunk = pooled == SHRUNK
    families = [f for f in options.families if f in POOLED_FAMILIES]
    pool = bool(families) and 0 < options.pool_min_keywords <= int(keywords.sum())
    cap_grid = np.geomspace(trust[0], trust[1], _CAP_POINTS, axis=-1)
    tried = [f for f in options.families if not pool or f in families or not keywords.all()]
    fits: dict[tuple[str, str], Params] = {}
    scores: dict[tuple[str, str], FloatArray] = {}
    funnel_parts: dict[str, tuple[dict[str, FloatArray], FloatArray]] = {}
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
        pooled_family = pool and family in families
        if pooled_family:
            params = _pooled_elasticity(family, params, x, y, axis, scale, keywords, current)
        capped = shrunk.any() and (family == campaign_family or pooled_family)
        if capped:
            params = _capped(family, params, shrunk, campaign_family, campaign_params, cap_grid)
        fits[(family, DIRECT)] = params
        scores[(family, DIRECT)] = _selection_score(family, params, fit.objective, x, y, axis)
        if axis.clicks is not None:
            clicks = axis.clicks[idx]
            funnel, clicks_curve, rate = _funnel_fit(
                family, x, clicks, y, axis, scale, pooled_family, keywords, current, options
            )
            if capped:
                funnel = _capped(family, funnel, shrunk, campaign_family, campaign_params, cap_grid)
            fits[(family, FUNNEL)] = funnel
            scores[(family, FUNNEL)] = _selection_score(family, funnel, fit.objective, x, y, axis)
            funnel_parts[family] = (clicks_curve, rate)
    choice = _choose(scores, fits, x, y, axis, [f for f in tried], None)
    if pool:
        shared = _choose(scores, fits, x, y, axis, families, keywords)
        choice = [shared[j] if keywords[j] else choice[j] for j in range(len(idx))]
    else:
        choice = [(campaign_family, DIRECT) if shrunk[j] else choice[j] for j in range(len(idx))]
    out: dict[int, _Choice] = {}
    for j, i in enumerate(idx):
        family, mode = choice[j]
        params = {name: v[j] for name, v in fits[(family, mode)].items()}
        holdout = float(scores[(family, mode)][j]) if axis.folds.count else None
        family_dev: dict[str, float] = {}
        if axis.folds.count:
            family_dev = {f: float(min(scores[c][j] for c in scores if c[0] == f)) for f in tried}
        clicks_curve, rate = funnel_parts.get(family, ({}, np.full(len(idx), np.nan)))
        direct = scores[(family, DIRECT)][j] if axis.folds.count else None
        funnel_dev = scores.get((family, FUNNEL))
        out[int(i)] = _Choice(
            family,
            params,
            holdout,
            family_dev,
            mode=mode,
            clicks_params={n: float(v[j]) for n, v in clicks_curve.items()},
            conversion_rate=None if np.isnan(rate[j]) else float(rate[j]),
            direct_deviance=None if direct is None else float(direct),
            funnel_deviance=None if funnel_dev is None else float(funnel_dev[j]),
        )
    return out


def _choose(
    scores: Mapping[tuple[str, str], FloatArray],
    fits: Mapping[tuple[str, str], Params],
    x: FloatArray,
    y: FloatArray,
    axis: _Axis,
    families: list[str],
    members: BoolArray | None,
) -> list[tuple[str, str]]:
    """(family, mode) per entity: each mode's family with the least holdout deviance; then, where
    the whole window's conversions agree with the funnel's shape (`_funnel_fits_in_sample`), the
    funnel (its shape is read from many times more data) unless the direct curve forecasts the
    held-out days significantly better (two standard errors of the daily differences); elsewhere
    the mode with the lower holdout deviance. With `members`, one choice is made on their summed
    deviances and returned for every entity."""
    count = x.shape[0]
    if members is not None:
        return [_pick(scores, fits, x, y, axis, families, np.asarray(members))] * count
    return [_pick(scores, fits, x, y, axis, families, np.arange(count) == j) for j in range(count)]


def _pick(
    scores: Mapping[tuple[str, str], FloatArray],
    fits: Mapping[tuple[str, str], Params],
    x: FloatArray,
    y: FloatArray,
    axis: _Axis,
    families: list[str],
    group: BoolArray,
) -> tuple[str, str]:
    best: dict[str, tuple[str, str]] = {}
    for mode in (DIRECT, FUNNEL):
        candidates = [(f, mode) for f in families if (f, mode) in scores]
        if candidates:
            best[mode] = min(candidates, key=lambda c: float(scores[c][group].sum()))
    if FUNNEL not in best or not axis.folds.count:
        return best[DIRECT]
    if not _funnel_fits_in_sample(fits, best[DIRECT], best[FUNNEL], x, y, axis, group):
        return min(best.values(), key=lambda c: float(scores[c][group].sum()))
    funnel = holdout_days_of(fits[best[FUNNEL]], best[FUNNEL][0], x, y, axis, group)
    direct = holdout_days_of(fits[best[DIRECT]], best[DIRECT][0], x, y, axis, group)
    tested = np.asarray(axis.folds.test.any(axis=0), dtype=bool)
    if significantly_better(direct - funnel, tested):
        return best[DIRECT]
    return best[FUNNEL]


def _funnel_fits_in_sample(
    fits: Mapping[tuple[str, str], Params],
    direct: tuple[str, str],
    funnel: tuple[str, str],
    x: FloatArray,
    y: FloatArray,
    axis: _Axis,
    group: BoolArray,
) -> bool:
    """Whether the conversions of the whole window agree with the funnel's shape: its deviance
    exceeds the direct curve's (whose shape was fitted to them) by no more than chance allows, a
    chi-square test at 5% with the direct curve's shape parameters per entity as degrees of
    freedom, scaled by the over-dispersion."""
    valid = (x[group] > 0) & axis.usable
    deviance, pearson = [], 0.0
    for family, mode in (direct, funnel):
        point = {name: v[group][:, :1] for name, v in fits[(family, mode)].items()}
        mu = axis.exposure * evaluate(family, point, x[group])
        deviance.append(float(poisson_deviance(y[group], mu, valid, axis=None)))
        if mode == DIRECT:
            safe = np.maximum(mu, MU_FLOOR)
            pearson = float(np.where(valid, (y[group] - mu) ** 2 / safe, 0.0).sum())
    shape_params = len(FAMILIES[direct[0]].param_names) - 1
    entities = int(group.sum())
    freedom = max(int(valid.sum()) - entities * (shape_params + 1), 1)
    dispersion = max(1.0, pearson / freedom)
    limit = float(chi2.ppf(0.95, shape_params * entities))
    return (deviance[1] - deviance[0]) / dispersion <= limit


def holdout_days_of(
    params: Params, family: str, x: FloatArray, y: FloatArray, axis: _Axis, group: BoolArray
) -> FloatArray:
    """The held-out daily deviance of the entities in `group`, summed over them (N,)."""
    picked = {name: v[group] for name, v in params.items()}
    mu = _predict(family, picked, axis.cv_rows, x[group], axis.exposure)
    valid = (x[group] > 0) & axis.usable
    return np.asarray(holdout_days(y[group], mu, valid, axis.folds).sum(axis=0), dtype=np.float64)


def _capped(
    family: str,
    params: Params,
    shrunk: BoolArray,
    campaign_family: str,
    campaign_params: Mapping[str, float],
    cap_grid: FloatArray,
) -> Params:
    """Shrunk keywords' `a` capped so their curve stays below the campaign's over their trust
    region."""
    shape = {name: v for name, v in params.items() if name != "a"}
    cap = range_cap(family, campaign_params, shape, cap_grid, campaign_family)
    return {**params, "a": np.where(shrunk[:, None], np.minimum(params["a"], cap), params["a"])}


def _funnel_fit(
    family: str,
    x: FloatArray,
    clicks: FloatArray,
    y: FloatArray,
    axis: _Axis,
    scale: FloatArray,
    pooled_family: bool,
    keywords: BoolArray,
    current: FloatArray,
    options: FitOptions,
) -> tuple[Params, dict[str, FloatArray], FloatArray]:
    """The click funnel in one family: (conversion curve params (K, R), click curve params at the
    full data (K,), conversions per click (K,)).

    The shape is fitted to spend -> clicks under the clicks' own calendar, on the full data and the
    training folds (clicks are 10-50 times as many as conversions, so the bootstrap replicates keep
    the full-data shape: its sampling spread is small beside the conversion rate's); in a pooled
    campaign the clicks' elasticities are pooled as conversions' are. Each entity's conversion rate
    per click is then its Poisson MLE under every weight vector, pulled toward its campaign's rate
    by `rate_prior_conversions` (keywords only), and the conversion curve is rate x click curve.
    """
    assert axis.clicks_exposure is not None
    rows = 1 + axis.folds.count
    clicks_axis = _Axis(
        exposure=axis.clicks_exposure,
        folds=axis.folds,
        weights=axis.weights[:rows],
        bootstrap=0,
        usable=axis.usable,
        base=axis.base,
    )
    fit = profile_fit(family, x, clicks, clicks_axis.exposure, clicks_axis.weights, scale=scale)
    params = dict(fit.params)
    if pooled_family:
        params = _pooled_elasticity(
            family, params, x, clicks, clicks_axis, scale, keywords, current
        )
    shape = to_transformed(family, {n: v for n, v in params.items() if n != "a"}, scale[:, None])
    repeats = axis.weights.shape[0] - rows
    full = [np.concatenate([t, np.repeat(t[:, :1], repeats, axis=1)], axis=1) for t in shape]
    clicks_sum, clicks_basis = basis_sums(
        family, full, x, clicks, axis.clicks_exposure, axis.weights, scale
    )
    rate_clicks = np.where(
        clicks_basis > 0, clicks_sum / np.where(clicks_basis > 0, clicks_basis, 1.0), 0.0
    )
    conv_sum, conv_basis = basis_sums(family, full, x, y, axis.exposure, axis.weights, scale)
    opportunities = conv_basis * rate_clicks
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(opportunities > 0, conv_sum / opportunities, 0.0)
        prior = options.rate_prior_conversions
        if keywords.any() and prior > 0:
            campaign_rate = conv_sum[keywords].sum(axis=0) / np.maximum(
                opportunities[keywords].sum(axis=0), 1e-300
            )
            pulled = np.where(
                campaign_rate > 0,
                (conv_sum + prior) / (opportunities + prior / np.maximum(campaign_rate, 1e-300)),
                own,
            )
            own = np.where(keywords[:, None] & (opportunities > 0), pulled, own)
    conversions = to_natural(family, full, own * rate_clicks, scale[:, None])
    clicks_curve = to_natural(family, [t[:, :1] for t in full], rate_clicks[:, :1], scale[:, None])
    return (
        conversions,
        {name: v[:, 0] for name, v in clicks_curve.items()},
        np.where(rate_clicks[:, 0] > 0, own[:, 0], np.nan),
    )


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
        holdout = holdout_deviance(y, mu, (x > 0) & axis.usable, axis.folds)
    return {
        int(i): _Choice(
            campaign_family,
            {name: np.asarray(v[j]) for name, v in params.items()},
            None if holdout is None else float(holdout[j]),
            {},
        )
        for j, i in enumerate(idx)
    }


def _s_shaped(
    task: CampaignTask,
    idx: npt.NDArray[np.intp],
    axis: _Axis,
    options: FitOptions,
    choices: Mapping[int, _Choice],
) -> dict[int, _Choice]:
    """Entities of `idx` whose data show increasing returns, refitted with the S-shaped Hill curve.

    The test, per entity: the Hill curve with its shape free above 1 against the concave Hill curve
    (shape at most 1), both fitted to the full data under the calendar's last-round exposure (the
    concave fit is that round's own; only entities whose concave fit sits at its limit, shape 0.9
    or more, can show increasing returns and are tested); twice the log-likelihood gain, divided
    by the over-dispersion (Pearson chi-square per degree of freedom of the S-shaped fit, at least
    1), must exceed `s_test_level` (3.84: 5% for one parameter). With clicks the test reads spend ->
    clicks, which carries the same shape with many times the information. An entity that passes is
    refitted on every weight vector and keeps the S-shape only if it also forecasts the held-out
    weeks better than its concave curve (by one unit of deviance). Every tested entity keeps its
    statistic in its diagnostics.
    """
    assert axis.last_round is not None
    expo, concave, concave_shape = axis.last_round
    idx = idx[concave_shape[idx] >= _S_SCREEN]
    if idx.size == 0:
        return {}
    x, y = task.spend[idx], task.conversions[idx]
    funnel = axis.clicks is not None
    data = axis.clicks[idx] if funnel and axis.clicks is not None else y
    scale = spend_scale(x)
    s_fit = profile_fit(_S_FAMILY, x, data, expo, np.ones((1, task.days)), scale=scale)
    gain = 2.0 * (concave[idx] - s_fit.objective[:, 0])
    mu = np.maximum(
        expo * evaluate(_S_FAMILY, {n: v[:, :1] for n, v in s_fit.params.items()}, x), MU_FLOOR
    )
    used = (x > 0) & (expo > 0)
    pearson = np.where(used, (data - mu) ** 2 / mu, 0.0).sum(axis=1)
    dispersion = np.maximum(1.0, pearson / np.maximum(used.sum(axis=1) - 3, 1))
    statistic = np.maximum(gain, 0.0) / dispersion
    out = {int(i): _with_statistic(choices[int(i)], float(statistic[j])) for j, i in enumerate(idx)}
    passing = np.flatnonzero(statistic > options.s_test_level)
    if passing.size == 0:
        return out
    xp, yp = x[passing], y[passing]
    if funnel and axis.clicks is not None:
        keywords = np.zeros(passing.size, dtype=bool)
        params, clicks_curve, rate = _funnel_fit(
            _S_FAMILY,
            xp,
            axis.clicks[idx[passing]],
            yp,
            axis,
            scale[passing],
            False,
            keywords,
            np.zeros(passing.size),
            options,
        )
    else:
        params = dict(profile_fit(_S_FAMILY, xp, yp, axis.exposure, axis.weights).params)
        clicks_curve, rate = {}, np.full(passing.size, np.nan)
    mu_cv = _predict(_S_FAMILY, params, axis.cv_rows, xp, axis.exposure)
    holdout = holdout_deviance(yp, mu_cv, (xp > 0) & axis.usable, axis.folds)
    for j, k in enumerate(passing):
        i = int(idx[k])
        before = out[i]
        if before.holdout is None or holdout[j] >= before.holdout - _S_MARGIN:
            continue
        out[i] = _Choice(
            _S_FAMILY,
            {name: v[j] for name, v in params.items()},
            float(holdout[j]),
            {**before.family_deviance, _S_FAMILY: float(holdout[j])},
            mode=FUNNEL if funnel else DIRECT,
            clicks_params={n: float(v[j]) for n, v in clicks_curve.items()},
            conversion_rate=None if np.isnan(rate[j]) else float(rate[j]),
            direct_deviance=before.direct_deviance,
            funnel_deviance=before.funnel_deviance,
            s_statistic=before.s_statistic,
        )
    return out


def _with_statistic(choice: _Choice, statistic: float) -> _Choice:
    return _Choice(
        choice.family,
        choice.params,
        choice.holdout,
        choice.family_deviance,
        mode=choice.mode,
        clicks_params=choice.clicks_params,
        conversion_rate=choice.conversion_rate,
        direct_deviance=choice.direct_deviance,
        funnel_deviance=choice.funnel_deviance,
        s_statistic=statistic,
    )


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
