"""Events in the fit: outage days left out, promotions with their own factor, and unexplained runs
of days proposed as events."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from optimizer.errors import InvalidInputError
from optimizer.models import fit_account
from optimizer.models.context import FitContext
from optimizer.models.events import Event, detect_events
from optimizer.simulate import Scenario, Simulation, TrueEvent, simulate
from optimizer.simulate.generator import DEFAULT_START

DAYS = 150
END = DEFAULT_START + dt.timedelta(days=DAYS - 1)
PROMO = TrueEvent(END - dt.timedelta(days=23), END - dt.timedelta(days=10), "promo", 1.5)
OUTAGE = TrueEvent(END - dt.timedelta(days=60), END - dt.timedelta(days=55), "outage", 0.0)
SIZE = {"campaigns": 4, "keywords_per_campaign": 6, "days": DAYS}


@pytest.fixture(scope="module")
def promoted() -> Simulation:
    return simulate(**SIZE, seed=31, scenario=Scenario(events=(PROMO,)))


@pytest.fixture(scope="module")
def broken() -> Simulation:
    return simulate(**SIZE, seed=32, scenario=Scenario(events=(OUTAGE,)))


def _level(sim: Simulation, context: FitContext | None = None) -> float:
    """The fitted conversions at current spend on the week after the history (summed)."""
    curves = fit_account(sim.history, context=context)
    first = curves.window_end + dt.timedelta(days=1)
    days = [first + dt.timedelta(days=i) for i in range(7)]
    return float(sum(c.expected(c.current_spend, d) for c in curves for d in days))


def _true_level(sim: Simulation) -> float:
    curves = fit_account(sim.history)
    first = curves.window_end + dt.timedelta(days=1)
    total = 0.0
    for c in curves:
        truth = sim.truth.curves[c.key]
        for i in range(7):
            day = first + dt.timedelta(days=i)
            ratio = (c.current_spend / truth.k) ** truth.shape
            calendar = truth.effects.dow[day.weekday()] * np.exp(
                truth.effects.trend_per_year * sim.truth.day_index(day) / 365
            )
            total += calendar * truth.vmax * ratio / (1 + ratio)
    return total


def test_a_marked_promotion_leaves_the_forecast_and_the_trend_alone(promoted: Simulation) -> None:
    marked = FitContext(events=(Event(PROMO.start, PROMO.end, "promo"),))
    true = _true_level(promoted)
    assert abs(_level(promoted, marked) / true - 1) < 0.05
    assert _level(promoted) / true - 1 > 0.08


def test_the_promotion_factor_is_estimated() -> None:
    sim = simulate(**SIZE, seed=33, scenario=Scenario(events=(PROMO,)))
    marked = FitContext(events=(Event(PROMO.start, PROMO.end, "promo"),))
    curves = fit_account(sim.history, context=marked)
    trends = [c.tau * 365 for c in curves]
    true = [e.trend_per_year for e in sim.truth.campaigns.values()]
    assert abs(np.mean(trends) - np.mean(true)) < 0.1


def test_excluded_outage_days_do_not_pull_the_curves_down(broken: Simulation) -> None:
    excluded = FitContext(events=(Event(OUTAGE.start, OUTAGE.end, "outage"),))
    assert abs(_level(broken, excluded) / _true_level(broken) - 1) < 0.05
    assert _level(broken) < _level(broken, excluded)


def test_unexplained_runs_are_proposed_and_ordinary_accounts_get_none(
    promoted: Simulation, broken: Simulation
) -> None:
    found = fit_account(promoted.history).proposed_events
    assert [e.kind for e in found] == ["promo"]
    covered = (min(found[0].end, PROMO.end) - max(found[0].start, PROMO.start)).days + 1
    assert covered >= 0.75 * ((PROMO.end - PROMO.start).days + 1)
    assert found[0].start >= PROMO.start - dt.timedelta(days=2)
    outage = fit_account(broken.history).proposed_events
    assert [e.kind for e in outage] == ["outage"]
    assert "tracking break or outage" in outage[0].reason
    assert fit_account(simulate(**SIZE, seed=34).history).proposed_events == ()


def test_known_events_are_not_proposed_again(promoted: Simulation) -> None:
    marked = FitContext(events=(Event(PROMO.start, PROMO.end, "promo"),))
    assert fit_account(promoted.history, context=marked).proposed_events == ()


def test_detection_needs_a_run_or_one_very_unusual_day() -> None:
    first = dt.date(2026, 1, 1)
    expected = np.full(60, 100.0)
    observed = expected.copy()
    assert detect_events(first, observed, expected) == []
    observed[20] = 130.0
    assert detect_events(first, observed, expected) == []
    observed[[30, 31, 32]] = 130.0
    run = detect_events(first, observed, expected)
    assert [(e.start, e.end, e.kind) for e in run] == [
        (dt.date(2026, 1, 31), dt.date(2026, 2, 2), "promo")
    ]
    observed[45] = 0.0
    dark = detect_events(first, observed, expected)[-1]
    day = dt.date(2026, 2, 15)
    assert (dark.start, dark.end, dark.kind) == (day, day, "outage")


@pytest.mark.parametrize(
    ("start", "end", "kind"),
    [
        (dt.date(2026, 3, 2), dt.date(2026, 3, 1), "promo"),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 2), "holiday"),
        (dt.date(2025, 1, 1), dt.date(2026, 3, 2), "exclude"),
    ],
    ids=["ends-before-start", "unknown-kind", "longer-than-a-year"],
)
def test_bad_events_are_refused(start: dt.date, end: dt.date, kind: str) -> None:
    with pytest.raises(InvalidInputError):
        Event(start, end, kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "lift"),
    [
        pytest.param("outage", 1.5, id="not-a-promotion"),
        pytest.param("promo", 0.0, id="zero"),
        pytest.param("promo", -1.0, id="negative"),
        pytest.param("promo", 10.5, id="above-the-most"),
        pytest.param("promo", float("nan"), id="nan"),
        pytest.param("promo", float("inf"), id="infinite"),
    ],
)
def test_a_stated_lift_belongs_to_a_promotion_and_is_a_sane_factor(kind, lift) -> None:
    with pytest.raises(InvalidInputError, match="lift"):
        Event(END, END, kind, lift)


def test_planned_lift_weighs_the_days_a_stated_promotion_covers() -> None:
    from optimizer.models.events import planned_lift

    days = [END + dt.timedelta(days=i) for i in range(6)]
    events = (
        Event(days[1], days[3], "promo", 1.5),
        Event(days[3], days[4], "promo", 2.0),
        Event(days[0], days[5], "promo"),
        Event(days[0], days[5], "outage"),
    )
    assert planned_lift(events, days).tolist() == [1.0, 1.5, 1.5, 3.0, 2.0, 1.0]
