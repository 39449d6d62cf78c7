"""Files we cannot read at all raise InvalidInputError with a message that says what to fix."""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer.errors import InvalidInputError
from optimizer.io import read_performance

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    "data",
    [b"", b"\xef\xbb\xbf", "\r\n\r\n".encode("utf-16"), b"\n  \n"],
    ids=["no-bytes", "only-bom", "utf16-blank-lines", "blank-lines"],
)
def test_empty_file(data):
    with pytest.raises(InvalidInputError, match="the file is empty"):
        read_performance(data, today=TODAY)


def test_unknown_header():
    with pytest.raises(InvalidInputError, match="could not find a header row"):
        read_performance(b"name,price\nshoe,12\n", today=TODAY)


def test_undecodable_bytes_are_reported_not_replaced():
    data = "date,campaign,spend,clicks,conversions\n2026-11-01,Caf\xe9,1,1,0\n".encode("latin-1")

    with pytest.raises(InvalidInputError, match="not valid UTF-8 text"):
        read_performance(data, today=TODAY)


def test_undecodable_bytes_far_into_the_file():
    good = b"2026-11-01,Brand,1,1,0\n" * 20_000
    data = b"date,campaign,spend,clicks,conversions\n" + good + b"2026-11-02,\xff\xfe\xfd,1,1,0\n"

    with pytest.raises(InvalidInputError, match="not valid UTF-8 text"):
        read_performance(data, today=TODAY, chunk_rows=1000)


def test_missing_required_columns_names_them_and_the_columns_found():
    data = b"Keyword report\nDay,Campaign,Clicks,Impr.\n2026-11-01,Brand,1,1\n"

    with pytest.raises(InvalidInputError) as caught:
        read_performance(data, today=TODAY)

    message = caught.value.message
    assert "missing required column(s): spend (e.g. 'Cost'), conversions" in message
    assert "columns found on line 2: 'Day', 'Campaign', 'Clicks', 'Impr.'" in message


def test_missing_file_path(tmp_path):
    with pytest.raises(InvalidInputError, match="cannot open"):
        read_performance(tmp_path / "nope.csv", today=TODAY)


def test_unclosed_quote_names_the_line():
    data = b'date,campaign,spend,clicks,conversions\n2026-11-01,a,1,1,0\n2026-11-02,"b,1,1,0\n'

    with pytest.raises(InvalidInputError, match="line 3 opens a quoted cell"):
        read_performance(data, today=TODAY)


def test_row_with_far_too_many_cells_names_the_line():
    data = b"date,campaign,spend,clicks,conversions\n2026-11-01,a,1,1,0\n2026-11-02,a,b,c,1,1,0\n"

    with pytest.raises(
        InvalidInputError, match="line 3 has 7 cells but the header on line 1 has 5"
    ):
        read_performance(data, today=TODAY)


def test_first_row_with_far_too_many_cells_is_a_row_error():
    data = b"date,campaign,spend,clicks,conversions\n2026-11-01,a,b,c,1,1,0\n2026-11-02,a,1,1,0\n"

    result = read_performance(data, today=TODAY)

    assert [(issue.line, issue.column) for issue in result.errors] == [
        (2, "spend"),
        (2, "clicks"),
        (2, None),
    ]
    assert result.frame["line"].tolist() == [3]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"format": "bing"}, "unknown format 'bing'"), ({"chunk_rows": 0}, "chunk_rows")],
    ids=["format", "chunk-rows"],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        read_performance(b"date,campaign,spend,clicks,conversions\n", today=TODAY, **kwargs)


def test_header_only_file_reads_as_no_rows():
    result = read_performance(b"date,campaign,spend,clicks,conversions\n", today=TODAY)

    assert (result.rows_read, len(result.frame), result.errors) == (0, 0, ())
