"""Spend tests inside the published plan: chosen by value of information, inside the cap, never on
what a person locked, stopped when the cap tightens, said in the plan's notes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from optimizer.access import Role, system_principal
from optimizer.io import write_canonical_csv
from optimizer.simulate import Scenario, simulate
from optimizer.usecases import experiments, recommendations
from optimizer.usecases.accounts import create_account
from optimizer.usecases.caps import decide_cap, propose_cap
from optimizer.usecases.fit import fit
from optimizer.usecases.ingest import ingest
from optimizer.usecases.policy import PlanPolicy, set_policy

MANAGER = system_principal("cli:manager", Role.MANAGER)
FINANCE = [system_principal(f"cli:finance-{i}", Role.FINANCE) for i in (1, 2)]
START = dt.date(2026, 1, 5)
DAYS = 84
LAST = START + dt.timedelta(days=DAYS - 1)
DAY = LAST + dt.timedelta(days=1)


def _cap(engine: Engine, amount: str, replaces: int | None = None) -> int:
    cap = propose_cap(engine, FINANCE[0], "shop", period_start=DAY,
                      period_end=DAY + dt.timedelta(days=59), amount=amount, currency="EUR",
                      replaces=replaces)  # fmt: skip
    decide_cap(engine, FINANCE[1], cap.id, approve=True)
    return cap.id


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> Engine:
    """An account whose spend barely moved over 84 days (its curves' bends unsure), fitted, with
    a cap paying its current spend for 60 days."""
    sim = simulate(campaigns=2, keywords_per_campaign=4, days=DAYS, seed=0, start=START,
                   scenario=Scenario(spend_levels=(0.9, 1.1)))  # fmt: skip
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    write_canonical_csv(sim.history, tmp_path / "history.csv")
    ingest(engine, "shop", tmp_path / "history.csv")
    fit(engine, "shop")
    _cap(engine, "25000.00")
    return engine


def _publish(engine: Engine, share: float, day: dt.date = DAY, **policy: object):
    set_policy(engine, MANAGER, "shop", PlanPolicy(exploration_share=share, **policy))  # type: ignore[arg-type]
    return recommendations.publish(engine, MANAGER, "shop", day)


def test_suggestions_rank_every_entity_by_net_value(shop: Engine) -> None:
    found = experiments.suggest(shop, MANAGER, "shop")
    ranked = found.ranked
    assert len(ranked) == 9 and list(ranked["net"]) == sorted(ranked["net"], reverse=True)
    assert ranked["net"].iloc[0] > 0
    assert (ranked["predicted_sd_after"] <= ranked["elasticity_sd"] + 1e-12).all()


def test_the_plan_runs_the_best_tests_inside_the_cap_and_says_which_part_is_a_test(
    shop: Engine,
) -> None:
    published = _publish(shop, 0.05)
    tests = experiments.list_experiments(shop, MANAGER, "shop")
    assert tests and all(t.status == "running" for t in tests)
    assert published.total_micros <= published.budget_micros
    rows = {(r["campaign"], r["keyword"]): r["micros"] for r in published.payload["keyword"]}
    moved = 0
    for test in tests:
        campaign, _, keyword = test.label.partition(" / ")
        spend = rows[(campaign, keyword)]
        assert test.base_micros < spend <= test.base_micros * 1.3 + 1
        moved += spend - test.base_micros
        assert test.end_date - test.start_date == dt.timedelta(days=27)
        assert test.expected_gain > test.expected_cost
    assert moved <= 0.05 * published.budget_micros
    said = [n["text"] for n in published.notes if n["kind"] == "experiment"]
    assert len(said) == len(tests)
    assert all("is a spend test" in text for text in said)


def test_no_share_no_tests(shop: Engine) -> None:
    published = _publish(shop, 0.0)
    assert experiments.list_experiments(shop, MANAGER, "shop") == []
    assert not [n for n in published.notes if n["kind"] == "experiment"]


def test_tests_never_run_where_a_person_locked(shop: Engine) -> None:
    top = experiments.suggest(shop, MANAGER, "shop").ranked
    campaigns = sorted(set(top["campaign"]))
    _publish(shop, 0.1, locked_campaigns=tuple(campaigns[:-1]))
    tests = experiments.list_experiments(shop, MANAGER, "shop")
    assert all(t.label.split(" / ")[0] == campaigns[-1] for t in tests)


def test_a_tighter_cap_stops_the_running_tests(shop: Engine) -> None:
    published = _publish(shop, 0.05)
    assert experiments.list_experiments(shop, MANAGER, "shop")
    _cap(shop, "20000.00", replaces=published.cap.id)
    later = recommendations.publish(shop, MANAGER, "shop", DAY + dt.timedelta(days=1))
    tests = experiments.list_experiments(shop, MANAGER, "shop")
    stopped = [t for t in tests if t.status == "stopped"]
    assert stopped and all("cap tightened" in (t.stop_reason or "") for t in stopped)
    noted = [n for n in later.notes if n["kind"] == "experiment"]
    assert len(noted) == len(tests) - len(stopped)
