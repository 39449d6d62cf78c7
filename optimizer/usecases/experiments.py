"""Spend tests as a use case: suggest them, run them inside the published plan, read them out.

The plan policy's `exploration_share` lets publish move that share of the day's budget into the
best-ranked tests (`optimizer.experiments`): each tested entity's spend is pinned to its design's
multiple of the spend planned when the test began, clipped to the entity's allowed range (trust
region, change limits), and the solver spreads the rest of the budget over the others, so the cap
holds as for any plan. Tests never start on entities a person bounded or locked; a running test
stops when the cap tightens or is spent, or a person locks its entity. The published plan's notes
say which part of each tested budget is the test's. Once a test's days have matured in the
performance data, the read-out scores it against the curves fitted since.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, update

from optimizer.access import Action, Principal, require, require_account
from optimizer.errors import InfeasibleError
from optimizer.experiments import (
    Design,
    candidates,
    local_elasticity,
    pick_tests,
    rank_tests,
    readout_figures,
    schedule,
)
from optimizer.families import derivative
from optimizer.models import CurveSet
from optimizer.money import micros_to_decimal, minor_unit_micros
from optimizer.planning import DayPlan, plan_day
from optimizer.schema import MICROS, NAME_COLUMNS, EntityKey, to_model_frame
from optimizer.solver import AllocationRequest, Bounds
from optimizer.solver.bounds import entity_bounds
from optimizer.store.curves import load_curve_set
from optimizer.store.engine import transaction
from optimizer.store.performance import select_stored
from optimizer.store.tables import experiments, performance
from optimizer.usecases.accounts import find_account
from optimizer.usecases.cap_pacing import CapBudget
from optimizer.usecases.policy import policy_for

__all__ = [
    "DEFAULT_DESIGN",
    "Experiment",
    "Exploration",
    "Suggestions",
    "explore",
    "list_experiments",
    "read_out",
    "read_out_account",
    "running",
    "save",
    "suggest",
]

DEFAULT_DESIGN = Design()
MATURE_DAYS = 7
"""Days after a test's last day before it is read out (its conversions still arrive before)."""
_MAX_TESTS = 3


@dataclass(frozen=True, slots=True)
class Experiment:
    """One spend test as stored (`readout` once scored)."""

    id: int
    entity_id: str
    label: str
    design: dict[str, Any]
    start_date: dt.date
    end_date: dt.date
    base_micros: int
    status: str
    stop_reason: str | None
    cap_id: int
    cap_micros: int
    curve_set_id: int
    elasticity_before: float
    sd_before: float
    predicted_sd_after: float
    expected_cost: float
    expected_gain: float
    readout: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        shown = dataclasses.asdict(self)
        shown["start_date"] = self.start_date.isoformat()
        shown["end_date"] = self.end_date.isoformat()
        return shown


@dataclass(frozen=True, eq=False)
class Suggestions:
    """Ranked tests for `day` (`optimizer.experiments.SUGGESTION_COLUMNS`) under `design`."""

    account: str
    day: dt.date
    design: Design
    multiples: tuple[float, ...]
    exploration_share: float
    ranked: pd.DataFrame


@dataclass(frozen=True, eq=False)
class _NewTest:
    entity_id: str
    label: str
    base_micros: int
    elasticity: float
    sd: float
    predicted_sd: float
    cost: float
    gain: float


@dataclass(frozen=True, eq=False)
class Exploration:
    """What publish does with tests today: the plan (with the tests' spends), tests to start,
    running tests that end or stop (id -> reason) and the notes the plan carries."""

    day_plan: DayPlan
    started: tuple[_NewTest, ...]
    stopped: dict[int, str]
    ended: tuple[int, ...]
    notes: tuple[dict[str, str], ...]


def running(connection: Connection, account_id: int) -> list[Experiment]:
    rows = connection.execute(
        select(experiments)
        .where(experiments.c.account_id == account_id, experiments.c.status == "running")
        .order_by(experiments.c.id)
    ).all()
    return [_experiment(r) for r in rows]


def _recently_tested(connection: Connection, account_id: int, since: dt.date) -> set[str]:
    rows = connection.execute(
        select(experiments.c.entity_id).where(
            experiments.c.account_id == account_id, experiments.c.end_date >= since
        )
    ).scalars()
    return {str(r) for r in rows}


