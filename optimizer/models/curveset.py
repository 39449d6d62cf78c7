"""CurveSet: every fitted entity of an account, its JSON form, and the solver's curve table.

The JSON names each curve's family by its registry name (`lookup_name`), so a stored set rebuilds
into the same estimators (`EntityCurve.estimator`) and round-trips exactly (floats are written in
full).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError, NotFoundError
from optimizer.models.curves import EntityCurve
from optimizer.models.events import ProposedEvent
from optimizer.models.lag import LagProfile
from optimizer.schema import NAME_COLUMNS, EntityKey

__all__ = ["CURVESET_FORMAT_VERSION", "CurveSet", "SkippedEntity", "context_fields"]

CURVESET_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class SkippedEntity:
    """An entity in the history that got no curve, and why (e.g. it never spent)."""

    key: EntityKey
    reason: str


@dataclass(frozen=True)
class CurveSet:
    """All fitted entities of one account over the data window [window_start, window_end].

    `grain` is how far apart the history's rows were ('day', 'week', 'month'; the curves are per
    day either way), `lag` the conversion lag profile the fit discounted recent days by (None:
    conversions taken as final), `proposed_events` the runs of days the fit could not explain,
    `band_scale` the account's calibration of the predictive band the ledger scores
    (`optimizer.accuracy`; 1: as fitted).
    """

    curves: tuple[EntityCurve, ...]
    window_start: dt.date
    window_end: dt.date
    fitted_at: dt.datetime
    skipped: tuple[SkippedEntity, ...] = ()
    version: int = CURVESET_FORMAT_VERSION
    grain: str = "day"
    lag: LagProfile | None = None
    proposed_events: tuple[ProposedEvent, ...] = ()
    band_scale: float = 1.0

    def __len__(self) -> int:
        return len(self.curves)

    def __iter__(self) -> Iterator[EntityCurve]:
        return iter(self.curves)

    def get(self, key: EntityKey) -> EntityCurve:
        for curve in self.curves:
            if curve.key == key:
                return curve
        raise NotFoundError(f"no fitted curve for {key}")

    def table(self, target_date: dt.date) -> pd.DataFrame:
        """One row per entity in `optimizer.curve_table.CURVE_TABLE_COLUMNS` for `target_date`.

        `multiplier` is that day's calendar factor; parameters a family does not have are NaN.
        """
        # Imported here: optimizer.curve_table imports optimizer.families, whose package
        # __init__ imports this module.
        from optimizer.curve_table import CURVE_TABLE_COLUMNS, PARAM_COLUMNS

        rows: dict[str, list[Any]] = {column: [] for column in CURVE_TABLE_COLUMNS}
        for curve in self.curves:
            rows["entity_id"].append(curve.entity_id)
            for name in NAME_COLUMNS:
                rows[name].append(getattr(curve.key, name))
            rows["family"].append(curve.lookup_name)
            for prefix, params in (
                ("", curve.params),
                ("low_", curve.low_params),
                ("high_", curve.high_params),
            ):
                for p in PARAM_COLUMNS:
                    rows[f"{prefix}{p}"].append(params.get(p, np.nan))
            rows["multiplier"].append(curve.multiplier(target_date))
            rows["value_per_conversion"].append(curve.value_per_conversion)
            rows["current_spend"].append(curve.current_spend)
            rows["spend_min_obs"].append(curve.spend_min_obs)
            rows["spend_max_obs"].append(curve.spend_max_obs)
            rows["trust_low"].append(curve.trust_low)
            rows["trust_high"].append(curve.trust_high)
            rows["grade"].append(curve.diagnostics.grade)
        table = pd.DataFrame(rows, columns=list(CURVE_TABLE_COLUMNS))
        numeric = [c for c in CURVE_TABLE_COLUMNS if c not in ("entity_id", *NAME_COLUMNS)]
        numeric = [c for c in numeric if c not in ("family", "grade")]
        table[numeric] = table[numeric].astype(np.float64)
        return table

    def to_json(self) -> str:
        payload = {
            "version": self.version,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "fitted_at": self.fitted_at.isoformat(),
            "curves": [curve.to_dict() for curve in self.curves],
            "skipped": [
                {"key": {n: getattr(s.key, n) for n in NAME_COLUMNS}, "reason": s.reason}
                for s in self.skipped
            ],
            **self.context_dict(),
        }
        return json.dumps(payload, ensure_ascii=False, allow_nan=False)

    def context_dict(self) -> dict[str, Any]:
        """The set-level facts beyond the curves (grain, lag, proposed events); empty when all are
        at their defaults."""
        out: dict[str, Any] = {}
        if self.grain != "day":
            out["grain"] = self.grain
        if self.lag is not None:
            out["lag"] = self.lag.to_dict()
        if self.proposed_events:
            out["proposed_events"] = [e.to_dict() for e in self.proposed_events]
        return out

    @classmethod
    def from_json(cls, text: str) -> CurveSet:
        try:
            payload = json.loads(text)
            version = payload["version"]
            if version != CURVESET_FORMAT_VERSION:
                raise InvalidInputError(
                    f"curve set has format version {version}; this build reads "
                    f"{CURVESET_FORMAT_VERSION}"
                )
            return cls(
                curves=tuple(EntityCurve.from_dict(c) for c in payload["curves"]),
                window_start=dt.date.fromisoformat(payload["window_start"]),
                window_end=dt.date.fromisoformat(payload["window_end"]),
                fitted_at=dt.datetime.fromisoformat(payload["fitted_at"]),
                skipped=tuple(_skipped(s) for s in payload["skipped"]),
                version=version,
                **context_fields(payload),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f"not a valid curve set: {exc!r}") from None


def context_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """`CurveSet` keyword arguments from what `CurveSet.context_dict` wrote (absent: defaults)."""
    lag = data.get("lag")
    return {
        "grain": str(data.get("grain", "day")),
        "lag": None if lag is None else LagProfile.from_dict(lag),
        "proposed_events": tuple(
            ProposedEvent.from_dict(e) for e in data.get("proposed_events", ())
        ),
    }


def _skipped(data: Mapping[str, Any]) -> SkippedEntity:
    key = EntityKey(**{name: str(data["key"][name]) for name in NAME_COLUMNS})
    return SkippedEntity(key, str(data["reason"]))
