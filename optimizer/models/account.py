"""fit_account: a validated history in, a CurveSet out, campaigns fitted in parallel.

The history is checked once here; it is then cut into one `CampaignTask` per campaign (dense day
axis over the whole account window, missing days as zeros), and an engine (`engines`: joblib on
this machine, or a Dask cluster) maps `fit_campaign` over the tasks. Each task's randomness is
seeded from the options' seed and the campaign name, so the result depends neither on the engine,
nor on n_jobs, nor on the order campaigns finish in.

Tasks are built lazily, one campaign at a time, from the rows sorted by entity: only the tasks in
flight hold a dense (entities x days) block, so peak memory grows with the history's row count
plus the largest campaigns in flight, not with entities x days of the whole account.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.models.campaign import CampaignTask
from optimizer.models.context import DayAxis, FitContext, Grain, detect_grain
from optimizer.models.curves import EntityCurve
from optimizer.models.curveset import CurveSet, SkippedEntity
from optimizer.models.engines import FitEngine, resolve_engine
from optimizer.models.events import ProposedEvent, detect_events
from optimizer.models.options import FitOptions
from optimizer.models.validation import validate_history
from optimizer.schema import LOST_IS_BUDGET_COLUMN, NAME_COLUMNS, EntityKey

__all__ = [
    "AccountWindow",
    "CampaignPlan",
    "campaign_tasks",
    "daily_totals",
    "fit_account",
    "fit_account_slices",
    "plan_campaigns",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AccountWindow:
    """What every campaign of an account shares, known before any slice of it is read: the
    window of its history (each task's day axis), its value per conversion (what a campaign
    without conversions falls back to) and how many entities will get a curve (for progress)."""

    start: dt.date
    end: dt.date
    value_per_conversion: float
    entities: int
    grain: Grain = "day"


def fit_account(
    history: pd.DataFrame,
    options: FitOptions | None = None,
    *,
    context: FitContext | None = None,
    n_jobs: int = 1,
    engine: str | FitEngine = "local",
    dask_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CurveSet:
    """Fit every entity of an account; `progress(done, total)` counts fitted entities.

    `context` carries the account's conversion lag, export date and events (`FitContext`; none:
    conversions final, every day ordinary). `engine` is 'local' (joblib, `n_jobs` processes),
    'dask' (the scheduler at `dask_address`) or a `FitEngine`; every engine gives the same curves.
    """
    opts = _checked(options, n_jobs)
    plan = plan_campaigns(history, context=context)
    window = AccountWindow(
        plan.start, plan.last_row, plan.account_value_per_conversion, plan.entities, plan.grain
    )
    return _fit_plans([plan], window, opts, context, n_jobs, engine, dask_address, progress)


def fit_account_slices(
    slices: Iterable[pd.DataFrame],
    window: AccountWindow,
    options: FitOptions | None = None,
    *,
    context: FitContext | None = None,
    n_jobs: int = 1,
    engine: str | FitEngine = "local",
    dask_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CurveSet:
    """`fit_account` over an account read in slices of whole campaigns, in campaign name order.

    Each slice is validated and laid out only when the engine needs its tasks, so memory grows
    with the largest slice, not with the account. Given the account's `window`, the curves are
    the same as `fit_account` on the whole history. A campaign split across slices, or slices out
    of order, is an InvalidInputError.
    """
    opts = _checked(options, n_jobs)
    plans = _in_order(plan_campaigns(part, window, context=context) for part in slices)
    return _fit_plans(plans, window, opts, context, n_jobs, engine, dask_address, progress)


def _checked(options: FitOptions | None, n_jobs: int) -> FitOptions:
    opts = FitOptions() if options is None else options
    if not isinstance(opts, FitOptions):
        raise InvalidInputError("options must be a FitOptions")
    if n_jobs == 0:
        raise InvalidInputError("n_jobs must not be 0 (use 1 for in-process, -1 for all cores)")
    return opts


def _fit_plans(
    plans: Iterable[CampaignPlan],
    window: AccountWindow,
    options: FitOptions,
    context: FitContext | None,
    n_jobs: int,
    engine: str | FitEngine,
    dask_address: str | None,
    progress: Callable[[int, int], None] | None,
) -> CurveSet:
    fitter = resolve_engine(engine, n_jobs=n_jobs, dask_address=dask_address)
    skipped: list[SkippedEntity] = []
    curves: list[EntityCurve] = []
    axis: DayAxis | None = None
    observed = expected = np.zeros(0)
    # One engine call per slice, so slices are read in this thread (a store connection is not
    # shared with the engine's dispatch thread); the pool idles only for a slice's last tasks.
    for plan in plans:
        skipped.extend(plan.skipped)
        first = len(curves)
        for fitted in fitter.map(plan.tasks(), options):
            curves.extend(fitted)
            if progress is not None:
                progress(len(curves), window.entities)
        axis = plan.axis
        if axis.grain == "day" and plan.days:
            seen, wanted = daily_totals(plan, curves[first:])
            observed = seen if observed.size == 0 else observed + seen
            expected = wanted if expected.size == 0 else expected + wanted
    proposed: tuple[ProposedEvent, ...] = ()
    if observed.size:
        known = () if context is None else context.events
        proposed = tuple(detect_events(window.start, observed, expected, known))
    span = window.end if axis is None else window.start + dt.timedelta(days=axis.span_days - 1)
    return CurveSet(
        curves=tuple(curves),
        window_start=window.start,
        window_end=span,
        fitted_at=dt.datetime.now(dt.UTC),
        skipped=tuple(skipped),
        grain=window.grain,
        lag=None if context is None else context.lag,
        proposed_events=proposed,
    )


def _in_order(plans: Iterable[CampaignPlan]) -> Iterator[CampaignPlan]:
    last = None
    for plan in plans:
        if plan.campaign_ranges:
            first = plan.campaign_ranges[0][0]
            if last is not None and first <= last:
                raise InvalidInputError(
                    f"history slices must hold whole campaigns in name order: campaign "
                    f"'{first}' follows '{last}'"
                )
            last = plan.campaign_ranges[-1][0]
        yield plan


def campaign_tasks(
    history: pd.DataFrame,
) -> tuple[list[CampaignTask], list[SkippedEntity], dt.date, dt.date]:
    """Validate a history and cut it into campaign tasks; entities that never spent are skipped.

    Materialises every task; `plan_campaigns(history).tasks()` streams them instead.
    """
    plan = plan_campaigns(history)
    return list(plan.tasks()), list(plan.skipped), plan.start, plan.end


@dataclass(frozen=True, eq=False)
class CampaignPlan:
    """A validated history as flat per-row arrays sorted by entity, ready to cut into tasks.

    Entity codes follow the sorted entity names, so each campaign's entities, and their rows, are
    one contiguous range. `row_day` is the row's column of `axis` (its day, week or month);
    `row_spend` is the column's average daily spend, `row_conversions` and `row_clicks` its totals;
    `row_lost_is` the lost impression share (NaN: unknown), when the history had that column.
    """

    start: dt.date
    days: int
    keys: tuple[EntityKey, ...]
    spent: npt.NDArray[np.bool_]
    value: FloatArray
    account_value_per_conversion: float
    campaign_ranges: tuple[tuple[str, int, int], ...]
    row_offsets: IntArray
    row_entity: IntArray
    row_day: IntArray
    row_spend: FloatArray
    row_conversions: FloatArray
    skipped: tuple[SkippedEntity, ...]
    axis: DayAxis = field(default_factory=lambda: DayAxis.daily(0))
    row_clicks: FloatArray | None = None
    row_lost_is: FloatArray | None = None
    last_row: dt.date = dt.date.min

    @property
    def end(self) -> dt.date:
        """The last day the history covers (a weekly history's last Sunday, say)."""
        return self.start + dt.timedelta(days=self.axis.span_days - 1)

    @property
    def grain(self) -> Grain:
        return self.axis.grain

    @property
    def entities(self) -> int:
        """How many entities will get a curve (those that spent something)."""
        return int(self.spent.sum())

    def tasks(self) -> Iterator[CampaignTask]:
        """One task per campaign with spend, in campaign name order, each built when asked for."""
        for campaign, lo, hi in self.campaign_ranges:
            members = lo + np.flatnonzero(self.spent[lo:hi])
            if members.size == 0:
                continue
            local = np.full(hi - lo, -1, dtype=np.int64)
            local[members - lo] = np.arange(members.size)
            rows = slice(int(self.row_offsets[lo]), int(self.row_offsets[hi]))
            row = local[self.row_entity[rows] - lo]
            keep = row >= 0
            day = self.row_day[rows][keep]
            place = (members.size, row[keep], day, rows, keep)
            spend = _dense(self.row_spend, place, self.days)
            conversions = _dense(self.row_conversions, place, self.days)
            yield CampaignTask(
                campaign=campaign,
                start=self.start,
                keys=tuple(self.keys[i] for i in members),
                spend=spend,
                conversions=conversions,
                value=self.value[members],
                account_value_per_conversion=self.account_value_per_conversion,
                clicks=None
                if self.row_clicks is None
                else _dense(self.row_clicks, place, self.days),
                lost_is=(
                    None
                    if self.row_lost_is is None
                    else _dense(self.row_lost_is, place, self.days, np.nan)
                ),
                axis=None if self.axis.plain else self.axis,
            )


def _dense(
    values: FloatArray,
    place: tuple[int, IntArray, IntArray, slice, npt.NDArray[np.bool_]],
    columns: int,
    fill: float = 0.0,
) -> FloatArray:
    """One campaign's rows of `values` as a dense (entities, columns) block."""
    count, row, day, rows, keep = place
    out = np.full((count, columns), fill)
    out[row, day] = values[rows][keep]
    return out


def plan_campaigns(
    history: pd.DataFrame,
    window: AccountWindow | None = None,
    *,
    context: FitContext | None = None,
) -> CampaignPlan:
    """Validate a history once and lay it out for `CampaignPlan.tasks`.

    With `window` (an account read in slices) the day axis, its grain and the account's value per
    conversion are the window's, not this slice's own. Rows a week or a month apart are laid out
    on their own grain (see `optimizer.models.context`); rows at another spacing are refused.
    """
    frame = validate_history(history)
    first = frame["date"].min() if window is None else pd.Timestamp(window.start)
    last = frame["date"].max() if window is None else pd.Timestamp(window.end)
    if window is not None and (frame["date"].min() < first or frame["date"].max() > last):
        raise InvalidInputError(
            f"history slice has dates outside the account window {window.start}..{window.end}"
        )
    grain = detect_grain(frame["date"].to_numpy()) if window is None else window.grain
    axis = DayAxis.build(first.date(), last.date(), grain, context)
    code = frame["entity"].to_numpy()
    count = int(code.max()) + 1
    any_row = np.empty(count, dtype=np.int64)
    any_row[code] = np.arange(code.size)
    names = frame.loc[any_row, list(NAME_COLUMNS)].reset_index(drop=True)
    order = np.argsort(code, kind="stable")
    offset = np.asarray((frame["date"] - first).dt.days, dtype=np.int64)[order]
    day = np.searchsorted(axis.offsets, offset, side="right") - 1
    if grain != "day" and not np.array_equal(axis.offsets[day], offset):
        raise InvalidInputError(
            f"the history's rows are {grain}ly but some are dated inside a {grain}; every row of "
            f"a {grain}ly history must be dated by the first day of its {grain}"
        )
    length = axis.lengths[day]
    spend = frame["spend"].to_numpy()[order] / length
    conversions = frame["conversions"].to_numpy()[order]
    clicks = frame["clicks"].to_numpy()[order]
    lost_is = (
        frame[LOST_IS_BUDGET_COLUMN].to_numpy()[order]
        if LOST_IS_BUDGET_COLUMN in frame.columns
        else None
    )
    value = np.bincount(code, weights=frame["conversion_value"].to_numpy(), minlength=count).astype(
        np.float64
    )
    last_row = frame["date"].max().date()
    del frame
    code = code[order]
    total_conversions = float(conversions.sum())
    if window is not None:
        account_vpc = window.value_per_conversion
    else:
        account_vpc = float(value.sum()) / total_conversions if total_conversions > 0 else 0.0
    spent = np.bincount(code, weights=spend, minlength=count) > 0

    keys = tuple(EntityKey(*(str(v) for v in row)) for row in names.itertuples(index=False))
    campaigns = names["campaign"].to_numpy()
    starts = np.flatnonzero(np.r_[True, campaigns[1:] != campaigns[:-1]])
    bounds = np.r_[starts, count]
    return CampaignPlan(
        start=first.date(),
        days=axis.columns,
        keys=keys,
        spent=spent,
        value=value,
        account_value_per_conversion=account_vpc,
        campaign_ranges=tuple(
            (str(campaigns[lo]), int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)
        ),
        row_offsets=np.searchsorted(code, np.arange(count + 1)).astype(np.int64),
        row_entity=code.astype(np.int64, copy=False),
        row_day=day.astype(np.int64, copy=False),
        row_spend=spend,
        row_conversions=conversions,
        skipped=tuple(
            SkippedEntity(key, "no spend in the data window")
            for key, ok in zip(keys, spent, strict=True)
            if not ok
        ),
        axis=axis,
        row_clicks=clicks,
        row_lost_is=lost_is,
        last_row=last_row,
    )


def daily_totals(plan: CampaignPlan, curves: list[EntityCurve]) -> tuple[FloatArray, FloatArray]:
    """The plan's conversions per day, and what its fitted curves expect at each day's spend and
    calendar, scaled by the share reported at export; excluded days count 0 on both sides."""
    fitted = {curve.key: curve for curve in curves}
    rows_expected = np.zeros(plan.row_spend.size)
    for code, key in enumerate(plan.keys):
        curve = fitted.get(key)
        if curve is None:
            continue
        rows = slice(int(plan.row_offsets[code]), int(plan.row_offsets[code + 1]))
        day = plan.row_day[rows]
        weekday = (plan.start.weekday() + day) % 7
        since = (plan.start - curve.reference_date).days + day
        factor = np.asarray(curve.dow)[weekday] * np.exp(curve.tau * since)
        rows_expected[rows] = factor * curve.expected(plan.row_spend[rows])
    keep = ~plan.axis.excluded[plan.row_day]
    observed = np.bincount(plan.row_day, plan.row_conversions * keep, plan.days)
    expected = np.bincount(plan.row_day, rows_expected * keep, plan.days) * plan.axis.reported
    return observed.astype(np.float64), expected.astype(np.float64)