def explore(
    connection: Connection,
    account_id: int,
    curve_set: CurveSet,
    request: AllocationRequest,
    day: dt.date,
    day_plan: DayPlan,
    budgeted: CapBudget,
    share: float,
    design: Design = DEFAULT_DESIGN,
) -> Exploration:
    """Today's tests: stop or end running ones, start new ones within `share` of the budget, and
    plan the day with the tests' spends pinned (the plan as given when nothing is tested)."""
    tests = running(connection, account_id)
    held = _person_held(request)
    stopped: dict[int, str] = {}
    ended: list[int] = []
    active: list[Experiment] = []
    known = {c.entity_id for c in curve_set}
    for test in tests:
        if test.end_date < day:
            ended.append(test.id)
        elif budgeted.cap_reached:
            stopped[test.id] = "the cap is spent"
        elif budgeted.cap.amount_micros < test.cap_micros:
            stopped[test.id] = (
                f"the cap tightened ({test.cap_micros / MICROS:,.2f} -> "
                f"{budgeted.cap.amount_micros / MICROS:,.2f})"
            )
        elif test.entity_id in held:
            stopped[test.id] = "a person bounded or locked the entity"
        elif test.entity_id not in known:
            stopped[test.id] = "the entity has no fitted curve any more"
        else:
            active.append(test)
    budget = day_plan.allocation.budget_micros or day_plan.allocation.total_micros
    planned = day_plan.allocation.entities.set_index("entity_id")["recommended_spend"]
    started: list[_NewTest] = []
    if share > 0 and not budgeted.cap_reached:
        used = sum(design.step * t.base_micros / MICROS for t in active if t.start_date <= day)
        table = candidates(
            curve_set,
            day,
            {str(k): float(v) for k, v in planned.items()},
            max_increase=request.max_increase,
            max_decrease=request.max_decrease,
        )
        multiples = schedule(
            design, max_increase=request.max_increase, max_decrease=request.max_decrease
        )
        ranked = rank_tests(table, design, multiples)
        recent = _recently_tested(connection, account_id, day - dt.timedelta(design.horizon_days))
        chosen = pick_tests(
            ranked,
            budget=budget / MICROS,
            share=share,
            step=design.step,
            used=used,
            excluded=frozenset(held | recent | {t.entity_id for t in active}),
            max_tests=max(0, _MAX_TESTS - len(active)),
        )
        for row in chosen.to_dict("records"):
            started.append(
                _NewTest(
                    entity_id=str(row["entity_id"]),
                    label=_label(row),
                    base_micros=round(float(row["spend"]) * MICROS),
                    elasticity=float(row["elasticity"]),
                    sd=float(row["elasticity_sd"]),
                    predicted_sd=float(row["predicted_sd_after"]),
                    cost=float(row["cost"]),
                    gain=float(row["gain"]),
                )
            )
    pinned = [
        (t.entity_id, t.label, t.base_micros, t.design["multiples"][(day - t.start_date).days])
        for t in active
    ]
    if started:
        multiples = schedule(
            design, max_increase=request.max_increase, max_decrease=request.max_decrease
        )
        pinned += [(t.entity_id, t.label, t.base_micros, multiples[0]) for t in started]
    if not pinned:
        return Exploration(day_plan, tuple(started), stopped, tuple(ended), ())
    tested_plan, notes = _plan_with_tests(curve_set, request, day, day_plan, pinned)
    return Exploration(tested_plan, tuple(started), stopped, tuple(ended), tuple(notes))


def _plan_with_tests(
    curve_set: CurveSet,
    request: AllocationRequest,
    day: dt.date,
    day_plan: DayPlan,
    pinned: Sequence[tuple[str, str, int, float]],
) -> tuple[DayPlan, list[dict[str, str]]]:
    table = curve_set.table(day)
    unit = minor_unit_micros(request.currency)
    allowed = entity_bounds(table, request, unit)
    position = {str(e): i for i, e in enumerate(table["entity_id"])}
    fixed: dict[str, Bounds] = dict(request.entity_bounds)
    spends: dict[str, int] = {}
    for entity, _, base, multiple in pinned:
        i = position[entity]
        wanted = int(base * multiple) // unit * unit
        micros = int(min(max(wanted, allowed.lower_micros[i]), allowed.upper_micros[i]))
        fixed[entity] = Bounds(micros, micros)
        spends[entity] = micros
    budget = day_plan.allocation.budget_micros
    try:
        tested = plan_day(
            curve_set, dataclasses.replace(request, entity_bounds=fixed, budget_micros=budget), day
        )
    except InfeasibleError as exc:
        return day_plan, [
            {"kind": "experiment", "text": f"spend tests paused today: {exc.message}"}
        ]
    planned = day_plan.allocation.entities.set_index("entity_id")["recommended_micros"]
    currency = request.currency
    notes = []
    for entity, label, base, multiple in pinned:
        micros = spends[entity]
        without = int(planned.get(entity, 0))
        notes.append(
            {
                "kind": "experiment",
                "text": f"{label}: {_money(micros, currency)} {currency} a day, of which "
                f"{_money(micros - without, currency, signed=True)} {currency} is a spend test "
                f"({multiple - 1:+.0%} on the {_money(base, currency)} {currency} planned when "
                f"it began; {_money(without, currency)} {currency} without the test)",
            }
        )
    return dataclasses.replace(day_plan, allocation=tested.allocation), notes


