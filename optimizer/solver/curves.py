"""The curve table's curves as one vectorised object: value and slope for every entity at once.

`multiplier` (the day's calendar factor) scales the fitted curve and both band curves alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.curve_table import curve_params
from optimizer.families import FAMILIES

__all__ = ["Band", "EntityCurves", "FloatArray", "IntArray"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Band = Literal["", "low", "high"]


@dataclass(frozen=True, eq=False)
class EntityCurves:
    """Curves of n entities; `value(x)` / `slope(x)` take x of shape (n,) or (n, m)."""

    families: tuple[str, ...]
    masks: tuple[npt.NDArray[np.bool_], ...]
    params: dict[str, FloatArray]
    multiplier: FloatArray

    @classmethod
    def from_table(cls, table: pd.DataFrame, band: Band = "") -> EntityCurves:
        family = table["family"].to_numpy(dtype=object)
        names = tuple(sorted(set(family)))
        return cls(
            families=names,
            masks=tuple(family == name for name in names),
            params=curve_params(table, f"{band}_" if band else ""),
            multiplier=table["multiplier"].to_numpy(dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.multiplier)

    def value(self, x: npt.ArrayLike) -> FloatArray:
        """Expected conversions per day at spend x."""
        return self._apply(x, derivative=False)

    def slope(self, x: npt.ArrayLike) -> FloatArray:
        """Marginal conversions per unit of spend at x."""
        return self._apply(x, derivative=True)

    def _apply(self, x: npt.ArrayLike, *, derivative: bool) -> FloatArray:
        spend = np.asarray(x, dtype=np.float64)
        out = np.zeros(spend.shape, dtype=np.float64)
        for name, mask in zip(self.families, self.masks, strict=True):
            spec = FAMILIES[name]
            fn = spec.derivative if derivative else spec.function
            args = [self.params[p][mask] for p in spec.param_names]
            scale = self.multiplier[mask]
            if spend.ndim == 2:
                args = [a[:, None] for a in args]
                scale = scale[:, None]
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                out[mask] = scale * fn(spend[mask], *args)
        return out
