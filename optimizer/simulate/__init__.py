"""Synthetic accounts with known true curves, and the exact optimal allocation under them.

A `Scenario` switches on real-world effects (conversion lag, events, S-shaped keywords,
budget-limited campaigns, auction-shaped clicks, weekly or monthly rows); all are off by default.
"""

from optimizer.simulate.generator import Simulation, simulate
from optimizer.simulate.oracle import OracleResult, optimal_allocation
from optimizer.simulate.scenario import LOST_IS_BUDGET_COLUMN, Scenario
from optimizer.simulate.truth import (
    CampaignEffects,
    ConversionLag,
    CurveParams,
    TrueCurve,
    TrueEvent,
    Truth,
    expected_conversions,
    marginal_conversions,
)

__all__ = [
    "LOST_IS_BUDGET_COLUMN",
    "CampaignEffects",
    "ConversionLag",
    "CurveParams",
    "OracleResult",
    "Scenario",
    "Simulation",
    "TrueCurve",
    "TrueEvent",
    "Truth",
    "expected_conversions",
    "marginal_conversions",
    "optimal_allocation",
    "simulate",
]
