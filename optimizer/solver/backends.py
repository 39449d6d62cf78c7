"""Solving a LinearProgram with HiGHS (highspy, arrays passed directly) or CBC (through PuLP).

Measured on this LP shape (bench/solver_lp.py): HiGHS's interior-point method with presolve and
crossover off, fed numpy arrays, is the fastest at every size, so "auto" picks it. HiGHS's default
dual simplex is roughly quadratic here and its presolve's parallel-column rule slow (every segment
of a group is parallel to the others); interior point without crossover is near linear. The PuLP +
CBC path builds the same model with PuLP's batch APIs (variables named by index, never by campaign)
and is the fallback when highspy is missing. A session keeps its model, so a frontier changes the
cap's right-hand side and solves again without rebuilding. Each re-solve runs interior point from
scratch: warm-started dual simplex was faster only below ~10,000 entities and took minutes at
100,000 (its pivots grow with the columns).

Whatever a solver reports (a status, a refusal, an exception) becomes an `optimizer.errors` error in
one place, `_raise_for_outcome`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt

from optimizer.errors import InfeasibleError, SolverError
from optimizer.solver.curves import FloatArray
from optimizer.solver.model import LinearProgram
from optimizer.solver.options import SolverName

__all__ = [
    "HIGHS_MIP_OPTIONS",
    "HIGHS_OPTIONS",
    "MIP_COLUMN_LIMIT",
    "LpSolution",
    "PulpModel",
    "Session",
    "available_solvers",
    "build_pulp_model",
    "open_session",
]

_log = logging.getLogger(__name__)

Outcome = Literal["optimal", "infeasible", "unbounded", "failed"]

HIGHS_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {"solver": "ipm", "run_crossover": "off", "presolve": "off"}
)
"""HiGHS options chosen by measurement (bench/solver_lp.py): interior point, no crossover, no
presolve."""
HIGHS_MIP_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {"solver": "choose", "run_crossover": "on", "presolve": "off", "mip_rel_gap": 1e-6}
)
"""For a programme with binary columns (S-shaped entities): HiGHS's branch and cut, which needs
the simplex (a "solver" of "ipm" would solve the relaxation only), closing the gap to 1e-6; its
presolve took twice as long as the solve on this shape (bench, optimise section)."""
MIP_COLUMN_LIMIT = 20_000
"""Above this many columns the simplex under branch and cut grows too slow (17 s for 10,000
entities against about 1 s for interior point): relax and fix instead."""
_FRACTIONAL = 1e-6
_ENUMERATED = 3
_IIS_FROM_LP = 2
Engine = Literal["highs", "cbc"]


@dataclass(frozen=True, eq=False)
class LpSolution:
    """Column values and, per row, d(objective)/d(row bound) (NaN where the solver gave none)."""

    values: FloatArray
    row_duals: FloatArray
    solver: str


class Session(Protocol):
    """A built model that can be solved, changed and solved again."""

    name: str

    def solve(self) -> LpSolution: ...

    def set_row_upper(self, row: int, upper: float) -> None: ...

    def set_costs(self, costs: FloatArray) -> None: ...

    def conflicting_rows(self) -> list[int] | None:
        """Rows of an irreducible infeasible subset, when the solver can find one."""


def _raise_for_outcome(outcome: Outcome, solver: str, detail: str) -> None:
    if outcome == "optimal":
        return
    if outcome == "infeasible":
        raise InfeasibleError("no allocation satisfies all constraints together")
    raise SolverError(f"the LP solver ({solver}) failed: {detail}")


def available_solvers() -> tuple[Engine, ...]:
    found: list[Engine] = []
    if importlib.util.find_spec("highspy") is not None:
        found.append("highs")
    if _cbc_command() is not None:
        found.append("cbc")
    return tuple(found)


def open_session(
    program: LinearProgram,
    solver: SolverName = "auto",
    *,
    highs_options: Mapping[str, Any] | None = None,
) -> Session:
    """Build the model in the chosen solver, falling back to the other one with a warning.

    A programme with binary columns above `MIP_COLUMN_LIMIT` columns is solved by relaxing and
    fixing (`_RelaxAndFix`); a smaller one by the solver's own branch and cut.
    highs_options: replace `HIGHS_OPTIONS` (for measurements).
    """
    if program.is_mip and program.columns > MIP_COLUMN_LIMIT and highs_options is None:
        return _RelaxAndFix(program, solver)
    return _open_engine(program, solver, highs_options)


def _open_engine(
    program: LinearProgram, solver: SolverName, highs_options: Mapping[str, Any] | None
) -> Session:
    preferred: tuple[Engine, Engine] = ("cbc", "highs") if solver == "cbc" else ("highs", "cbc")
    found = available_solvers()
    for engine in preferred:
        if engine not in found:
            continue
        if engine != preferred[0]:
            _log.warning("LP solver '%s' is not available; using '%s'", preferred[0], engine)
        if engine == "highs":
            return _HighsSession(program, options=highs_options)
        return _PulpCbcSession(program)
    raise SolverError("no LP solver is available: install highspy, or PuLP with its CBC binary")


class _HighsSession:
    name = "highs"

    _OUTCOMES: ClassVar[dict[str, Outcome]] = {
        "kOptimal": "optimal",
        "kInfeasible": "infeasible",
        "kUnboundedOrInfeasible": "infeasible",
        "kUnbounded": "unbounded",
    }
    _RETRYABLE = frozenset({"kUnknown", "kIterationLimit", "kTimeLimit", "kSolveError"})

    def __init__(
        self,
        program: LinearProgram,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        import highspy

        self._hs = highspy
        self._highs = _new_highs()
        self._row_lower = program.row_lower.copy()
        default = HIGHS_MIP_OPTIONS if program.is_mip else HIGHS_OPTIONS
        self._chosen = dict(default if options is None else options)
        self._options(output_flag=False, **self._chosen)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = program.columns
        lp.num_row_ = len(program.rows)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = program.offset
        lp.col_cost_ = program.costs
        lp.col_lower_ = (
            np.zeros(program.columns) if program.col_lower is None else program.col_lower
        )
        lp.col_upper_ = np.ones(program.columns) if program.col_upper is None else program.col_upper
        lp.row_lower_ = np.where(np.isfinite(program.row_lower), program.row_lower, -inf)
        lp.row_upper_ = np.where(np.isfinite(program.row_upper), program.row_upper, inf)
        matrix = program.matrix
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(np.float64)
        if program.is_mip and program.integral is not None:
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            lp.integrality_ = [kinds[int(flag)] for flag in program.integral]
        self._mip = program.is_mip
        self._call("passModel", self._highs.passModel(lp))

    def _options(self, **values: Any) -> None:
        for key, value in values.items():
            self._call(f"option {key}", self._highs.setOptionValue(key, value))

    def _call(self, what: str, status: Any) -> None:
        if status == self._hs.HighsStatus.kError:
            _raise_for_outcome("failed", self.name, f"HiGHS rejected {what}")

    def solve(self) -> LpSolution:
        status, detail = self._run()
        if status in self._RETRYABLE and not self._mip:
            _log.warning("HiGHS interior point ended with %s; retrying with simplex", status)
            self._options(solver="simplex", presolve="on")
            status, detail = self._run()
            self._options(**self._chosen)
        _raise_for_outcome(self._OUTCOMES.get(status, "failed"), self.name, detail)
        solution = self._highs.getSolution()
        duals = np.asarray(solution.row_dual, dtype=np.float64)
        if self._mip:
            duals = np.full(len(self._row_lower), np.nan)
        return LpSolution(
            values=np.clip(np.asarray(solution.col_value, dtype=np.float64), 0.0, 1.0),
            row_duals=duals,
            solver=self.name,
        )

    def _run(self) -> tuple[str, str]:
        """Run HiGHS; (model status name, its description), or ("error", message) if it raised."""
        try:
            self._highs.run()
        except Exception as exc:  # highspy raises its own and RuntimeError types
            return "error", str(exc)
        status = self._highs.getModelStatus()
        return status.name, self._highs.modelStatusToString(status)

    def set_row_upper(self, row: int, upper: float) -> None:
        bound = upper if np.isfinite(upper) else self._hs.kHighsInf
        lower = self._row_lower[row]
        lower = lower if np.isfinite(lower) else -self._hs.kHighsInf
        self._call("changeRowBounds", self._highs.changeRowBounds(row, lower, bound))

    def set_costs(self, costs: FloatArray) -> None:
        cols = np.arange(len(costs), dtype=np.int32)
        self._call("changeColsCost", self._highs.changeColsCost(len(costs), cols, costs))

    def conflicting_rows(self) -> list[int] | None:
        self._options(iis_strategy=_IIS_FROM_LP)
        try:
            status, iis = self._highs.getIis()
        except Exception:  # an IIS is a courtesy; the caller names every row without one
            return None
        if status == self._hs.HighsStatus.kError or not iis.valid_:
            return None
        return sorted({int(i) for i in iis.row_index_})


class _RelaxAndFix:
    """A programme with binary columns solved through its relaxation.

    Each binary column is an S-shaped entity's entry chord, and relaxed it is the chord of the
    curve's concave envelope: the relaxation is the problem on concave envelopes, solved by
    interior point like any allocation. Where its answer takes every chord whole or not at all it
    is optimal for the binary problem too (the relaxation's optimum is reached). Chords left
    partly taken (at most a few: those whose slope equals the marginal return) are fixed both ways
    and solved again, every combination of up to three of them, otherwise the most taken as many
    as the relaxation's share of them (give or take two); the best answer is kept.
    """

    name = "highs"

    def __init__(self, program: LinearProgram, solver: SolverName) -> None:
        self._program = dataclasses.replace(program, integral=None)
        self._binary = np.flatnonzero(program.integral if program.integral is not None else [])
        self._solver = solver
        self._relaxed = _open_engine(self._program, solver, None)
        self.name = self._relaxed.name

    def solve(self) -> LpSolution:
        relaxed = self._relaxed.solve()
        values = relaxed.values[self._binary]
        partial = self._binary[(values > _FRACTIONAL) & (values < 1.0 - _FRACTIONAL)]
        if partial.size == 0:
            return relaxed
        fixed = np.round(relaxed.values[self._binary])
        best: LpSolution | None = None
        for choice in self._choices(partial, relaxed.values):
            lower = np.zeros(self._program.columns)
            upper = np.ones(self._program.columns)
            lower[self._binary] = upper[self._binary] = fixed
            lower[partial] = upper[partial] = choice
            trial = dataclasses.replace(self._program, col_lower=lower, col_upper=upper)
            try:
                found = _open_engine(trial, self._solver, None).solve()
            except InfeasibleError:
                continue
            if best is None or self._value(found) > self._value(best):
                best = found
        if best is None:
            raise InfeasibleError("no allocation satisfies all constraints together")
        return LpSolution(best.values, np.full(len(self._program.rows), np.nan), self.name)

    def _choices(self, partial: npt.NDArray[np.intp], values: FloatArray) -> list[FloatArray]:
        """Every combination of up to `_ENUMERATED` partly taken chords; beyond, the most taken
        j of them, for j around their summed share (what the relaxation spent on them)."""
        if partial.size <= _ENUMERATED:
            return [np.array(c, dtype=np.float64) for c in np.ndindex(*(2,) * partial.size)]
        share = values[partial]
        order = np.argsort(-share, kind="stable")
        mass = float(share.sum())
        counts = sorted({j for j in range(int(mass) - 1, int(mass) + 3) if 0 <= j <= partial.size})
        choices = []
        for count in counts:
            choice = np.zeros(partial.size)
            choice[order[:count]] = 1.0
            choices.append(choice)
        return choices

    def _value(self, solution: LpSolution) -> float:
        return float(self._program.costs @ solution.values)

    def set_row_upper(self, row: int, upper: float) -> None:
        bounds = self._program.row_upper.copy()
        bounds[row] = upper
        self._program = dataclasses.replace(self._program, row_upper=bounds)
        self._relaxed.set_row_upper(row, upper)

    def set_costs(self, costs: FloatArray) -> None:
        self._program = self._program.with_costs(costs, self._program.offset)
        self._relaxed.set_costs(costs)

    def conflicting_rows(self) -> list[int] | None:
        return self._relaxed.conflicting_rows()


class _BannerGuard:
    """HiGHS prints a banner on stdout when the first solver object is made; keep stdout clean."""

    lock = threading.Lock()
    shown = False


def _new_highs() -> Any:
    import highspy

    make: Callable[[], Any] = highspy.Highs
    with _BannerGuard.lock:
        if _BannerGuard.shown:
            return make()
        _BannerGuard.shown = True
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):
            return make()
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                return make()
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _cbc_command() -> Any:
    """PuLP's CBC command on the bundled binary (PuLP 3.x) or a `cbc` on PATH; None if neither."""
    try:
        import pulp
    except ImportError:
        return None
    bundled = getattr(getattr(pulp, "PULP_CBC_CMD", None), "pulp_cbc_path", None)
    path = bundled if bundled and os.access(bundled, os.X_OK) else None
    command = pulp.COIN_CMD(path=path, msg=False)
    return command if command.available() else None


@dataclass(frozen=True, eq=False)
class PulpModel:
    """A LinearProgram as a PuLP problem: variables `y_<column>`, and each row's constraints
    (`r<row>`; a ranged row becomes `r<row>_lo` and `r<row>_up`). Names never carry campaign names,
    which PuLP would mangle into collisions or invalid LP files."""

    problem: Any
    variables: list[Any]
    constraints: list[list[Any]]


def build_pulp_model(program: LinearProgram) -> PulpModel:
    """Build with PuLP's batch APIs: one variable matrix, each expression from one dict."""
    import pulp

    problem = pulp.LpProblem("allocation", pulp.LpMaximize)
    variables = problem.add_variable_matrix("y", range(program.columns), lowBound=0, upBound=1)
    for bounds, side in ((program.col_lower, "lowBound"), (program.col_upper, "upBound")):
        if bounds is not None:
            for column in np.flatnonzero(bounds != (0.0 if side == "lowBound" else 1.0)):
                setattr(variables[int(column)], side, float(bounds[column]))
    if program.is_mip and program.integral is not None:
        for column in np.flatnonzero(program.integral):
            variables[int(column)].cat = pulp.LpInteger
    problem.setObjective(_pulp_expression(variables, program.costs))
    rows = program.matrix.tocsr()
    constraints = []
    for i in range(len(program.rows)):
        start, stop = rows.indptr[i], rows.indptr[i + 1]
        cols = rows.indices[start:stop].tolist()
        coefs = rows.data[start:stop].tolist()
        terms = {variables[c]: v for c, v in zip(cols, coefs, strict=True)}
        made = []
        for sense, name, rhs in _row_sides(i, program.row_lower[i], program.row_upper[i]):
            constraint = pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, name, rhs)
            problem.addConstraint(constraint)
            made.append(constraint)
        constraints.append(made)
    return PulpModel(problem, variables, constraints)


