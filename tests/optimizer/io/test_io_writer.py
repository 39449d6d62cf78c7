"""write_canonical_csv writes what read_performance reads back unchanged."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.io import read_performance, write_canonical_csv
from optimizer.schema import CANONICAL_COLUMNS, to_model_frame


def _model_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    size = 40
    return pd.DataFrame(
        {
            "date": pd.date_range("2026-10-01", periods=size, freq="D"),
            "campaign": ["Brand, EU", "کمپین", "夏季 👟", 'Say "hi"'] * (size // 4),
            "ad_group": ["", "G1"] * (size // 2),
            "keyword": ["", "shoes"] * (size // 2),
            "match_type": ["", "exact"] * (size // 2),
            "spend": rng.integers(0, 10**8, size) / 10**6,
            "clicks": rng.integers(0, 1000, size),
            "impressions": rng.integers(1000, 5000, size),
            "conversions": rng.integers(0, 10**6, size) / 10**6,
            "conversion_value": rng.integers(0, 10**9, size) / 10**4,
        }
    )


def test_round_trip(tmp_path):
    frame = _model_frame()
    path = tmp_path / "history.csv"

    write_canonical_csv(frame, path)
    result = read_performance(path, today=dt.date(2026, 11, 26))

    assert result.format == "canonical"
    assert result.errors == ()
    assert result.frame["line"].tolist() == list(range(2, len(frame) + 2))
    pd.testing.assert_frame_equal(to_model_frame(result.frame), frame, check_dtype=False)
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(CANONICAL_COLUMNS)


def test_missing_columns_are_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="conversion_value"):
        write_canonical_csv(_model_frame().drop(columns="conversion_value"), tmp_path / "x.csv")
    assert not list(tmp_path.iterdir())


def test_non_finite_numbers_are_refused(tmp_path):
    frame = _model_frame()
    frame.loc[3, "spend"] = np.nan

    with pytest.raises(InvalidInputError, match="non-finite"):
        write_canonical_csv(frame, tmp_path / "x.csv")
