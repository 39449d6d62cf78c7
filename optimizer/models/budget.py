"""Budget-limited entities: spend pinned at a daily budget, so the data cannot show the response
above it.

Two signs, either enough: the export's "Search lost IS (budget)" says the budget, not the bid,
stopped the ads (at least `budget_lost_share` of the impressions lost on average over the recent
days); or, without that column, the spend sat flat at one level (coefficient of variation under
`budget_flat_cv` over the recent days, on nearly all of them), which demand-driven spend does not
do (it moves with weekdays and auctions by 10-30%). The curve of such an entity above its budget is
an extrapolation unless the history shows it spending more before (then the curve saw that
response), so the solver may move it only a small step (`budget_step`) until the data show its
response.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.models.options import FitOptions

__all__ = ["BudgetLimit", "budget_limited"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SPENDING_SHARE = 0.9


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    """Why an entity looks budget-limited ('' when it does not), and whether its moves are held
    to a small step (its response above the budget was never seen in the history)."""

    reason: str = ""
    held: bool = False


def budget_limited(
    spend: FloatArray,
    lost_is: FloatArray | None,
    usable: BoolArray,
    columns: int,
    options: FitOptions,
    period: str = "day",
) -> list[BudgetLimit]:
    """Per entity, whether and why it looks budget-limited.

    spend, lost_is: (entities, columns); usable: (columns,) the columns that count (not
    excluded); `columns` is how many of the latest usable columns are recent. A flagged entity
    whose history shows spend at least one step above its budget had its response above the
    budget measured there, so it is flagged but not held.
    """
    recent = np.flatnonzero(usable)[-columns:]
    limits = [BudgetLimit()] * spend.shape[0]
    if recent.size < max(3, columns // 2):
        return limits
    x = spend[:, recent]
    spending = (x > 0).mean(axis=1) >= _SPENDING_SHARE
    spent = x > 0
    count = np.maximum(spent.sum(axis=1), 1)
    mean = np.where(spent, x, 0.0).sum(axis=1) / count
    spread = np.sqrt(np.where(spent, (x - mean[:, None]) ** 2, 0.0).sum(axis=1) / count)
    cv = np.where(mean > 0, spread / np.where(mean > 0, mean, 1.0), np.inf)
    highest = np.where(usable[None, :], spend, 0.0).max(axis=1)
    lost = None
    if lost_is is not None:
        share = lost_is[:, recent]
        known = ~np.isnan(share)
        seen = known.sum(axis=1)
        total = np.where(known, share, 0.0).sum(axis=1)
        lost = np.where(seen > 0, total / np.maximum(seen, 1), np.nan)
    for i in range(spend.shape[0]):
        if not spending[i]:
            continue
        level = f"{mean[i]:,.2f}"
        if lost is not None and np.isfinite(lost[i]) and lost[i] >= options.budget_lost_share:
            why = (
                f"budget-limited: {lost[i]:.0%} of impressions lost to budget over the last "
                f"{recent.size} {period}s at about {level} a day"
            )
        elif (lost is None or not np.isfinite(lost[i])) and cv[i] < options.budget_flat_cv:
            why = (
                f"budget-limited: spend flat at about {level} a day (varied {cv[i]:.1%}) over the "
                f"last {recent.size} {period}s"
            )
        else:
            continue
        if highest[i] >= (1.0 + options.budget_step) * mean[i]:
            limits[i] = BudgetLimit(
                f"{why}; its response above that was seen earlier (up to {highest[i]:,.2f} a "
                "day), so its curve is used as fitted",
                held=False,
            )
        else:
            limits[i] = BudgetLimit(
                f"{why}, so its response above the budget is unseen; moves are limited to "
                f"+-{options.budget_step:.0%} until the data show it",
                held=True,
            )
    return limits