def save(
    connection: Connection,
    account_id: int,
    exploration: Exploration,
    *,
    day: dt.date,
    cap_id: int,
    cap_micros: int,
    curve_set_id: int,
    request: AllocationRequest,
    design: Design = DEFAULT_DESIGN,
) -> None:
    """Store today's changes to the account's tests (in publish's transaction)."""
    for test_id, reason in exploration.stopped.items():
        connection.execute(
            update(experiments)
            .where(experiments.c.id == test_id)
            .values(status="stopped", stop_reason=reason)
        )
    if exploration.ended:
        connection.execute(
            update(experiments)
            .where(experiments.c.id.in_(exploration.ended))
            .values(status="ended")
        )
    if not exploration.started:
        return
    multiples = schedule(
        design, max_increase=request.max_increase, max_decrease=request.max_decrease
    )
    text = json.dumps({**dataclasses.asdict(design), "multiples": list(multiples)})
    now = dt.datetime.now(dt.UTC)
    connection.execute(
        insert(experiments),
        [
            {
                "account_id": account_id,
                "entity_id": t.entity_id,
                "label": t.label,
                "design": text,
                "start_date": day,
                "end_date": day + dt.timedelta(days=design.days - 1),
                "base_micros": t.base_micros,
                "status": "running",
                "cap_id": cap_id,
                "cap_micros": cap_micros,
                "curve_set_id": curve_set_id,
                "elasticity_before": t.elasticity,
                "sd_before": t.sd,
                "predicted_sd_after": t.predicted_sd,
                "expected_cost": t.cost,
                "expected_gain": t.gain,
                "created_at": now,
            }
            for t in exploration.started
        ],
    )


def suggest(
    engine: Engine,
    principal: Principal,
    account_name: str,
    day: dt.date | None = None,
    design: Design = DEFAULT_DESIGN,
) -> Suggestions:
    """Every entity's spend test ranked by value of information net of its cost, at the current
    spend (the policy's change limits bound what a test and a better-informed plan may move)."""
    require(principal, Action.CURVES_READ)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        stored = load_curve_set(connection, account.id)
        _, policy = policy_for(connection, account.id)
    curve_set = stored.curve_set
    when = day if day is not None else curve_set.window_end + dt.timedelta(days=1)
    request = policy.request(account.currency)
    multiples = schedule(
        design, max_increase=request.max_increase, max_decrease=request.max_decrease
    )
    table = candidates(
        curve_set,
        when,
        {c.entity_id: c.current_spend for c in curve_set},
        max_increase=request.max_increase,
        max_decrease=request.max_decrease,
    )
    return Suggestions(
        account.name, when, design, multiples, policy.exploration_share,
        rank_tests(table, design, multiples),
    )  # fmt: skip


def list_experiments(engine: Engine, principal: Principal, account_name: str) -> list[Experiment]:
    """The account's tests, newest first."""
    require(principal, Action.CURVES_READ)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        rows = connection.execute(
            select(experiments)
            .where(experiments.c.account_id == account.id)
            .order_by(experiments.c.id.desc())
        ).all()
    return [_experiment(r) for r in rows]


