"""The allocation LP as plain arrays: one column per segment (scaled to [0, 1]), a handful of rows.

Entity i spends lower_i + sum_j length_ij * y_ij. Every row is written in the y variables, so a row
on total spend S reads `sum length * y <= S - sum lower`. Building arrays first keeps the model
cheap to hand to any solver, and to change (the cap's right-hand side for a frontier, the costs for
ratio searches) without rebuilding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from optimizer.errors import InvalidInputError
from optimizer.schema import MICROS
from optimizer.solver.curves import FloatArray, IntArray
from optimizer.solver.groups import ResolvedGroup
from optimizer.solver.options import AllocationRequest, Bounds, Group, SharedBudget
from optimizer.solver.segments import Segments

__all__ = [
    "Baseline",
    "LinearProgram",
    "RowInfo",
    "build_program",
    "campaign_limits",
    "group_amount_limits",
    "objective_costs",
]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class RowInfo:
    """What a row means: `label` names it in answers ("cap", "group:brand"); `members` are the
    entities it limits (None: all of them)."""

    kind: str
    label: str
    members: BoolArray | None


@dataclass(frozen=True, eq=False)
class LinearProgram:
    """maximise costs @ y + offset  s.t.  row_lower <= A y <= row_upper,  col_lower <= y <=
    col_upper (default 0 and 1), and y in {0, 1} for the `integral` columns."""

    costs: FloatArray
    offset: float
    matrix: sp.csc_array
    row_lower: FloatArray
    row_upper: FloatArray
    rows: tuple[RowInfo, ...]
    integral: npt.NDArray[np.bool_] | None = None
    col_lower: FloatArray | None = None
    col_upper: FloatArray | None = None

    @property
    def is_mip(self) -> bool:
        """Whether some columns must be 0 or 1 (S-shaped entities' entry chords)."""
        return self.integral is not None and bool(self.integral.any())

    @property
    def columns(self) -> int:
        return int(self.matrix.shape[1])

    def row_index(self, kind: str) -> int | None:
        return next((i for i, row in enumerate(self.rows) if row.kind == kind), None)

    def with_costs(self, costs: FloatArray, offset: float = 0.0) -> LinearProgram:
        return dataclasses.replace(self, costs=costs, offset=offset)

    def without_rows(self, drop: Sequence[int]) -> LinearProgram:
        lower, upper = self.row_lower.copy(), self.row_upper.copy()
        lower[list(drop)], upper[list(drop)] = -np.inf, np.inf
        return dataclasses.replace(self, row_lower=lower, row_upper=upper)


@dataclass(frozen=True, eq=False)
class Baseline:
    """Totals with every entity at its lower bound, and each column's value per unit of y."""

    spend: float
    conversions: float
    value: float
    column_spend: FloatArray
    column_conversions: FloatArray
    column_value: FloatArray

    @classmethod
    def of(
        cls,
        segments: Segments,
        lower: FloatArray,
        conversions_at_lower: FloatArray,
        value_per_conversion: FloatArray,
    ) -> Baseline:
        return cls(
            spend=float(lower.sum()),
            conversions=float(conversions_at_lower.sum()),
            value=float((conversions_at_lower * value_per_conversion).sum()),
            column_spend=segments.length,
            column_conversions=segments.gain,
            column_value=segments.gain * value_per_conversion[segments.owner],
        )


def objective_costs(request: AllocationRequest, base: Baseline) -> tuple[FloatArray, float]:
    """Column costs and constant of the objective (always maximised; min_cost maximises -cost)."""
    if request.objective == "conversions":
        return base.column_conversions, base.conversions
    if request.objective == "value":
        return base.column_value, base.value
    if request.objective == "profit":
        margin = float(request.margin or 0.0)
        return base.column_value * margin - base.column_spend, base.value * margin - base.spend
    return -base.column_spend, -base.spend


class _Rows:
    """Collects rows as (columns, coefficients, lower, upper, info) and assembles the matrix."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.entries: list[tuple[IntArray, FloatArray]] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.info: list[RowInfo] = []

    def add(
        self, cols: IntArray, coef: FloatArray, lower: float, upper: float, info: RowInfo
    ) -> None:
        self.entries.append((cols, coef))
        self.lower.append(lower)
        self.upper.append(upper)
        self.info.append(info)

    def matrix(self) -> sp.csc_array:
        if not self.entries:
            return sp.csc_array((0, self.columns), dtype=np.float64)
        rows = np.concatenate(
            [np.full(len(cols), i, dtype=np.int64) for i, (cols, _) in enumerate(self.entries)]
        )
        cols = np.concatenate([cols for cols, _ in self.entries])
        vals = np.concatenate([coef for _, coef in self.entries])
        return sp.csc_array((vals, (rows, cols)), shape=(len(self.entries), self.columns))


def build_program(
    request: AllocationRequest,
    table: pd.DataFrame,
    lower: FloatArray,
    unit: int,
    segments: Segments,
    base: Baseline,
    groups: Sequence[ResolvedGroup],
    limits: Mapping[str, tuple[int, int | None]],
    *,
    budget_micros: int | None,
) -> LinearProgram:
    """Objective and rows for the request, segments starting at `lower` (currency units, per
    entity); `budget_micros` None means no total cap."""
    cols = len(segments)
    everything = np.arange(cols, dtype=np.int64)
    length = segments.length
    rows = _Rows(cols)
    if budget_micros is not None:
        room = budget_micros / MICROS - float(lower.sum())
        rows.add(everything, length, -np.inf, room, RowInfo("cap", "cap", None))
    _campaign_rows(rows, limits, table, lower, segments)
    for resolved in groups:
        _group_rows(rows, resolved, lower, unit, segments)
    for shared in request.shared_budgets:
        _shared_rows(rows, shared, table, lower, segments)
    if request.target_cpa_micros is not None:
        cpa = request.target_cpa_micros / MICROS
        coef = length - cpa * base.column_conversions
        rhs = cpa * base.conversions - base.spend
        rows.add(everything, coef, -np.inf, rhs, RowInfo("target_cpa", "target_cpa", None))
    if request.target_roas is not None:
        roas = request.target_roas
        coef = base.column_value - roas * length
        rhs = roas * base.spend - base.value
        rows.add(everything, coef, rhs, np.inf, RowInfo("target_roas", "target_roas", None))
    if request.conversions_target is not None:
        rhs = request.conversions_target - base.conversions
        info = RowInfo("conversions_target", "conversions_target", None)
        rows.add(everything, base.column_conversions, rhs, np.inf, info)
    if segments.binary is not None:
        _entry_rows(rows, table, segments)
    costs, offset = objective_costs(request, base)
    return LinearProgram(
        costs=np.ascontiguousarray(costs, dtype=np.float64),
        offset=offset,
        matrix=rows.matrix(),
        row_lower=np.asarray(rows.lower, dtype=np.float64),
        row_upper=np.asarray(rows.upper, dtype=np.float64),
        rows=tuple(rows.info),
        integral=segments.binary,
    )


def _entry_rows(rows: _Rows, table: pd.DataFrame, segments: Segments) -> None:
    """For each S-shaped entity, its concave segments only once its entry chord is taken:
    sum(length_j y_j) - (their total length) y_entry <= 0."""
    assert segments.binary is not None
    ids = table["entity_id"].to_numpy()
    starts = np.concatenate([[0], np.cumsum(segments.count)[:-1]])
    for entity in np.unique(segments.owner[segments.binary]):
        first = int(starts[entity])
        rest = np.arange(first + 1, first + int(segments.count[entity]), dtype=np.int64)
        if rest.size == 0:
            continue
        cols = np.concatenate([[first], rest]).astype(np.int64)
        coef = np.concatenate([[-float(segments.length[rest].sum())], segments.length[rest]])
        members = np.zeros(len(table), dtype=bool)
        members[entity] = True
        rows.add(cols, coef, -np.inf, 0.0, RowInfo("entry", f"entry:{ids[entity]}", members))


def campaign_limits(
    request: AllocationRequest, table: pd.DataFrame, unit: int
) -> dict[str, tuple[int, int | None]]:
    """Per campaign (name): min and max total spend in micros on the minor-unit grid."""
    campaigns = table["campaign"].fillna("").astype(str)
    known = set(campaigns)
    unknown = sorted(set(request.campaign_bounds) - known)
    if unknown:
        raise InvalidInputError(f"campaign bounds name unknown campaigns: {', '.join(unknown[:5])}")
    limits: dict[str, tuple[int, int | None]] = {}
    current = table.groupby(campaigns, sort=False)["current_spend"].sum()
    names = set(request.campaign_bounds)
    if request.campaign_max_change is not None:
        names |= set(current.index[current > 0])
    for name in sorted(names):
        given = request.campaign_bounds.get(name, Bounds())
        low = given.minimum_micros or 0
        high = given.maximum_micros
        change = request.campaign_max_change
        if change is not None and current[name] > 0:
            low = max(low, round(current[name] * max(1.0 - change, 0.0) * MICROS))
            moved = round(current[name] * (1.0 + change) * MICROS)
            high = moved if high is None else min(high, moved)
        limits[name] = (-(-low // unit) * unit, None if high is None else (high // unit) * unit)
    return limits


def group_amount_limits(group: Group, unit: int) -> tuple[int | None, int | None]:
    """A group's floor and cap amounts in micros on the minor-unit grid (None: not set)."""
    low, high = group.min_amount_micros, group.max_amount_micros
    floor = -(-low // unit) * unit if low else None
    cap = None if high is None else (high // unit) * unit
    return floor, cap


def _campaign_rows(
    rows: _Rows,
    limits: Mapping[str, tuple[int, int | None]],
    table: pd.DataFrame,
    lower: FloatArray,
    segments: Segments,
) -> None:
    if not limits:
        return
    campaigns = table["campaign"].fillna("").astype(str).to_numpy(dtype=object)
    codes, names = pd.factorize(campaigns)
    column_codes = codes[segments.owner]
    order = np.argsort(column_codes, kind="stable")
    starts = np.searchsorted(column_codes[order], np.arange(len(names) + 1))
    lower_by_code = np.bincount(codes, weights=lower, minlength=len(names))
    for code, name in enumerate(names):
        if name not in limits:
            continue
        low, high = limits[name]
        floor = lower_by_code[code]
        cols = order[starts[code] : starts[code + 1]]
        rows.add(
            cols.astype(np.int64),
            segments.length[cols],
            low / MICROS - floor if low > 0 else -np.inf,
            np.inf if high is None else high / MICROS - floor,
            RowInfo("campaign", f"campaign:{name}", codes == code),
        )


def _group_rows(
    rows: _Rows, resolved: ResolvedGroup, lower: FloatArray, unit: int, segments: Segments
) -> None:
    group, members = resolved.group, resolved.members
    label = f"group:{group.name}"
    inside = members[segments.owner]
    floor = float(lower[members].sum())
    least, most = group_amount_limits(group, unit)
    if least is not None or most is not None:
        cols = np.flatnonzero(inside).astype(np.int64)
        low = -np.inf if least is None else least / MICROS - floor
        high = np.inf if most is None else most / MICROS - floor
        rows.add(cols, segments.length[cols], low, high, RowInfo("group", label, members))
    everything = np.arange(len(segments), dtype=np.int64)
    total_floor = float(lower.sum())
    for share, is_max in ((group.max_share, True), (group.min_share, False)):
        if share is None:
            continue
        coef = (inside.astype(np.float64) - share) * segments.length
        rhs = share * total_floor - floor
        low, high = (-np.inf, rhs) if is_max else (rhs, np.inf)
        rows.add(everything, coef, low, high, RowInfo("group_share", label, members))


def _shared_rows(
    rows: _Rows, shared: SharedBudget, table: pd.DataFrame, lower: FloatArray, segments: Segments
) -> None:
    """One variable per shared budget: each member campaign spends its share of the budget's total,
    x_c = w_c * sum(x_m), written in y as sum_c len y - w_c * sum_m len y = w_c * floor - floor_c.
    The last member's row follows from the others and is left out."""
    campaigns = table["campaign"].fillna("").astype(str).to_numpy(dtype=object)
    present = [c for c in shared.shares if (campaigns == c).any()]
    if len(present) < 2:
        return
    members = np.isin(campaigns, present)
    cols = np.flatnonzero(members[segments.owner]).astype(np.int64)
    owner_campaign = campaigns[segments.owner[cols]]
    floor = float(lower[members].sum())
    label = f"shared_budget:{shared.name}"
    for campaign in present[:-1]:
        share = shared.shares[campaign]
        mine = campaigns == campaign
        coef = segments.length[cols] * ((owner_campaign == campaign).astype(np.float64) - share)
        rhs = share * floor - float(lower[mine].sum())
        rows.add(cols, coef, rhs, rhs, RowInfo("shared_budget", label, members))
