"""Which shared budgets the LP can hold at their assumed split, given the entities' bounds.

A shared budget ties its campaigns' spends to one total X (campaign c spends w_c X). Bounds set
per campaign (max change, trust region, locks) allow X only in [max low_c / w_c, min high_c / w_c];
when that range is empty, or its floor alone would break the cap, the split cannot be honoured and
the campaigns are planned one by one instead (logged), rather than failing the whole plan.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from optimizer.schema import MICROS
from optimizer.solver.bounds import EntityBounds
from optimizer.solver.options import SharedBudget

__all__ = ["holdable_shared_budgets"]

_log = logging.getLogger(__name__)
_SLACK = 1e-9


def holdable_shared_budgets(
    shared: tuple[SharedBudget, ...],
    table: pd.DataFrame,
    bounds: EntityBounds,
    limits: Mapping[str, tuple[int, int | None]],
    budget_micros: int | None,
) -> tuple[SharedBudget, ...]:
    """The shared budgets whose split fits every member's bounds (and the cap), in order."""
    campaigns = table["campaign"].fillna("").astype(str)
    lower = pd.Series(bounds.lower, index=table.index).groupby(campaigns).sum()
    upper = pd.Series(bounds.upper, index=table.index).groupby(campaigns).sum()
    spare = None if budget_micros is None else budget_micros / MICROS - float(bounds.lower.sum())
    kept = []
    for budget in shared:
        present = [c for c in budget.shares if c in lower.index]
        if len(present) < 2:
            continue
        floor, ceiling = 0.0, np.inf
        for c in present:
            low, high = float(lower[c]), float(upper[c])
            if c in limits:
                least, most = limits[c]
                low = max(low, least / MICROS)
                high = high if most is None else min(high, most / MICROS)
            share = budget.shares[c]
            if share <= 0:
                floor = np.inf if low > _SLACK else floor
                continue
            floor, ceiling = max(floor, low / share), min(ceiling, high / share)
        raise_needed = floor - float(lower[present].sum())
        fits_cap = spare is None or raise_needed <= spare + _SLACK * max(1.0, floor)
        if floor <= ceiling * (1 + _SLACK) + _SLACK and fits_cap:
            kept.append(budget)
        else:
            _log.warning(
                "shared budget '%s': its assumed split does not fit its campaigns' bounds; "
                "planning them one by one",
                budget.name,
            )
    return tuple(kept)
