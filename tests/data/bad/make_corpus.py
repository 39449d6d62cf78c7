"""Write the bad-input corpus (one file per case) and its manifest.json, reproducibly.

Run from anywhere: `python tests/data/bad/make_corpus.py`. Only the standard library is used, every
random byte comes from a seeded generator and archive timestamps are fixed, so running it twice
writes identical bytes. Cases marked `generated` are too large to commit (a 10 MB line, 100,000
columns); the tests build them into tmp_path with `build(name)`.

Every data date is in October 2026, before the corpus was made, so no case changes outcome as the
calendar moves on (the "future" case is 50 years ahead).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import random
import sys
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["CASES", "Case", "build", "main"]

HERE = Path(__file__).resolve().parent
HEADER = (
    "date",
    "campaign",
    "ad_group",
    "keyword",
    "match_type",
    "spend",
    "clicks",
    "impressions",
    "conversions",
    "conversion_value",
)
Row = tuple[str, ...]
GOOD: tuple[Row, ...] = (
    ("2026-10-01", "Brand", "Brand AG", "shoes", "exact", "12.50", "25", "400", "2", "80.00"),
    ("2026-10-01", "Generic", "Generic AG", "boots", "phrase", "30.00", "40", "900", "1", "55.00"),
    ("2026-10-02", "Brand", "Brand AG", "shoes", "exact", "13.10", "27", "420", "3", "120.00"),
    ("2026-10-02", "Generic", "Generic AG", "boots", "phrase", "28.40", "38", "880", "2", "90.00"),
)
"""Four valid rows (file lines 2-5 when written after the header); cases vary one thing."""


def _csv(
    rows: Sequence[Sequence[str]], *, header: Sequence[str] = HEADER, delimiter: str = ","
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _with(row: Row, **changes: str) -> Row:
    cells = dict(zip(HEADER, row, strict=True))
    cells.update(changes)
    return tuple(cells[name] for name in HEADER)


def _comma_decimals(row: Row) -> Row:
    money = ("spend", "conversions", "conversion_value")
    return _with(row, **{name: row[HEADER.index(name)].replace(".", ",") for name in money})


def _bad_row(**changes: str) -> bytes:
    """The good rows plus, on line 6, a copy of the first one with `changes` on 2026-10-03."""
    return _utf8(_csv([*GOOD, _with(GOOD[0], **({"date": "2026-10-03"} | changes))]))


def _google_ads(rows: Sequence[Sequence[str]], header: Sequence[str], totals: bool) -> str:
    title = "Keyword report\nOctober 1, 2026 - October 2, 2026\n"
    lines = [title + _csv(rows, header=header)]
    if totals:
        lines.append('"Total: Account","--","--","--","--","83.99","130","2600","8","345.00"\n')
        lines.append('"Total: Search","--","--","--","--","83.99","130","2600","8","345.00"\n')
    return "".join(lines)


_GOOGLE_HEADER = (
    "Day",
    "Campaign",
    "Ad group",
    "Keyword",
    "Match type",
    "Cost",
    "Clicks",
    "Impr.",
    "Conversions",
    "Conv. value",
)


def _xlsx() -> bytes:
    """A minimal but valid one-sheet workbook, as Excel saves it (a zip of XML parts)."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="appl'
            'ication/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.ope'
            'nxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/wo'
            'rksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spre'
            'adsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlfo'
            'rmats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.o'
            'penxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbo'
            'ok.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats'
            '.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocum'
            'ent/2006/relationships"><sheets><sheet name="Report" sheetId="1" r:id="rId1"/></shee'
            "ts></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlfo'
            'rmats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.o'
            'penxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sh'
            'eet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformat'
            's.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            'date</t></is></c><c r="B1" t="inlineStr"><is><t>campaign</t></is></c></row><row r="2'
            '"><c r="A2" t="inlineStr"><is><t>2026-10-01</t></is></c><c r="B2" t="inlineStr"><is>'
            "<t>Brand</t></is></c></row></sheetData></worksheet>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 10, 3, 0, 0, 0)), text)
    return buffer.getvalue()