def _pulp_expression(variables: list[Any], costs: FloatArray) -> Any:
    import pulp

    return pulp.LpAffineExpression(zip(variables, costs.tolist(), strict=True))


def _row_sides(i: int, lower: float, upper: float) -> list[tuple[int, str, float]]:
    import pulp

    if np.isfinite(lower) and lower == upper:
        return [(pulp.LpConstraintEQ, f"r{i}", lower)]
    sides = []
    if np.isfinite(lower):
        sides.append((pulp.LpConstraintGE, f"r{i}_lo", lower))
    if np.isfinite(upper):
        sides.append((pulp.LpConstraintLE, f"r{i}_up", upper))
    return sides


def _pulp_dual(constraints: list[Any]) -> float:
    """A row's dual: the sum over its sides (one of them is zero), NaN when CBC gave none."""
    if not constraints or any(c.pi is None for c in constraints):
        return float("nan")
    return float(sum(c.pi for c in constraints))


class _PulpCbcSession:
    name = "cbc"

    def __init__(self, program: LinearProgram) -> None:
        import pulp

        self._pulp = pulp
        model = build_pulp_model(program)
        self._problem = model.problem
        self._vars = model.variables
        self._constraints = model.constraints

    _OUTCOMES: ClassVar[dict[int, Outcome]] = {1: "optimal", -1: "infeasible", -2: "unbounded"}

    def solve(self) -> LpSolution:
        command = _cbc_command()
        if command is None:
            _raise_for_outcome("failed", self.name, "the CBC binary is no longer available")
        with tempfile.TemporaryDirectory(prefix="ppcopt-cbc-") as folder:
            command.tmpDir = folder
            try:
                status = int(self._problem.solve(command))
                detail = str(self._pulp.LpStatus.get(status, status))
            except (self._pulp.PulpSolverError, OSError) as exc:
                status, detail = 0, str(exc)
        _raise_for_outcome(self._OUTCOMES.get(status, "failed"), self.name, detail)
        values = np.array([v.varValue or 0.0 for v in self._vars], dtype=np.float64)
        duals = np.array([_pulp_dual(row) for row in self._constraints], dtype=np.float64)
        return LpSolution(np.clip(values, 0.0, 1.0), duals, self.name)

    def set_row_upper(self, row: int, upper: float) -> None:
        side = [c for c in self._constraints[row] if c.sense != self._pulp.LpConstraintGE]
        if not side or not np.isfinite(upper):
            raise SolverError("only a row with a finite upper bound can take a new upper bound")
        side[0].changeRHS(upper)

    def set_costs(self, costs: FloatArray) -> None:
        self._problem.setObjective(_pulp_expression(self._vars, costs))

    def conflicting_rows(self) -> list[int] | None:
        return None
