"""From a keyword's recommended spend to a max CPC bid, using its own spend, clicks and CPC history.

Google Ads has no keyword budgets; under manual (or enhanced) CPC the lever is the keyword's max
CPC. Buying more clicks costs more per click, so CPC rises with spend. Per keyword we fit the
monotone relation

    CPC(spend) = cpc0 * (spend / spend0) ** e,   0 <= e <= 1

by least squares of log CPC on log spend over its recent days with clicks (`spend0`, `cpc0`: the
recent means). With too few days, or too little spread in spend to see the slope, e is a fallback
(`FALLBACK_ELASTICITY`). Assuming the max CPC moves with the average CPC it yields, the new bid is
the current bid times CPC(recommended) / CPC(recent): non-decreasing in the recommended spend,
bounded by a change limit, rounded down to the currency's minor unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.errors import InvalidInputError

__all__ = [
    "DEFAULT_BID_CHANGE",
    "FALLBACK_ELASTICITY",
    "MIN_FIT_DAYS",
    "CpcResponse",
    "fit_cpc_response",
    "recommended_bid_micros",
]

FALLBACK_ELASTICITY = 0.5
"""CPC ~ sqrt(spend) when a keyword's own history cannot show the slope: a middle value between a
flat CPC (e = 0, clicks linear in spend) and a CPC that doubles with spend (e = 1)."""

DEFAULT_BID_CHANGE = 0.2
"""A published keyword bid moves at most 20% from the current one per plan (the script's own
MAX_CHANGE_FRACTION guard applies on top)."""

MIN_FIT_DAYS = 7
_MIN_LOG_SPREAD = 0.1
_MAX_ELASTICITY = 1.0


@dataclass(frozen=True, slots=True)
class CpcResponse:
    """How a keyword's average CPC rises with its daily spend (see the module docstring)."""

    spend0: float
    cpc0: float
    elasticity: float
    days: int
    fitted: bool

    def describe(self) -> str:
        how = (
            f"fitted on {self.days} days"
            if self.fitted
            else f"fallback {FALLBACK_ELASTICITY:g}: {self.days} day(s) with clicks or too little "
            "spread in spend to fit"
        )
        return f"CPC ~ spend^{self.elasticity:.2f} ({how})"


def fit_cpc_response(spend: Sequence[float], clicks: Sequence[float]) -> CpcResponse | None:
    """The keyword's CPC response from its daily spend and clicks; None without a day with both
    spend and clicks (nothing to anchor a bid on)."""
    s = np.asarray(spend, dtype=np.float64)
    c = np.asarray(clicks, dtype=np.float64)
    if s.shape != c.shape:
        raise InvalidInputError("spend and clicks must have one value per day each")
    used = np.isfinite(s) & np.isfinite(c) & (s > 0) & (c > 0)
    days = int(used.sum())
    if days == 0:
        return None
    s, c = s[used], c[used]
    spend0 = float(s.mean())
    cpc0 = float(s.sum() / c.sum())
    log_s, log_cpc = np.log(s), np.log(s / c)
    if days < MIN_FIT_DAYS or float(log_s.std()) < _MIN_LOG_SPREAD:
        return CpcResponse(spend0, cpc0, FALLBACK_ELASTICITY, days, fitted=False)
    slope = float(np.polyfit(log_s, log_cpc, 1)[0])
    elasticity = min(max(slope, 0.0), _MAX_ELASTICITY) if math.isfinite(slope) else 0.0
    return CpcResponse(spend0, cpc0, elasticity, days, fitted=True)


def recommended_bid_micros(
    current_bid_micros: int,
    response: CpcResponse,
    recommended_spend: float,
    *,
    max_change: float,
    unit_micros: int,
) -> int:
    """The max CPC for `recommended_spend` (currency units a day), within +-`max_change` of the
    current bid and at least one minor unit."""
    if current_bid_micros <= 0 or unit_micros <= 0:
        raise InvalidInputError("a current bid and a currency unit above 0 are needed")
    if not (math.isfinite(max_change) and 0 <= max_change < 1):
        raise InvalidInputError(f"the bid change limit must be in [0, 1), got {max_change}")
    spend = max(float(recommended_spend), 0.0)
    ratio = (spend / response.spend0) ** response.elasticity if response.spend0 > 0 else 1.0
    low = math.ceil(current_bid_micros * (1.0 - max_change) / unit_micros) * unit_micros
    high = math.floor(current_bid_micros * (1.0 + max_change) / unit_micros) * unit_micros
    if low > high:
        return current_bid_micros
    bid = math.floor(current_bid_micros * ratio / unit_micros) * unit_micros
    return max(int(min(max(bid, low), high)), unit_micros)
