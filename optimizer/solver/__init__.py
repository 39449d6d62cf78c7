"""The budget-allocation LP: curve table + request -> allocation, frontier and daily pacing.

Pure core (numpy, pandas, scipy.sparse, highspy, PuLP): no database, no web.
"""

from optimizer.solver.allocate import allocate
from optimizer.solver.frontier import DEFAULT_FRACTIONS, FRONTIER_COLUMNS, Frontier, budget_frontier
from optimizer.solver.options import (
    AllocationRequest,
    Bounds,
    Group,
    Objective,
    SharedBudget,
    SolverName,
)
from optimizer.solver.pacing import OVERDELIVERY_FACTOR, PacingPlan, daily_budget
from optimizer.solver.period import PeriodPlan, period_budget, plan_period
from optimizer.solver.result import ENTITY_COLUMNS, Allocation

__all__ = [
    "DEFAULT_FRACTIONS",
    "ENTITY_COLUMNS",
    "FRONTIER_COLUMNS",
    "OVERDELIVERY_FACTOR",
    "Allocation",
    "AllocationRequest",
    "Bounds",
    "Frontier",
    "Group",
    "Objective",
    "PacingPlan",
    "PeriodPlan",
    "SharedBudget",
    "SolverName",
    "allocate",
    "budget_frontier",
    "daily_budget",
    "period_budget",
    "plan_period",
]
