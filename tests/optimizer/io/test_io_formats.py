"""Header recognition and format detection."""

from __future__ import annotations

import pytest

from optimizer.errors import InvalidInputError
from optimizer.io.encoding import sniff_encoding
from optimizer.io.formats import build_layout, match_header


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("date\tcampaign\tspend\tclicks\tconversions\n", "\t"),
        ("date,campaign,spend,clicks,conversions\r\n", ","),
        ("date;campaign;spend;clicks;conversions\n", ";"),
        ('"Day","Campaign","Cost"\n', ","),
    ],
    ids=["tab", "comma", "semicolon", "quoted"],
)
def test_delimiter_comes_from_the_header_line(line, delimiter):
    header = match_header(line)

    assert header is not None
    assert header.delimiter == delimiter


@pytest.mark.parametrize(
    "line",
    ["Keyword report\n", "November 1, 2026 - November 30, 2026\n", '"Report Name: Clicks"\n', "\n"],
    ids=["google-title", "date-range", "microsoft-title", "blank"],
)
def test_title_lines_are_not_headers(line):
    assert match_header(line) is None


@pytest.mark.parametrize(
    ("line", "titles", "expected"),
    [
        ("date,campaign,ad_group,keyword,match_type,spend,clicks,conversions", [], "canonical"),
        (
            "Day,Campaign,Ad group,Keyword,Match type,Cost,Clicks,Impr.,Conversions",
            [],
            "google_ads",
        ),
        (
            "TimePeriod,CampaignName,AdGroupName,Keyword,BidMatchType,Spend,Clicks,Conversions,Revenue",
            [],
            "microsoft_ads",
        ),
        ("Date,Campaign,Spend,Clicks,Conversions", ['"Report Name: x"\n'], "microsoft_ads"),
        ("Date,Campaign,Spend,Clicks,Conversions", [], "canonical"),
    ],
    ids=["canonical", "google", "microsoft-api-names", "microsoft-by-title", "plain-is-canonical"],
)
def test_format_detection(line, titles, expected):
    header = match_header(line)
    assert header is not None

    layout = build_layout(header, header_line=len(titles) + 1, title_lines=titles, format=None)

    assert layout.format == expected


def test_layout_maps_fields_to_the_files_own_columns():
    header = match_header(
        "Campaign ID,Day,Campaign,Keyword,Search keyword,Cost,Clicks,Conversions,Currency code"
    )
    assert header is not None

    layout = build_layout(header, header_line=3, title_lines=["t\n", "u\n"], format=None)

    assert layout.columns["date"] == 1
    assert layout.columns["keyword"] == 3
    assert layout.header("spend") == "Cost"
    assert layout.header("currency") == "Currency code"
    assert "ad_group" not in layout.columns


def test_missing_required_columns():
    header = match_header("date,campaign,clicks")
    assert header is not None

    with pytest.raises(InvalidInputError, match=r"spend \(e.g. 'spend'\), conversions"):
        build_layout(header, header_line=1, title_lines=[], format=None)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("date,campaign,spend,clicks,conversions,spend", id="same-name"),
        pytest.param("date,campaign,Spend,clicks,conversions,SPEND ", id="same-key"),
    ],
)
def test_a_column_we_read_named_twice_is_refused(line: str) -> None:
    header = match_header(line)
    assert header is not None

    with pytest.raises(InvalidInputError, match=r"(?i)'spend' 2 times \(columns 3, 6\)"):
        build_layout(header, header_line=1, title_lines=[], format=None)


@pytest.mark.parametrize(
    ("head", "codec"),
    [
        (b"\xef\xbb\xbfdate", "utf-8-sig"),
        (b"\xff\xfed\x00a\x00", "utf-16"),
        (b"\xfe\xff\x00d\x00a", "utf-16"),
        ("date,campaign".encode("utf-16-le"), "utf-16-le"),
        ("date,campaign".encode("utf-16-be"), "utf-16-be"),
        ("date,کمپین".encode(), "utf-8"),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-no-bom", "utf16be-no-bom", "utf8"],
)
def test_sniff_encoding(head, codec):
    assert sniff_encoding(head) == codec
