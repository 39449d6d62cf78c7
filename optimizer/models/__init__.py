"""Response curves: daily spend -> expected conversions per campaign and keyword, with bands.

`fit_account(history, context=FitContext(...))` returns a `CurveSet`; `CurveSet.table(day)` is
what the solver reads (`optimizer.curve_table`). The estimators (`HillCurve`, `PowerCurve`,
`LogCurve`, and the S-shaped `SHillCurve`) follow the scikit-learn contract and are fitted by
Poisson deviance. The context carries the conversion lag and the account's events; rows a week or
a month apart are fitted on their grain (see docs/models.md).
"""

from optimizer.models.account import campaign_tasks, fit_account
from optimizer.models.campaign import CampaignTask, fit_campaign
from optimizer.models.context import FitContext
from optimizer.models.curves import EntityCurve, entity_id
from optimizer.models.curveset import CURVESET_FORMAT_VERSION, CurveSet, SkippedEntity
from optimizer.models.diagnostics import EntityDiagnostics
from optimizer.models.estimators import (
    ESTIMATORS,
    CurveEstimator,
    HillCurve,
    LogCurve,
    PowerCurve,
    SHillCurve,
    curve_from_dict,
)
from optimizer.models.events import Event
from optimizer.models.lag import LagProfile
from optimizer.models.options import FitOptions

__all__ = [
    "CURVESET_FORMAT_VERSION",
    "ESTIMATORS",
    "CampaignTask",
    "CurveEstimator",
    "CurveSet",
    "EntityCurve",
    "EntityDiagnostics",
    "Event",
    "FitContext",
    "FitOptions",
    "HillCurve",
    "LagProfile",
    "LogCurve",
    "PowerCurve",
    "SHillCurve",
    "SkippedEntity",
    "campaign_tasks",
    "curve_from_dict",
    "entity_id",
    "fit_account",
    "fit_campaign",
]
