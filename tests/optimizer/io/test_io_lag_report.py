"""Conversion-lag reports: days and cumulative shares, or Google Ads' days-to-conversion buckets."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.errors import InvalidInputError
from optimizer.io.lag_report import read_lag_report

BUCKETS = (
    "Conversion lag report\n"
    "Days to conversion,Conversions\n"
    "<1 day,600\n"
    "1 to <2 days,120\n"
    "2 to <3 days,80\n"
    "3 to <4 days,50\n"
    "4 to <7 days,60\n"
    "7 to <14 days,50\n"
    "14 to <21 days,25\n"
    "21 to <30 days,15\n"
    "Total,1000\n"
)


def test_days_to_conversion_buckets_become_cumulative_shares() -> None:
    report = read_lag_report(BUCKETS.encode("utf-8"))
    shares = np.array(report.cumulative)
    assert shares[0] == pytest.approx(0.6)
    assert shares[1] == pytest.approx(0.72)
    assert shares[3] == pytest.approx(0.85)
    assert shares[6] == pytest.approx(0.91)
    assert shares[-1] == 1.0 and len(shares) == 30
    assert np.all(np.diff(shares) >= 0)
    assert "8 buckets" in report.detail


@pytest.mark.parametrize(
    "text",
    [
        "days,cumulative_share\n0,0.55\n1,0.7\n7,0.9\n30,1.0\n",
        "Days,Cumulative %\n0,55%\n1,70%\n7,90%\n30,100%\n",
        "\ufeffdays;cumulative share\n0;0,55\n1;0,70\n7;0,90\n30;1,00\n",
    ],
    ids=["fractions", "percentages", "semicolons-decimal-comma-bom"],
)
def test_days_and_cumulative_shares(text: str) -> None:
    report = read_lag_report(text.encode("utf-8"))
    shares = np.array(report.cumulative)
    assert shares[0] == pytest.approx(0.55)
    assert shares[7] == pytest.approx(0.9)
    assert shares[4] == pytest.approx(0.7 + 0.2 * 3 / 6)
    assert shares[-1] == 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("campaign,cost\nBrand,3\n", "no column of days"),
        ("days,clicks\n0,5\n", "cumulative share column"),
        ("days,cumulative_share\n0,0.9\n1,0.5\n", "never fall"),
        ("days,cumulative_share\n0,abc\n", "not a number"),
        ("Days to conversion,Conversions\nTotal,10\n", "no buckets"),
        ("days,cumulative_share\n0.5,0.5\n1,1\n", "whole numbers"),
    ],
    ids=["no-days", "no-shares", "falling", "not-a-number", "no-buckets", "fractional-day"],
)
def test_unreadable_reports_say_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        read_lag_report(text.encode("utf-8"))
