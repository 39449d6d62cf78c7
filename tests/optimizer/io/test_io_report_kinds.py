"""Report kinds beyond a keywords report, each written as the platform writes it: the right rows
or a clear refusal, never a mislabelled or double-counted one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.io import read_performance

TODAY = dt.date(2026, 11, 26)


def _google(tmp_path: Path, header: str, *rows: str) -> Path:
    path = tmp_path / "report.csv"
    text = "\n".join(["Report", '"November 1, 2025 - November 2, 2025"', header, *rows]) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_search_terms_report_is_stored_against_the_keyword_that_matched(tmp_path: Path) -> None:
    path = _google(
        tmp_path,
        "Search term,Match type,Campaign,Ad group,Keyword,Day,Cost,Clicks,Impr.,Conversions",
        "red shoes cheap,Phrase match (close variant),Brand,Shoes,[red shoes],2025-11-01,3.00,2,"
        "20,1",
        "buy red shoes,Broad match,Brand,Shoes,[red shoes],2025-11-01,5.50,4,40,0",
        "red shoes,Exact match,Brand,Shoes,[red shoes],2025-11-02,1.25,1,9,0",
    )
    result = read_performance(path, today=TODAY)
    assert result.errors == ()
    frame = result.frame
    assert frame["keyword"].astype(str).tolist() == ["red shoes", "red shoes"]
    assert frame["match_type"].astype(str).tolist() == ["exact", "exact"]
    assert frame["spend_micros"].tolist() == [8_500_000, 1_250_000]
    assert frame["clicks"].tolist() == [6, 1]
    assert frame["conversions_micros"].tolist() == [1_000_000, 0]


def test_a_search_terms_report_without_keywords_is_refused(tmp_path: Path) -> None:
    path = _google(
        tmp_path,
        "Search term,Match type,Campaign,Ad group,Day,Cost,Clicks,Impr.,Conversions",
        "red shoes cheap,Phrase match,Brand,Shoes,2025-11-01,3.00,2,20,1",
    )
    with pytest.raises(InvalidInputError, match="cannot be tied to the keywords"):
        read_performance(path, today=TODAY)


_SEGMENTED = (
    "Day,Device,Campaign,Ad group,Keyword,Match type,Cost,Clicks,Impr.,Conversions",
    "2025-11-01,Computers,Brand,Shoes,red shoes,Exact match,3.00,2,20,1",
    "2025-11-01,Mobile phones,Brand,Shoes,red shoes,Exact match,5.00,6,60,0",
    "2025-11-01,Tablets,Brand,Shoes,red shoes,Exact match,0.50,1,5,0",
)


def test_a_segmented_report_is_refused_with_the_way_to_sum_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"segmented by 'Device'.*--sum-segments"):
        read_performance(_google(tmp_path, *_SEGMENTED), today=TODAY)


def test_a_segmented_report_is_summed_per_day_on_request(tmp_path: Path) -> None:
    result = read_performance(_google(tmp_path, *_SEGMENTED), today=TODAY, sum_segments=True)
    assert result.errors == ()
    assert result.frame["spend_micros"].tolist() == [8_500_000]
    assert result.frame["clicks"].tolist() == [9]
    assert result.frame["impressions"].tolist() == [85]


def _microsoft(tmp_path: Path, header: str, *rows: str) -> Path:
    path = tmp_path / "ms.csv"
    lines = ['"Report Name: Search query"', "", header, *rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    return path


def test_delivered_match_types_of_one_keyword_make_one_keyword(tmp_path: Path) -> None:
    path = _microsoft(
        tmp_path,
        "TimePeriod,Campaign name,Ad group,Keyword,Keyword ID,Delivered match type,Spend,"
        "Impressions,Clicks,Conversions",
        "2025-11-01,Brand,Shoes,red shoes,8012,Exact,1.00,10,1,0",
        "2025-11-01,Brand,Shoes,red shoes,8012,Phrase,2.00,20,2,1",
        "2025-11-01,Brand,Shoes,red shoes,8012,Broad,3.00,30,3,0",
    )
    result = read_performance(path, today=TODAY)
    assert result.errors == ()
    assert len(result.frame) == 1
    assert result.frame["spend_micros"].tolist() == [6_000_000]
    assert result.frame["criterion_id"].astype(str).tolist() == ["8012"]
    assert result.frame["match_type"].astype(str).tolist() == [""]


def test_delivered_match_types_without_a_keyword_id_are_refused(tmp_path: Path) -> None:
    path = _microsoft(
        tmp_path,
        "TimePeriod,Campaign name,Ad group,Keyword,Delivered match type,Spend,Impressions,"
        "Clicks,Conversions",
        "2025-11-01,Brand,Shoes,red shoes,Exact,1.00,10,1,0",
    )
    with pytest.raises(InvalidInputError, match="Bid match type' or 'Keyword ID'"):
        read_performance(path, today=TODAY)


def test_the_bid_match_type_wins_over_the_delivered_one(tmp_path: Path) -> None:
    path = _microsoft(
        tmp_path,
        "TimePeriod,Campaign name,Ad group,Keyword,Bid match type,Delivered match type,Spend,"
        "Impressions,Clicks,Conversions",
        "2025-11-01,Brand,Shoes,red shoes,Broad,Exact,1.00,10,1,0",
        "2025-11-01,Brand,Shoes,red shoes,Broad,Phrase,2.00,20,2,1",
    )
    result = read_performance(path, today=TODAY)
    assert result.errors == ()
    assert result.frame["match_type"].astype(str).tolist() == ["broad"]
    assert result.frame["spend_micros"].tolist() == [3_000_000]


@pytest.mark.parametrize(
    "separator", [pytest.param("_", id="bigquery"), pytest.param(".", id="gaql")]
)
def test_google_ads_api_and_bigquery_columns_with_micros(tmp_path: Path, separator: str) -> None:
    names = [
        "segments.date", "customer.id", "campaign.id", "campaign.name", "ad_group.id",
        "ad_group.name", "ad_group_criterion.criterion_id", "ad_group_criterion.keyword.text",
        "ad_group_criterion.keyword.match_type", "metrics.cost_micros", "metrics.clicks",
        "metrics.impressions", "metrics.conversions", "metrics.conversions_value",
        "metrics.search_budget_lost_impression_share",
    ]  # fmt: skip
    header = ",".join(name.replace(".", separator) for name in names)
    path = tmp_path / "gaql.csv"
    path.write_text(
        header + "\n"
        "2025-11-01,1234567890,111,Brand,222,Shoes,333,red shoes,EXACT,12345678,10,100,1.5,60.0,"
        "0.25\n"
        "2025-11-02,1234567890,111,Brand,222,Shoes,333,red shoes,EXACT,990000,1,9,0,0,\n",
        encoding="utf-8",
    )
    result = read_performance(path, today=TODAY)
    assert result.errors == ()
    assert result.format == "google_ads_api"
    frame = result.frame
    assert frame["spend_micros"].tolist() == [12_345_678, 990_000]
    assert frame["conversions_micros"].tolist() == [1_500_000, 0]
    assert frame["match_type"].astype(str).tolist() == ["exact", "exact"]
    assert frame["campaign_id"].astype(str).tolist() == ["111", "111"]
    assert frame["criterion_id"].astype(str).tolist() == ["333", "333"]
    assert frame["customer_id"].astype(str).tolist() == ["1234567890"] * 2
    assert frame["lost_is_budget"].tolist()[0] == pytest.approx(0.25)
    assert pd.isna(frame["lost_is_budget"].tolist()[1])


def test_a_manager_report_keeps_the_account_of_each_row(tmp_path: Path) -> None:
    path = _google(
        tmp_path,
        "Account,Customer ID,Day,Campaign,Cost,Clicks,Impr.,Conversions",
        "Shop DE,123-456-7890,2025-11-01,Brand,10.00,5,50,1",
        "Shop FR,987-654-3210,2025-11-01,Brand,20.00,6,60,0",
    )
    result = read_performance(path, today=TODAY)
    assert result.errors == ()
    assert result.frame["account"].astype(str).tolist() == ["Shop DE", "Shop FR"]
    assert result.frame["customer_id"].astype(str).tolist() == ["1234567890", "9876543210"]


@pytest.mark.parametrize(
    ("cell", "share"),
    [("12.50%", 0.125), ("< 10%", 0.05), ("> 90%", 0.95), ("--", None), ("0%", 0.0)],
    ids=["percent", "below-ten", "above-ninety", "not-reported", "zero"],
)
def test_lost_impression_share_to_budget_is_kept(tmp_path: Path, cell: str, share: float | None):
    path = _google(
        tmp_path,
        "Day,Campaign,Cost,Clicks,Impr.,Conversions,Search lost IS (budget)",
        f'2025-11-01,Brand,10.00,5,50,1,"{cell}"',
    )
    lost = read_performance(path, today=TODAY).frame["lost_is_budget"].tolist()[0]
    assert pd.isna(lost) if share is None else lost == pytest.approx(share)


@pytest.mark.parametrize(
    ("rows", "order", "expected"),
    [
        (["03/11/2025", "14/11/2025"], None, "2025-11-03"),
        (["11/03/2025", "11/14/2025"], None, "2025-11-03"),
        (["03/11/2025", "04/11/2025"], "DMY", "2025-11-03"),
        (["03/11/2025", "04/11/2025"], "MDY", "2025-03-11"),
    ],
    ids=["day-above-12-proves-dmy", "day-above-12-proves-mdy", "said-dmy", "said-mdy"],
)
def test_slash_dates_follow_the_files_proof_or_the_given_order(
    tmp_path: Path, rows: list[str], order: str | None, expected: str
) -> None:
    path = _google(
        tmp_path,
        "Day,Campaign,Cost,Clicks,Impr.,Conversions",
        *(f"{day},Brand {i},1.00,1,10,0" for i, day in enumerate(rows)),
    )
    result = read_performance(path, today=TODAY, date_order=order)  # type: ignore[arg-type]
    assert result.frame["date"].tolist()[0] == pd.Timestamp(expected)


def test_slash_dates_nothing_settles_are_refused_with_both_readings(tmp_path: Path) -> None:
    path = _google(
        tmp_path,
        "Day,Campaign,Cost,Clicks,Impr.,Conversions",
        "03/11/2025,Brand,1.00,1,10,0",
        "04/11/2025,Brand,1.00,1,10,0",
    )
    with pytest.raises(InvalidInputError) as caught:
        read_performance(path, today=TODAY)
    message = caught.value.message
    assert "line 4, column 'Day': '03/11/2025' reads two ways" in message
    assert "2025-11-03 (day first) or 2025-03-11 (month first)" in message
    assert "--date-order" in message
    assert read_performance(path, today=TODAY, default_date_order="DMY").frame["date"].tolist()[
        0
    ] == pd.Timestamp("2025-11-03")