def _ten_megabyte_line() -> bytes:
    """An export whose line ends were lost: header and rows run together on one 10 MB line."""
    record = ",".join(GOOD[0]) + ","
    head = ",".join(HEADER) + ","
    body = record * ((10 * 1024 * 1024 - len(head)) // len(record) + 1)
    return _utf8(head + body)


def _hundred_thousand_columns() -> bytes:
    extra = [f"x{index}" for index in range(100_000 - len(HEADER))]
    rows = [(*row, *("0" for _ in extra)) for row in GOOD[:2]]
    return _utf8(_csv(rows, header=(*HEADER, *extra)))


_NFC = unicodedata.normalize("NFC", "Café Crème")
_NFD = unicodedata.normalize("NFD", "Café Crème")
_FORMULA = '=HYPERLINK("http://x","y")'


def _formula_history() -> bytes:
    """60 days of three keywords, one campaign named as a spreadsheet formula; enough to fit."""
    rng = random.Random(20261003)
    rows: list[Row] = []
    entities = (
        (_FORMULA, "AG", "shoes", "exact", 40.0, 0.10),
        ("Generic", "AG", "boots", "phrase", 60.0, 0.07),
        ("Generic", "AG", "sandals", "broad", 25.0, 0.05),
    )
    for day in range(60):
        date = (dt.date(2026, 8, 1) + dt.timedelta(days=day)).isoformat()
        for campaign, group, keyword, match, budget, rate in entities:
            spend = budget * rng.uniform(0.4, 1.6)
            clicks = max(1, round(spend / rng.uniform(0.8, 1.2)))
            conversions = round(rate * 12 * spend**0.6 * rng.uniform(0.7, 1.3), 2)
            rows.append(
                (date, campaign, group, keyword, match, f"{spend:.2f}", str(clicks),
                 str(clicks * 20), f"{conversions:.2f}", f"{conversions * 45:.2f}")
            )  # fmt: skip
    return _utf8(_csv(rows))


@dataclass(frozen=True)
class Case:
    """One corpus file and what `ppcopt ingest` must do with it.

    outcome: "rejected" (whole file, nothing stored), "row_rejected" (default: whole file rejected
    naming `line`; --partial: the other rows stored) or "accepted". `message` must appear in the
    one-line error (rejected / row_rejected) or in the report (accepted); `detail`, when set, must
    appear in the listed row issues. `stored` is how many rows land in the store (accepted, or
    row_rejected with --partial). `generated` files are built at test time, not committed.
    """

    file: str
    outcome: str
    message: str
    description: str
    line: int | None = None
    stored: int = 0
    generated: bool = False
    detail: str | None = None


_BUILDERS: dict[str, Callable[[], bytes]] = {}
CASES: list[Case] = []


def _case(case: Case, builder: Callable[[], bytes]) -> None:
    CASES.append(case)
    _BUILDERS[case.file] = builder


def _rejected(
    file: str,
    message: str,
    description: str,
    builder: Callable[[], bytes],
    *,
    generated: bool = False,
) -> None:
    _case(Case(file, "rejected", message, description, generated=generated), builder)


def _row(
    file: str,
    line: int,
    message: str,
    description: str,
    builder: Callable[[], bytes],
    stored: int = len(GOOD),
    detail: str | None = None,
) -> None:
    case = Case(file, "row_rejected", message, description, line, stored, detail=detail)
    _case(case, builder)


def _accepted(
    file: str, stored: int, message: str, description: str, builder: Callable[[], bytes]
) -> None:
    _case(Case(file, "accepted", message, description, stored=stored), builder)


# Whole-file rejections: nothing in the file can be trusted, so nothing is stored.
_rejected("empty.csv", "the file is empty", "zero bytes", lambda: b"")
_rejected(
    "blank_lines_only.csv", "the file is empty", "only line ends and spaces", lambda: b"\n \r\n\t\n"
)
_rejected(
    "bom_only.csv",
    "the file is empty",
    "a UTF-8 byte-order mark and nothing else",
    lambda: b"\xef\xbb\xbf",
)
_rejected(
    "header_only.csv", "no data rows", "the header and not a single row", lambda: _utf8(_csv([]))
)
_rejected(
    "google_ads_only_totals.csv",
    "no data rows",
    "a Google Ads export with title lines, header and only 'Total:' rows",
    lambda: _utf8(_google_ads([], _GOOGLE_HEADER, totals=True)),
)
_rejected(
    "binary_garbage.csv",
    "binary",
    "4 KiB of seeded random bytes",
    lambda: random.Random(1).randbytes(4096),
)
_rejected(
    "latin1_encoded.csv",
    "not valid UTF-8",
    "Windows-1252 bytes (Café) in a file that must be UTF-8",
    lambda: _csv([_with(GOOD[0], campaign="Café")]).encode("cp1252"),
)
_rejected(
    "pipe_delimiter.csv",
    "could not find a header row",
    "cells separated by '|'",
    lambda: _utf8(_csv(GOOD, delimiter="|")),
)
_rejected(
    "single_line_10mb.csv",
    "line 1",
    "header and rows run together on one 10 MB line (line ends lost); generated at test time",
    _ten_megabyte_line,
    generated=True,
)
_rejected(
    "columns_100k.csv",
    "100,000 columns",
    "the required columns plus 99,990 unknown ones; generated at test time",
    _hundred_thousand_columns,
    generated=True,
)
_rejected(
    "missing_required_column.csv",
    "missing required column(s): clicks",
    "no clicks column",
    lambda: _utf8(_csv([row[:6] + row[7:] for row in GOOD], header=HEADER[:6] + HEADER[7:])),
)
_rejected(
    "mixed_currencies.csv", "EUR, USD",
    "a Google Ads export with a Currency column holding EUR and USD (account is EUR)",
    lambda: _utf8(_google_ads(
        [(*row, "EUR" if index % 2 else "USD") for index, row in enumerate(GOOD)],
        (*_GOOGLE_HEADER, "Currency"), totals=False,
    )),
)  # fmt: skip
_rejected(
    "unclosed_quote.csv",
    "line 6 opens a quoted cell",
    "a quote opened in a campaign name and never closed",
    lambda: _utf8(_csv(GOOD) + '2026-10-03,"Brand,Brand AG,shoes,exact,1,1,1,0,0\n'),
)
_rejected(
    "embedded_newline_shifts_cells.csv",
    "line 6 has 18 cells",
    "a quoted cell runs over a line end and swallows the next row, so the record is too wide",
    lambda: _utf8(
        _csv(GOOD)
        + '2026-10-03,"Brand\n2026-10-03,Generic",Generic AG,x,exact,1,1,1,0,0,'
        + "Generic AG,boots,phrase,1,1,1,0,0\n"
    ),
)
_rejected("xlsx_renamed.csv", "Excel workbook", "an .xlsx workbook renamed to .csv", _xlsx)
_rejected(
    "xls_renamed.csv",
    "Excel workbook",
    "the OLE2 header of a legacy .xls workbook",
    lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
)
_rejected(
    "gzip_compressed.csv",
    "gzip",
    "a valid CSV, gzip-compressed",
    lambda: gzip.compress(_utf8(_csv(GOOD)), mtime=0),
)
_rejected(
    "pdf_renamed.csv",
    "PDF",
    "a PDF report saved as .csv",
    lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n",
)
_rejected(
    "html_error_page.csv",
    "HTML",
    "a web server's error page saved instead of the export",
    lambda: _utf8(
        "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
        "<body><h1>Bad Gateway</h1><p>date,campaign,spend</p></body></html>\n"
    ),
)
_rejected(
    "json_instead_of_csv.csv",
    "JSON",
    "the rows as a JSON array",
    lambda: _utf8(json.dumps([dict(zip(HEADER, row, strict=True)) for row in GOOD], indent=2)),
)

# Row rejections: by default the whole file is refused naming the line; --partial stores the rest.
_row("spend_1e308.csv", 6, "spend is too large", "spend 1e308", lambda: _bad_row(spend="1e308"))
_row(
    "spend_above_daily_maximum.csv",
    6,
    "spend is too large",
    "spend 200,000,000,000 (above the 100 billion per row and day maximum, below int64)",
    lambda: _bad_row(spend="200000000000"),
)
_row(
    "clicks_overflow.csv",
    6,
    "clicks is too large",
    "clicks 1e17 (would overflow the conversions-vs-clicks check in micros)",
    lambda: _bad_row(clicks="100000000000000000"),
)
_row(
    "spend_nan.csv", 6, "spend must be a finite number", "spend NaN", lambda: _bad_row(spend="NaN")
)
_row(
    "spend_inf.csv", 6, "spend must be a finite number", "spend inf", lambda: _bad_row(spend="inf")
)
_row(
    "conversions_minus_inf.csv",
    6,
    "conversions must be a finite number",
    "conversions -Infinity",
    lambda: _bad_row(conversions="-Infinity"),
)
_row(
    "negative_spend.csv",
    6,
    "spend cannot be negative",
    "spend -4.20",
    lambda: _bad_row(spend="-4.20"),
)
_row(
    "negative_clicks.csv",
    6,
    "clicks cannot be negative",
    "clicks -3",
    lambda: _bad_row(clicks="-3"),
)
_row(
    "fractional_clicks.csv",
    6,
    "clicks must be a whole number",
    "clicks 2.5",
    lambda: _bad_row(clicks="2.5"),
)
_row(
    "spend_placeholder.csv",
    6,
    "spend is empty",
    "Google's '--' placeholder as spend",
    lambda: _bad_row(spend="--"),
)
_row(
    "feb_30.csv",
    6,
    "2026-02-30 is not a real date",
    "date 2026-02-30",
    lambda: _bad_row(date="2026-02-30"),
)
_row(
    "date_50_years_past.csv",
    6,
    "date is before 2000-01-01",
    "date 1976-10-03",
    lambda: _bad_row(date="1976-10-03"),
)
_row(
    "date_50_years_future.csv",
    6,
    "date is in the future",
    "date 2076-10-03",
    lambda: _bad_row(date="2076-10-03"),
)
_rejected(
    "date_day_first_slash.csv", "are written both ways",
    "10/31/2026 (only month first) then 31/10/2026 (only day first): no order fits the file",
    lambda: _utf8(_csv([
        *GOOD, _with(GOOD[0], date="10/31/2026"), _with(GOOD[1], date="31/10/2026"),
    ])),
)  # fmt: skip
_rejected(
    "date_reads_two_ways.csv", "reads two ways",
    "03/10/2026 and 02/10/2026: 3 October or 10 March, and no day above 12 settles it",
    lambda: _utf8(_csv([
        _with(GOOD[0], date="03/10/2026"), _with(GOOD[1], date="02/10/2026"),
    ])),
)  # fmt: skip
_row(
    "duplicated_rows.csv",
    6,
    "appears more than once",
    "line 2 repeated exactly on line 6",
    lambda: _utf8(_csv([*GOOD, GOOD[0]])),
    stored=len(GOOD) - 1,
)
_row(
    "conflicting_duplicates.csv",
    6,
    "appears more than once",
    "the same keyword and day on lines 2 and 6 with different spend",
    lambda: _utf8(_csv([*GOOD, _with(GOOD[0], spend="99.00")])),
    stored=len(GOOD) - 1,
)
_row(
    "nfc_nfd_same_day.csv", 6, "appears more than once",
    "one campaign name in NFC (line 2) and NFD (line 6) on the same day: the same entity after NFC",
    lambda: _utf8(_csv([
        _with(GOOD[0], campaign=_NFC), *GOOD[1:], _with(GOOD[0], campaign=_NFD, spend="1.00"),
    ])),
    stored=len(GOOD) - 1,
)  # fmt: skip
_row(
    "too_many_cells.csv",
    6,
    "spend is not a number",
    "an unquoted comma in a campaign name shifts the row one cell right; the width problem is "
    "listed after the first (shifted) cell it breaks",
    lambda: _utf8(_csv(GOOD) + "2026-10-03,Brand,EU,Brand AG,shoes,exact,1,1,1,0,0\n"),
    detail="more cells than the header",
)
_row(
    "truncated_last_line.csv",
    6,
    "is empty",
    "the last line cut off in the middle of a row",
    lambda: _utf8(_csv(GOOD) + "2026-10-03,Brand,Brand AG,sh"),
)
_row(
    "header_repeated.csv",
    4,
    "'date' is not a date we recognise",
    "two exports concatenated, so the header appears again on line 6",
    lambda: _utf8(_csv(GOOD[:2]) + _csv(GOOD[2:])),
    stored=len(GOOD),
)
_row(
    "thousands_in_decimal_comma.csv", 6, "clicks must be a whole number",
    "a semicolon file with decimal commas (12,50) where clicks is written 1,234: the comma is "
    "the decimal mark there, so it reads 1.234",
    lambda: _utf8(_csv(
        [_comma_decimals(row) for row in GOOD]
        + [_comma_decimals(_with(GOOD[0], date="2026-10-03", clicks="1,234"))],
        delimiter=";",
    )),
)  # fmt: skip
_row(
    "percent_in_numeric.csv",
    6,
    "conversions is not a number",
    "conversions written 5%",
    lambda: _bad_row(conversions="5%"),
)
_row(
    "long_campaign_name.csv",
    6,
    "campaign name is longer than",
    "a 10,000-character campaign name",
    lambda: _bad_row(campaign="B" * 10_000),
)
_row(
    "control_characters.csv",
    6,
    "control character",
    "an ESC sequence and a bell in a campaign",
    lambda: _bad_row(campaign="Brand\x1b[31m red\x07"),
)
_row(
    "nul_in_name.csv",
    6,
    "control character",
    "a NUL byte inside a keyword",
    lambda: _bad_row(keyword="sho\x00es"),
)
_row(
    "spend_without_names.csv",
    6,
    "campaign name is empty",
    "a row with spend but empty campaign, ad group and keyword",
    lambda: _bad_row(campaign="", ad_group="", keyword="", match_type=""),
)

# Accepted: odd-looking but valid, stored as documented.
_accepted(
    "semicolon_decimal_point.csv",
    len(GOOD),
    "4 inserted",
    "semicolon-separated with decimal points (a supported delimiter)",
    lambda: _utf8(_csv(GOOD, delimiter=";")),
)
_accepted(
    "utf16le_no_bom.csv",
    len(GOOD),
    "4 inserted",
    "UTF-16 little-endian without a byte-order mark (recognised by its NUL pattern)",
    lambda: _csv(GOOD).encode("utf-16-le"),
)
_accepted(
    "negative_zero_spend.csv",
    5,
    "5 inserted",
    "spend -0 is stored as 0",
    lambda: _bad_row(spend="-0"),
)
_accepted(
    "conversions_above_clicks.csv",
    5,
    "more conversions (30) than clicks (25)",
    "30 conversions from 25 clicks: a warning (view-through, several per click), row kept",
    lambda: _bad_row(conversions="30"),
)
_accepted(
    "formula_injection.csv",
    180,
    "180 inserted",
    f"a campaign named {_FORMULA}: stored as data, neutralised in CSV output",
    _formula_history,
)
_accepted(
    "nfc_nfd_same_campaign.csv", len(GOOD), "4 inserted",
    "one campaign name in NFC and NFD on different days: one entity after NFC",
    lambda: _utf8(_csv([
        _with(GOOD[0], campaign=_NFC), GOOD[1], _with(GOOD[2], campaign=_NFD), GOOD[3],
    ])),
)  # fmt: skip
_accepted(
    "unknown_extra_columns.csv", len(GOOD), "4 inserted", "three columns the reader does not know",
    lambda: _utf8(_csv(
        [(*row, "x", "", "7") for row in GOOD], header=(*HEADER, "labels", "notes", "quality")
    )),
)  # fmt: skip
_accepted(
    "microsoft_copyright_footer.csv", len(GOOD), "4 inserted",
    "a Microsoft Advertising export with its report header and a '©2026 Microsoft Corporation' "
    "footer",
    lambda: _utf8(
        '"Report Name: Keyword performance"\n"Report Time: 10/1/2026 - 10/2/2026"\n'
        '"Time Zone: (GMT+01:00) Amsterdam"\n\n'
        + _csv(
            [(row[0], row[1], row[2], row[3], row[4], row[5], row[7], row[6], row[8], row[9])
             for row in GOOD],
            header=("TimePeriod", "Campaign name", "Ad group", "Keyword", "Bid match type",
                    "Spend", "Impressions", "Clicks", "Conversions", "Revenue"),
        )
        + '\n"©2026 Microsoft Corporation. All rights reserved. "\n'
    ),
)  # fmt: skip
_accepted(
    "currency_symbol_spend.csv",
    5,
    "5 inserted",
    "spend written €12.50",
    lambda: _bad_row(spend="€12.50"),
)
_accepted(
    "cr_only_line_ends.csv",
    len(GOOD),
    "4 inserted",
    "classic Mac line ends (CR only)",
    lambda: _utf8(_csv(GOOD).replace("\n", "\r")),
)


def build(name: str) -> bytes:
    """The bytes of one case, whether committed or generated at test time."""
    return _BUILDERS[name]()


def main(argv: Sequence[str] = ()) -> int:
    """Write every committed case and manifest.json next to this script."""
    target = Path(argv[0]) if argv else HERE
    for case in CASES:
        if not case.generated:
            (target / case.file).write_bytes(build(case.file))
    manifest = [asdict(case) for case in CASES]
    (target / "manifest.json").write_text(
        json.dumps(manifest, indent=1, ensure_ascii=True) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
