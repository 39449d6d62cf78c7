"""Synthetic accounts with known true curves, and the exact optimal allocation under them."""

from optimizer.simulate.generator import Simulation, simulate
from optimizer.simulate.oracle import OracleResult, optimal_allocation
from optimizer.simulate.truth import (
    CampaignEffects,
    CurveParams,
    TrueCurve,
    Truth,
    expected_conversions,
    marginal_conversions,
)

__all__ = [
    "CampaignEffects",
    "CurveParams",
    "OracleResult",
    "Simulation",
    "TrueCurve",
    "Truth",
    "expected_conversions",
    "marginal_conversions",
    "optimal_allocation",
    "simulate",
]
