"""Chunked reading changes nothing: line numbers and duplicates hold across chunk borders."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.io import read_performance

TODAY = dt.date(2026, 11, 26)


def _google_file(rows: list[str]) -> bytes:
    lines = [
        "Keyword report",
        "November 1, 2026 - November 30, 2026",
        "Day\tCampaign\tKeyword\tCost\tClicks\tConversions",
        *rows,
        "Total: Account\t--\t--\t9.00\t9\t0",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-16")


def test_duplicates_across_chunks_and_line_numbers():
    rows = [
        "2026-11-01\tBrand\tshoes\t1.00\t1\t0",  # line 4, chunk 1
        "2026-11-01\tBrand\tboots\t1.00\t1\t0",
        "2026-11-02\tBrand\tshoes\t1.00\t1\t0",
        "",  # line 7, chunk 2: blank lines still count
        "2026-11-03\tBrand\tshoes\t-1\t1\t0",  # line 8
        "2026-11-04\tBrand\tshoes\t1.00\t1\t0",
        "2026-11-05\tBrand\tshoes\t1.00\t1\t0",  # line 10, chunk 3
        "2026-11-01\tBrand\tshoes\t2.00\t2\t0",  # line 11: duplicates line 4
    ]

    result = read_performance(_google_file(rows), today=TODAY, chunk_rows=3)

    assert result.rows_read == 7
    assert [(issue.line, issue.column) for issue in result.errors] == [
        (4, None),
        (8, "Cost"),
        (11, None),
    ]
    assert result.errors[0].message.endswith("(also on line 11)")
    assert result.errors[2].message.endswith("(also on line 4)")
    assert result.frame["line"].tolist() == [5, 6, 9, 10]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 7, 1000], ids=["1", "2", "3", "7", "1000"])
def test_chunk_size_does_not_change_the_result(chunk_rows):
    rng = np.random.default_rng(11)
    rows = [
        f"2026-11-{day:02d}\tCampaign {campaign}\tkw {rng.integers(0, 3)}\t"
        f"{rng.integers(-50, 500) / 100:.2f}\t{rng.integers(0, 9)}\t{rng.integers(0, 3)}"
        for day in range(1, 11)
        for campaign in range(3)
        for _ in range(2)
    ]
    reference = read_performance(_google_file(rows), today=TODAY, chunk_rows=100_000)

    result = read_performance(_google_file(rows), today=TODAY, chunk_rows=chunk_rows)

    assert {issue.column for issue in reference.errors} == {None, "Cost"}
    assert result.errors == reference.errors
    assert result.warnings == reference.warnings
    assert result.rows_read == reference.rows_read == len(rows)
    as_text = dict.fromkeys(["campaign", "ad_group", "keyword", "match_type"], str)
    pd.testing.assert_frame_equal(result.frame.astype(as_text), reference.frame.astype(as_text))
