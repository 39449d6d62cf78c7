"""Write model-shaped frames as the canonical CSV that `read_performance` reads back unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.schema import CANONICAL_COLUMNS, NAME_COLUMNS

__all__ = ["write_canonical_csv"]


def write_canonical_csv(frame_model: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """UTF-8, ISO dates, shortest round-trip floats; written to a temporary file and then renamed,
    so a reader never sees half a file."""
    missing = [name for name in CANONICAL_COLUMNS if name not in frame_model.columns]
    if missing:
        raise InvalidInputError(
            f"cannot write a canonical CSV without column(s): {', '.join(missing)}"
        )
    out = frame_model.loc[:, list(CANONICAL_COLUMNS)].copy()
    numbers = out.drop(columns=["date", *NAME_COLUMNS]).to_numpy(dtype=np.float64)
    if not np.isfinite(numbers).all():
        raise InvalidInputError("cannot write a canonical CSV with empty or non-finite numbers")
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    for name in NAME_COLUMNS:
        out[name] = out[name].astype(object).where(out[name].notna(), "")
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        out.to_csv(partial, index=False, encoding="utf-8", lineterminator="\n")
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInputError(f"cannot write '{target}': {exc.strerror}") from None
