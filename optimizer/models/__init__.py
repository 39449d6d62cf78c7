"""Response curves: daily spend -> expected conversions per campaign and keyword, with bands.

`fit_account(history)` returns a `CurveSet`; `CurveSet.table(day)` is what the solver reads
(`optimizer.curve_table`). The estimators (`HillCurve`, `PowerCurve`, `LogCurve`) follow the
scikit-learn contract and are fitted by Poisson deviance. Every family is concave, so S-shaped data
is approximated by its concave envelope over the trust region (see docs/models.md).
"""

from optimizer.models.account import campaign_tasks, fit_account
from optimizer.models.campaign import CampaignTask, fit_campaign
from optimizer.models.curves import EntityCurve, entity_id
from optimizer.models.curveset import CURVESET_FORMAT_VERSION, CurveSet, SkippedEntity
from optimizer.models.diagnostics import EntityDiagnostics
from optimizer.models.estimators import (
    ESTIMATORS,
    CurveEstimator,
    HillCurve,
    LogCurve,
    PowerCurve,
    curve_from_dict,
)
from optimizer.models.options import FitOptions

__all__ = [
    "CURVESET_FORMAT_VERSION",
    "ESTIMATORS",
    "CampaignTask",
    "CurveEstimator",
    "CurveSet",
    "EntityCurve",
    "EntityDiagnostics",
    "FitOptions",
    "HillCurve",
    "LogCurve",
    "PowerCurve",
    "SkippedEntity",
    "campaign_tasks",
    "curve_from_dict",
    "entity_id",
    "fit_account",
    "fit_campaign",
]
