"""fit_account: a validated history in, a CurveSet out, campaigns fitted in parallel with joblib.

The history is checked once here; it is then cut into one `CampaignTask` per campaign (dense day
axis over the whole account window, missing days as zeros), and `fit_campaign` is mapped over the
tasks with joblib's loky backend. Each task's randomness is seeded from the options' seed and the
campaign name, so the result does not depend on n_jobs or on the order campaigns finish in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from optimizer.errors import InvalidInputError
from optimizer.models.campaign import CampaignTask, fit_campaign
from optimizer.models.curves import EntityCurve
from optimizer.models.curveset import CurveSet, SkippedEntity
from optimizer.models.options import FitOptions
from optimizer.models.validation import validate_history
from optimizer.schema import NAME_COLUMNS, EntityKey

__all__ = ["campaign_tasks", "fit_account"]


def fit_account(
    history: pd.DataFrame,
    options: FitOptions | None = None,
    *,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> CurveSet:
    """Fit every entity of an account; `progress(done, total)` counts fitted entities."""
    opts = FitOptions() if options is None else options
    if not isinstance(opts, FitOptions):
        raise InvalidInputError("options must be a FitOptions")
    if n_jobs == 0:
        raise InvalidInputError("n_jobs must not be 0 (use 1 for in-process, -1 for all cores)")
    tasks, skipped, start, end = campaign_tasks(history)
    total = sum(len(t.keys) for t in tasks)
    curves: list[EntityCurve] = []
    results = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
        delayed(fit_campaign)(task, opts) for task in tasks
    )
    for fitted in results:
        curves.extend(fitted)
        if progress is not None:
            progress(len(curves), total)
    return CurveSet(
        curves=tuple(curves),
        window_start=start,
        window_end=end,
        fitted_at=dt.datetime.now(dt.UTC),
        skipped=tuple(skipped),
    )


def campaign_tasks(
    history: pd.DataFrame,
) -> tuple[list[CampaignTask], list[SkippedEntity], dt.date, dt.date]:
    """Validate a history and cut it into campaign tasks; entities that never spent are skipped."""
    frame = validate_history(history)
    first = frame["date"].min()
    days = int((frame["date"].max() - first).days) + 1
    day = ((frame["date"] - first).dt.days).to_numpy()
    grouped = frame.groupby(list(NAME_COLUMNS), sort=True)
    code = grouped.ngroup().to_numpy()
    names = grouped.size().index.to_frame(index=False)
    count = len(names)
    spend = np.zeros((count, days))
    conversions = np.zeros((count, days))
    spend[code, day] = frame["spend"].to_numpy()
    conversions[code, day] = frame["conversions"].to_numpy()
    value = np.bincount(code, weights=frame["conversion_value"].to_numpy(), minlength=count).astype(
        np.float64
    )
    total_conversions = float(conversions.sum())
    account_vpc = float(value.sum()) / total_conversions if total_conversions > 0 else 0.0

    keys = [EntityKey(*(str(v) for v in row)) for row in names.itertuples(index=False)]
    spent = spend.sum(axis=1) > 0
    skipped = [
        SkippedEntity(key, "no spend in the data window")
        for key, ok in zip(keys, spent, strict=True)
        if not ok
    ]
    campaigns = names["campaign"].to_numpy()
    tasks: list[CampaignTask] = []
    start = first.date()
    for campaign in pd.unique(campaigns):
        rows = np.flatnonzero((campaigns == campaign) & spent)
        if rows.size == 0:
            continue
        tasks.append(
            CampaignTask(
                campaign=str(campaign),
                start=start,
                keys=tuple(keys[i] for i in rows),
                spend=spend[rows],
                conversions=conversions[rows],
                value=value[rows],
                account_value_per_conversion=account_vpc,
            )
        )
    return tasks, skipped, start, start + dt.timedelta(days=days - 1)