def read_out(connection: Connection, account_id: int) -> list[Experiment]:
    """Score every ended test whose days have matured, with the newest curves (status 'scored').

    Elasticity and band before (stored when it began) and after (the newest fit at the same
    spend), the conversions it cost by the newest curve (net of the spend it moved, valued at
    the marginal return), its tested entity's conversions against the ledger's predictions, and
    the plan's move the new elasticity implies."""
    newest = connection.execute(
        select(func.max(performance.c.date)).where(performance.c.account_id == account_id)
    ).scalar_one()
    if newest is None:
        return []
    due = connection.execute(
        select(experiments).where(
            experiments.c.account_id == account_id,
            experiments.c.status == "ended",
            experiments.c.end_date <= newest - dt.timedelta(days=MATURE_DAYS),
        )
    ).all()
    if not due:
        return []
    stored = load_curve_set(connection, account_id)
    curves = {c.entity_id: c for c in stored.curve_set}
    scored = []
    for row in due:
        test = _experiment(row)
        curve = curves.get(test.entity_id)
        if curve is None:
            continue
        frame = to_model_frame(
            select_stored(connection, account_id, test.start_date, test.end_date)
        )
        ids = [_id(frame, i) for i in range(len(frame))]
        mine = frame.loc[[i == test.entity_id for i in ids]]
        days = pd.to_datetime(mine["date"]).dt.date.tolist()
        spends = mine["spend"].to_numpy(dtype=np.float64)
        factors = np.array([curve.multiplier(d) for d in days], dtype=np.float64)
        base = test.base_micros / MICROS
        e_after, sd_after = local_elasticity(curve, base, stored.curve_set.band_scale)
        params = {k: np.float64(v) for k, v in curve.params.items()}
        slope = float(derivative(curve.lookup_name, params, np.array([base]))[0])
        cost, move = readout_figures(
            base=base,
            spends=spends,
            multipliers=factors,
            f_at=np.asarray(curve.expected(spends)),
            f_base=float(curve.expected(base)),
            slope_base=slope,
            e_before=test.elasticity_before,
            e_after=e_after,
            low_ratio=min(curve.trust_low / base, 1.0),
            high_ratio=max(curve.trust_high / base, 1.0),
        )
        readout = {
            "elasticity_before": test.elasticity_before,
            "band_before": _band(test.elasticity_before, test.sd_before),
            "elasticity_after": e_after,
            "band_after": _band(e_after, sd_after),
            "sd_before": test.sd_before,
            "sd_after": sd_after,
            "predicted_sd_after": test.predicted_sd_after,
            "days_seen": len(days),
            "spend_tested": float(spends.sum()),
            "conversions": float(mine["conversions"].sum()),
            "conversions_cost": cost,
            "expected_cost": test.expected_cost,
            "plan_move": move,
            "plan_changed": abs(move - 1.0) >= 0.05,
            "curve_set_version": stored.version,
        }
        connection.execute(
            update(experiments)
            .where(experiments.c.id == test.id)
            .values(status="scored", readout=json.dumps(readout, allow_nan=False, default=_nan))
        )
        scored.append(dataclasses.replace(test, status="scored", readout=readout))
    return scored


def read_out_account(engine: Engine, account_name: str) -> list[Experiment]:
    """`read_out` for the account by name (the nightly job's step)."""
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        return read_out(connection, account.id)


def _band(e: float, sd: float) -> list[float] | None:
    if not np.isfinite(sd):
        return None
    return [e - 1.2815515655446004 * sd, e + 1.2815515655446004 * sd]


def _nan(value: object) -> object:
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _id(frame: pd.DataFrame, i: int) -> str:
    from optimizer.models.curves import entity_id

    return entity_id(EntityKey(*(str(frame[n].iloc[i]) for n in NAME_COLUMNS)))


def _person_held(request: AllocationRequest) -> set[str]:
    return {str(e) for e in request.locked} | {str(e) for e in request.entity_bounds}


def _label(row: Mapping[Hashable, Any]) -> str:
    parts = [str(row["campaign"]), str(row["keyword"])]
    return " / ".join(p for p in parts if p and p != "nan")


def _money(micros: int, currency: str, *, signed: bool = False) -> str:
    shown = str(micros_to_decimal(abs(micros), currency))
    return ("-" if micros < 0 else "+") + shown if signed else shown


def _experiment(row: Any) -> Experiment:
    r = row._mapping
    return Experiment(
        id=int(r["id"]),
        entity_id=str(r["entity_id"]),
        label=str(r["label"]),
        design=json.loads(r["design"]),
        start_date=r["start_date"],
        end_date=r["end_date"],
        base_micros=int(r["base_micros"]),
        status=str(r["status"]),
        stop_reason=r["stop_reason"],
        cap_id=int(r["cap_id"]),
        cap_micros=int(r["cap_micros"]),
        curve_set_id=int(r["curve_set_id"]),
        elasticity_before=float(r["elasticity_before"]),
        sd_before=float(r["sd_before"]),
        predicted_sd_after=float(r["predicted_sd_after"]),
        expected_cost=float(r["expected_cost"]),
        expected_gain=float(r["expected_gain"]),
        readout=None if r["readout"] is None else json.loads(r["readout"]),
    )
