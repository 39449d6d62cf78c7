"""Budget-limited entities: recognised from the lost impression share or from flat spend, flagged
with a C and a reason, and given a small trust step around their current spend."""

from __future__ import annotations

import pytest

from optimizer.models import CurveSet, FitOptions, fit_account
from optimizer.schema import LOST_IS_BUDGET_COLUMN
from optimizer.simulate import Scenario, Simulation, simulate

SIZE = {"campaigns": 4, "keywords_per_campaign": 6, "days": 150}


@pytest.fixture(scope="module")
def limited() -> Simulation:
    """Budget-limited over the whole history: their response above the budget never shows."""
    return simulate(
        **SIZE,
        seed=71,
        scenario=Scenario(
            budget_limited_campaigns=2, budget_pinned_share=1.0, impression_share=True
        ),
    )


def _flags(sim: Simulation, curves: CurveSet) -> tuple[set[object], set[object]]:
    truly = {k for k, t in sim.truth.curves.items() if t.budget_limited}
    flagged = {c.key for c in curves if c.diagnostics.budget_limited}
    return truly, flagged


@pytest.mark.parametrize("column", [True, False], ids=["lost-is-column", "flat-spend"])
def test_budget_limited_entities_are_flagged_and_only_they(limited: Simulation, column: bool):
    history = limited.history if column else limited.history.drop(columns=LOST_IS_BUDGET_COLUMN)
    curves = fit_account(history)
    truly, flagged = _flags(limited, curves)
    assert flagged == truly
    for curve in curves:
        if curve.key in flagged:
            d = curve.diagnostics
            assert d.budget_held and d.grade == "C" and "budget-limited" in d.reason
            assert ("impressions lost to budget" in d.budget_reason) is column
            assert curve.trust_low == pytest.approx(0.9 * curve.current_spend)
            assert curve.trust_high == pytest.approx(1.1 * curve.current_spend)


def test_a_response_seen_before_the_budget_bit_is_used() -> None:
    sim = simulate(
        **SIZE, seed=72, scenario=Scenario(budget_limited_campaigns=2, impression_share=True)
    )
    curves = fit_account(sim.history)
    truly, flagged = _flags(sim, curves)
    assert flagged == truly
    for curve in curves:
        if curve.key in flagged:
            d = curve.diagnostics
            assert not d.budget_held and "seen earlier" in d.reason
            assert curve.trust_high > 1.2 * curve.current_spend


def test_the_step_is_configurable(limited: Simulation) -> None:
    curves = fit_account(limited.history, FitOptions(budget_step=0.2))
    curve = next(c for c in curves if c.diagnostics.budget_limited)
    assert curve.trust_high == pytest.approx(1.2 * curve.current_spend)


def test_the_column_says_when_flat_spend_is_not_a_budget(limited: Simulation) -> None:
    history = limited.history.copy()
    history[LOST_IS_BUDGET_COLUMN] = 0.0
    assert not any(c.diagnostics.budget_limited for c in fit_account(history))


def test_a_lost_impression_share_outside_zero_to_one_is_refused(limited: Simulation) -> None:
    from optimizer.errors import InvalidInputError

    history = limited.history.copy()
    history.loc[0, LOST_IS_BUDGET_COLUMN] = 35.0
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        fit_account(history)
