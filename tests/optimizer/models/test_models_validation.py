"""Every problem with a history handed to the fitter is an InvalidInputError saying what's wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.models import FitOptions, fit_account
from optimizer.models.validation import validate_history
from optimizer.schema import CANONICAL_COLUMNS


def _history() -> pd.DataFrame:
    dates = pd.date_range("2026-01-01", periods=10, freq="D")
    return pd.DataFrame(
        {
            "date": dates,
            "campaign": "Brand",
            "ad_group": "",
            "keyword": "",
            "match_type": "",
            "spend": np.linspace(10.0, 30.0, 10),
            "clicks": 10,
            "impressions": 100,
            "conversions": 2.0,
            "conversion_value": 50.0,
        }
    )


def _set(column: str, value: object, row: int = 0):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: object}) if not isinstance(value, float) else frame
        frame.loc[row, column] = value
        return frame

    return change


CASES = {
    "not-a-frame": lambda f: f.to_dict(),
    "empty": lambda f: f.iloc[:0],
    "missing-column": lambda f: f.drop(columns=["conversions"]),
    "nan-spend": _set("spend", np.nan),
    "nan-campaign": _set("campaign", None),
    "negative-spend": _set("spend", -1.0),
    "negative-conversions": _set("conversions", -0.5),
    "infinite-value": _set("conversion_value", np.inf),
    "text-number": _set("clicks", "ten"),
    "bad-date": _set("date", "not a date"),
    "empty-campaign": _set("campaign", ""),
    "duplicate-day": lambda f: pd.concat([f, f.iloc[:1]], ignore_index=True),
}


@pytest.mark.parametrize("breaker", list(CASES.values()), ids=list(CASES))
def test_invalid_history_raises_invalid_input(breaker) -> None:
    with pytest.raises(InvalidInputError) as info:
        fit_account(breaker(_history()))
    assert info.value.message


def test_valid_history_in_any_column_order_fits() -> None:
    frame = _history()
    curves = fit_account(frame[list(reversed(CANONICAL_COLUMNS))])
    assert len(curves) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"families": ("spline",)},
        {"families": ()},
        {"band_quantiles": (0.9, 0.1)},
        {"trust_low_multiple": 1.5},
        {"bootstrap": -1},
        {"fallback_conversions": 50.0},
    ],
    ids=["unknown-family", "no-family", "quantiles", "trust", "negative", "thresholds"],
)
def test_invalid_options_raise_invalid_input(kwargs) -> None:
    with pytest.raises(InvalidInputError):
        FitOptions(**kwargs)


def test_zero_jobs_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        fit_account(_history(), n_jobs=0)


def test_repeated_day_names_the_entity_and_the_day() -> None:
    frame = _history()
    frame = pd.concat([frame, frame.iloc[[3]]], ignore_index=True)
    with pytest.raises(InvalidInputError, match=r"1 repeated .* campaign 'Brand'.* on 2026-01-04"):
        validate_history(frame)


def test_entities_are_numbered_in_sorted_name_order_whatever_the_input_dtype() -> None:
    rows = []
    for campaign, keyword in [("b", "z"), ("a", "y"), ("b", "x"), ("a", "")]:
        part = _history()
        part["campaign"], part["keyword"] = campaign, keyword
        rows.append(part)
    text = pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=3)
    as_categories = text.astype({"campaign": "category", "keyword": "category"})
    as_categories["campaign"] = as_categories["campaign"].cat.add_categories(["", "zz"])
    for frame in (text, as_categories):
        clean = validate_history(frame)
        names = clean.groupby("entity")[["campaign", "keyword"]].first()
        assert [tuple(r) for r in names.itertuples(index=False)] == [
            ("a", ""),
            ("a", "y"),
            ("b", "x"),
            ("b", "z"),
        ]
        assert list(clean["entity"]) == [
            names.index[list(names.itertuples(index=False)).index((c, k))]
            for c, k in zip(frame["campaign"], frame["keyword"], strict=True)
        ]
