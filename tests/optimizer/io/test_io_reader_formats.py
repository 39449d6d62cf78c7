"""read_performance on realistic exports: each platform's layout, encodings and localised values."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata

import numpy as np
import pandas as pd
import pytest

from optimizer.io import read_performance
from optimizer.schema import STORED_COLUMNS

TODAY = dt.date(2026, 11, 26)
CANONICAL_HEADER = (
    "date,campaign,ad_group,keyword,match_type,"
    "spend,clicks,impressions,conversions,conversion_value"
)


def _rows(frame: pd.DataFrame, *columns: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in frame.loc[:, list(columns)].itertuples(index=False)]


def test_google_utf16_export_with_title_and_total_lines(tmp_path):
    text = "\r\n".join(
        [
            "Keyword report",
            "November 1, 2026 - November 30, 2026",
            "Day\tCampaign\tAd group\tSearch keyword\tSearch keyword match type\tCampaign ID"
            "\tCurrency code\tCost\tClicks\tImpr.\tConversions\tConv. value",
            "2026-11-01\tBrand\tShoes\trunning shoes\tExact match\t123\tEUR\t1,234.56\t"
            "1,200\t15,000\t3.50\t210.00",
            "Nov 2, 2026\tBrand\tShoes\trunning shoes\tPhrase match\t123\tEUR\t10.00\t4\t--\t"
            "0.00\t--",
            "Total: Account\t--\t--\t--\t--\t--\t--\t1,244.56\t1,204\t15,000\t3.50\t210.00",
            "Total: Campaigns\t\t\t\t\t\t\t1,244.56\t1,204\t15,000\t3.50\t210.00",
            "",
        ]
    )
    path = tmp_path / "google.csv"
    path.write_bytes(text.encode("utf-16"))

    result = read_performance(path, today=TODAY)

    assert result.format == "google_ads"
    assert result.rows_read == 2
    assert result.errors == ()
    assert result.currencies == frozenset({"EUR"})
    assert _rows(result.frame, "keyword", "match_type", "spend_micros", "clicks", "line") == [
        ("running shoes", "exact", 1_234_560_000, 1200, 4),
        ("running shoes", "phrase", 10_000_000, 4, 5),
    ]
    assert _rows(result.frame, "impressions", "conversions_micros", "value_micros") == [
        (15000, 3_500_000, 210_000_000),
        (0, 0, 0),
    ]


def test_google_utf8_csv_export_with_long_dates_and_total_in_name_column(tmp_path):
    text = (
        "Keyword report\n"
        '"November 1, 2026 - November 30, 2026"\n'
        "Day,Campaign,Ad group,Keyword,Match type,Cost,Clicks,Impr.,Conversions,Conv. value\n"
        '"Sunday, November 1, 2026",Brand,Shoes,[red shoes],,"1,000.00",10,100,1,5\n'
        '"Nov 1, 2026",Brand,Shoes,"""blue shoes""",,2.50,3,30,0,0\n'
        ',Total: Campaigns,,,,"1,002.50",13,130,1,5\n'
    )
    path = tmp_path / "google.csv"
    path.write_text(text, encoding="utf-8")

    result = read_performance(path, today=TODAY)

    assert result.format == "google_ads"
    assert result.rows_read == 2
    assert result.errors == ()
    assert _rows(result.frame, "date", "keyword", "match_type", "spend_micros", "line") == [
        (pd.Timestamp("2026-11-01"), "red shoes", "exact", 1_000_000_000, 4),
        (pd.Timestamp("2026-11-01"), "blue shoes", "phrase", 2_500_000, 5),
    ]


def test_microsoft_export_with_title_lines_and_copyright_footer(tmp_path):
    text = (
        '"Report Name: Keyword performance"\r\n'
        '"Report Time: 11/26/2026 10:15:00 AM"\r\n'
        '"Time Zone: (GMT+01:00) Amsterdam, Berlin"\r\n'
        "\r\n"
        "Gregorian date,Campaign name,Ad group,Keyword,Bid match type,Delivered match type,"
        "Currency code,Spend,Impressions,Clicks,Conversions,Revenue\r\n"
        "11/1/2026,Brand,Shoes,shoes,Exact,Exact,USD,12.34,100,7,1,40.00\r\n"
        "2026-11-02,Brand,Shoes,shoes,Broad,Phrase,USD,0.50,10,1,0,0\r\n"
        "\r\n"
        '"©2026 Microsoft Corporation. All rights reserved. "\r\n'
    )
    path = tmp_path / "microsoft.csv"
    path.write_bytes(text.encode("utf-8-sig"))

    result = read_performance(path, today=TODAY)

    assert result.format == "microsoft_ads"
    assert result.rows_read == 2
    assert result.errors == ()
    assert result.currencies == frozenset({"USD"})
    assert _rows(result.frame, "date", "match_type", "spend_micros", "value_micros", "line") == [
        (pd.Timestamp("2026-11-01"), "exact", 12_340_000, 40_000_000, 6),
        (pd.Timestamp("2026-11-02"), "broad", 500_000, 0, 7),
    ]


def test_canonical_csv_fills_missing_optional_columns(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("date,campaign,spend,clicks,conversions\n2026-11-01,Brand,12.5,10,1.25\n")

    result = read_performance(path, today=TODAY)

    assert result.format == "canonical"
    assert result.currencies == frozenset()
    assert list(result.frame.columns) == list(STORED_COLUMNS)
    row = result.frame.iloc[0]
    assert (row["ad_group"], row["keyword"], row["match_type"]) == ("", "", "")
    assert (row["impressions"], row["value_micros"]) == (0, 0)
    assert (row["spend_micros"], row["conversions_micros"]) == (12_500_000, 1_250_000)


def test_stored_frame_dtypes():
    data = f"{CANONICAL_HEADER}\n2026-11-01,Brand,G,kw,exact,1,1,1,0,0\n".encode()

    frame = read_performance(data, today=TODAY).frame

    assert frame["date"].dtype == np.dtype("datetime64[ns]")
    assert frame["date"].iloc[0] == pd.Timestamp("2026-11-01 00:00:00")
    for name in ("campaign", "ad_group", "keyword", "match_type"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype)
    for name in ("spend_micros", "clicks", "impressions", "conversions_micros", "value_micros"):
        assert frame[name].dtype == np.dtype("int64")
    assert frame["line"].dtype == np.dtype("int64")


@pytest.mark.parametrize(
    "encoding",
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le-bom", "utf16be-bom"],
)
def test_encodings_and_crlf(encoding):
    text = f"{CANONICAL_HEADER}\r\n2026-11-01,Brand,G,kw,exact,1.5,3,30,0,0\r\n"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        data = "\ufeff".encode(encoding) + data

    result = read_performance(data, today=TODAY)

    assert result.errors == ()
    assert _rows(result.frame, "campaign", "spend_micros", "line") == [("Brand", 1_500_000, 2)]


def test_quoted_delimiters_and_unicode_names_are_kept_exactly():
    names = ["کمپین «تابستان», ۱۴۰۵", "حملة الصيف", "夏季促销", "Shoes 👟🔥", 'Say "hi"']
    lines = [CANONICAL_HEADER]
    for day, name in enumerate(names, start=1):
        quoted = '"' + name.replace('"', '""') + '"'
        padded = '"  ' + name.replace('"', '""') + ' "'
        lines.append(f"2026-11-{day:02d},{quoted},{padded},kw,exact,1,1,1,0,0")
    data = ("\n".join(lines) + "\n").encode()

    frame = read_performance(data, today=TODAY).frame

    assert frame["campaign"].tolist() == names
    assert frame["ad_group"].tolist() == names


def test_names_are_nfc_normalised_so_spellings_match():
    decomposed = unicodedata.normalize("NFD", "Café Crème")
    data = (
        f"{CANONICAL_HEADER}\n2026-11-01,{decomposed},G,kw,exact,1,1,1,0,0\n"
        "2026-11-02,Café Crème,G,kw,exact,1,1,1,0,0\n"
    ).encode()

    frame = read_performance(data, today=TODAY).frame

    assert frame["campaign"].tolist() == ["Café Crème", "Café Crème"]
    assert list(frame["campaign"].cat.categories) == ["Café Crème"]


def test_persian_digits_separators_and_dates():
    data = (
        "date;campaign;spend;clicks;conversions;impressions\n"
        "۲۰۲۶-۱۱-۰۱;کمپین;۱۲٬۳۴۵٫۶۷;۱٬۲۰۰;۳٫۵;۱۲۳۴۵\n"  # noqa: RUF001
        "٢٠٢٦-١١-٠٢;حملة;٠٫٥;٣;٠;٧\n"  # noqa: RUF001
    ).encode("utf-16")

    result = read_performance(data, today=TODAY)

    assert result.errors == ()
    assert _rows(result.frame, "date", "spend_micros", "clicks", "conversions_micros") == [
        (pd.Timestamp("2026-11-01"), 12_345_670_000, 1200, 3_500_000),
        (pd.Timestamp("2026-11-02"), 500_000, 3, 0),
    ]


@pytest.mark.parametrize(
    ("cells", "decimal_comma", "expected"),
    [
        (['"1.234,56"', '"0,5"'], None, [1_234_560_000, 500_000]),
        (['"12,50"', "3"], None, [12_500_000, 3_000_000]),
        (['"1,234"', '"1,234.5"'], None, [1_234_000_000, 1_234_500_000]),
        (['"1,234"', "7"], True, [1_234_000, 7_000_000]),
        (['"1.234"', "7"], True, [1_234_000_000, 7_000_000]),
        (['"€ 1.234,00"', '"2\u00a0345,10 €"'], None, [1_234_000_000, 2_345_100_000]),
        (['"$1,234.50"', '"USD 9.99"'], None, [1_234_500_000, 9_990_000]),
    ],
    ids=[
        "detected-from-d.ddd,dd",
        "detected-from-,dd-ending",
        "ambiguous-means-point",
        "forced-comma",
        "forced-comma-thousands-point",
        "euro-symbol-and-nbsp",
        "dollar-symbol-and-code",
    ],
)
def test_decimal_commas_and_currency_symbols(cells, decimal_comma, expected):
    lines = [CANONICAL_HEADER] + [
        f"2026-11-0{day},Brand,G,kw,exact,{cell},1,1,0,0" for day, cell in enumerate(cells, 1)
    ]
    data = ("\n".join(lines) + "\n").encode()

    result = read_performance(data, today=TODAY, decimal_comma=decimal_comma)

    assert result.errors == ()
    assert result.frame["spend_micros"].tolist() == expected


def test_semicolon_file_with_decimal_commas():
    data = b"date;campaign;spend;clicks;conversions\n2026-11-01;Brand;12,34;5;0,5\n"

    result = read_performance(data, today=TODAY)

    assert _rows(result.frame, "spend_micros", "conversions_micros") == [(12_340_000, 500_000)]


def test_micros_are_exact_for_six_decimals():
    rng = np.random.default_rng(7)
    micros = rng.integers(0, 10**14, size=500)
    lines = [CANONICAL_HEADER] + [
        f"2026-11-01,Brand,G,kw{index},exact,{value // 10**6}.{value % 10**6:06d},1,1,0,0"
        for index, value in enumerate(micros)
    ]
    data = ("\n".join(lines) + "\n").encode()

    frame = read_performance(data, today=TODAY).frame

    assert frame["spend_micros"].tolist() == micros.tolist()


def test_forced_format_reads_a_header_the_detector_would_not_prefer():
    data = b"Day,Campaign,Cost,Clicks,Conversions\n2026-11-01,Brand,3.00,3,0\n"

    detected = read_performance(data, today=TODAY)
    forced = read_performance(data, today=TODAY, format="google_ads")

    assert detected.format == forced.format == "google_ads"
    assert forced.frame["spend_micros"].tolist() == [3_000_000]


def test_non_seekable_binary_stream():
    class OneWay(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._data.read(min(len(buffer), 7))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = f"{CANONICAL_HEADER}\n2026-11-01,Brand,G,kw,exact,1,1,1,0,0\n".encode("utf-16")

    result = read_performance(OneWay(data), today=TODAY)  # type: ignore[arg-type]

    assert result.frame["campaign"].tolist() == ["Brand"]


_GAQL_HEADERS = {
    "report_rows": "segments.date,campaign.id,campaign.name,metrics.cost_micros,metrics.clicks,"
    "metrics.conversions,metrics.conversions_value,metrics.search_budget_lost_impression_share",
    "search_json_camel": "segments.date,campaign.id,campaign.name,metrics.costMicros,"
    "metrics.clicks,metrics.conversions,metrics.conversionsValue,metrics.searchBudgetLostImpressionShare",
    "bigquery_transfer": "segments_date,campaign_id,campaign_name,metrics_cost_micros,"
    "metrics_clicks,metrics_conversions,metrics_conversions_value,metrics_search_budget_lost_impression_share",
}


@pytest.mark.parametrize("header", _GAQL_HEADERS.values(), ids=_GAQL_HEADERS.keys())
def test_gaql_column_names_read_as_google_ads_api_with_exact_micros(header: str) -> None:
    """What the ad script posts (AdsApp.report names), AdsApp.search's camelCase and BigQuery's."""
    body = f"{header}\n2026-03-19,7,Brand,12345679,10,2.5,80.125,0.9999\n".encode()
    read = read_performance(io.BytesIO(body))
    assert read.format == "google_ads_api"
    row = read.frame.iloc[0]
    assert (row["campaign"], row["campaign_id"], row["date"]) == (
        "Brand",
        "7",
        pd.Timestamp(2026, 3, 19),
    )
    assert (row["spend_micros"], row["clicks"]) == (12_345_679, 10)
    assert (row["conversions_micros"], row["value_micros"]) == (2_500_000, 80_125_000)
    assert row["lost_is_budget"] == pytest.approx(0.9999)
