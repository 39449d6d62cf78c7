"""The backtest on someone else's simulator: PyMC-Marketing's credibility campaigns (Apache-2.0,
tests/data/credibility), whose true contributions are known."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optimizer.backtest import backtest, calibrate
from optimizer.io import read_performance
from optimizer.models import fit_account
from optimizer.schema import to_model_frame

DATA = Path(__file__).parent.parent / "data" / "credibility"


@pytest.fixture(scope="module")
def result():
    read = read_performance(DATA / "history.csv")
    assert not read.errors
    history = to_model_frame(read.frame)
    return backtest(history, weeks=4, fit=fit_account)


def test_the_held_out_weeks_are_predicted_within_a_fifth_of_the_truth(result) -> None:
    truth = pd.read_csv(DATA / "truth.csv", parse_dates=["date"])
    for week in result.weeks:
        inside = (truth["date"].dt.date >= week.start) & (truth["date"].dt.date <= week.end)
        true_total = float(truth.loc[inside, "conversions"].sum())
        assert abs(week.accuracy.actual / true_total - 1) < 0.05
        assert abs(week.accuracy.predicted / true_total - 1) < 0.20, week


def test_calibration_widens_bands_that_hold_too_little(result) -> None:
    fitted = calibrate(result.pairs)
    assert fitted.coverage_before < 0.75
    assert fitted.scale > 1.0 and fitted.coverage_after >= 0.80
