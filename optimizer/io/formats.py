"""The three file layouts we accept, recognised from their header row and the title lines above it.

Header names are compared case-, space- and underscore-insensitively, so `ad_group`, `Ad group` and
`AdGroup` are the same column; each format lists its aliases in preference order (first one present
wins), and unknown columns are ignored, up to `MAX_COLUMNS` in all: every row is split into that
many cells, so a header of 100,000 columns would cost memory in proportion on every chunk.
"""

from __future__ import annotations

import csv
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from optimizer.errors import InvalidInputError

__all__ = [
    "FORMATS",
    "HEADER_SEARCH_LINES",
    "ID_FIELDS",
    "MAX_COLUMNS",
    "OPTIONAL_FIELDS",
    "PLATFORMS",
    "REQUIRED_FIELDS",
    "SEGMENT_FIELDS",
    "TOTAL_WORDS",
    "HeaderRow",
    "Layout",
    "build_layout",
    "explain_missing_header",
    "match_header",
]

FORMATS: tuple[str, ...] = ("canonical", "google_ads", "google_ads_api", "microsoft_ads")
HEADER_SEARCH_LINES = 50
MAX_COLUMNS = 1_000
REQUIRED_FIELDS: tuple[str, ...] = ("date", "campaign", "spend", "clicks", "conversions")
OPTIONAL_FIELDS: tuple[str, ...] = (
    "ad_group",
    "keyword",
    "match_type",
    "impressions",
    "conversion_value",
    "currency",
)
ID_FIELDS: tuple[str, ...] = ("customer_id", "campaign_id", "ad_group_id", "criterion_id")
SEGMENT_FIELDS: tuple[str, ...] = (
    "device",
    "network",
    "hour",
    "top_vs_other",
    "click_type",
    "conversion_action",
)
PLATFORMS: dict[str, str] = {
    "canonical": "other",
    "google_ads": "google_ads",
    "google_ads_api": "google_ads",
    "microsoft_ads": "microsoft_ads",
}
"""The platform whose entities a format's rows are (a canonical file may say so per row)."""

_LABELS = {
    "canonical": "canonical CSV",
    "google_ads": "Google Ads report",
    "google_ads_api": "Google Ads API / BigQuery export",
    "microsoft_ads": "Microsoft Advertising report",
}
_DELIMITERS = ("\t", ",", ";")
_MICROSOFT_TITLES = (
    "report name:",
    "report time:",
    "time zone:",
    "last completed available day:",
    "potential incomplete data:",
)


def _load_toml() -> dict[str, Any]:
    return tomllib.loads(files("optimizer.io").joinpath("headers.toml").read_text("utf-8"))


def _load_headers() -> dict[str, dict[str, dict[str, tuple[str, ...]]]]:
    """format -> language -> field -> headers, from headers.toml (data, not code)."""
    raw = {fmt: table for fmt, table in _load_toml().items() if fmt != "words"}
    return {
        fmt: {lang: {field: tuple(names) for field, names in table.items()}
              for lang, table in languages.items()}
        for fmt, languages in raw.items()
    }  # fmt: skip


_HEADERS = _load_headers()
TOTAL_WORDS: tuple[str, ...] = tuple(
    dict.fromkeys(word for words in _load_toml()["words"]["total"].values() for word in words)
)
"""How total lines begin, in every language of headers.toml ("total", "gesamt", "toplam")."""
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    fmt: {
        field: tuple(dict.fromkeys(name for table in languages.values()
                                   for name in table.get(field, ())))
        for field in dict.fromkeys(f for table in languages.values() for f in table)
    }
    for fmt, languages in _HEADERS.items()
}  # fmt: skip


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).strip().strip('"').casefold()
    return "".join(char for char in folded if not char.isspace() and char not in "_\ufeff")


_LOOKUP: dict[str, dict[str, str]] = {
    fmt: {_key(alias): field for field, aliases in table.items() for alias in aliases}
    for fmt, table in _ALIASES.items()
}


def _languages_by_key(
    languages: dict[str, dict[str, tuple[str, ...]]],
) -> dict[str, frozenset[str]]:
    """One pass over the headers: comparing every key with every header re-normalised each
    header once per key (1.7 s of every process's start-up, the upload workers' included)."""
    found: dict[str, set[str]] = {}
    for lang, table in languages.items():
        for names in table.values():
            for name in names:
                found.setdefault(_key(name), set()).add(lang)
    return {key: frozenset(langs) for key, langs in found.items()}


_LANGUAGES: dict[str, dict[str, frozenset[str]]] = {
    fmt: _languages_by_key(languages) for fmt, languages in _HEADERS.items()
}
"""format -> header key -> the UI languages that write that header."""
_ANY_FORMAT: dict[str, str] = {
    key: field for lookup in _LOOKUP.values() for key, field in lookup.items()
}


@dataclass(frozen=True)
class HeaderRow:
    """A line that looks like a header: its delimiter and its cells as written (stripped)."""

    delimiter: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """Where each field lives in the file: 0-based column index per field, 1-based header line."""

    format: str
    delimiter: str
    header_line: int
    headers: tuple[str, ...]
    columns: Mapping[str, int]
    language: str = "en"
    spend_in_micros: bool = False
    title_lines: tuple[str, ...] = ()

    @property
    def platform(self) -> str:
        return PLATFORMS[self.format]

    @property
    def segments(self) -> tuple[str, ...]:
        """The segment columns the file has (device, network, ...): several rows per day."""
        return tuple(field for field in SEGMENT_FIELDS if field in self.columns)

    def header(self, field: str) -> str:
        """The file's own name for a field's column, for messages."""
        return self.headers[self.columns[field]]


def _split(line: str, delimiter: str) -> tuple[str, ...]:
    try:
        cells = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:  # a cell beyond csv's field size limit: not a header on this delimiter
        return ()
    return tuple(cell.strip().lstrip("\ufeff").strip() for cell in cells)


def match_header(line: str, format: str | None = None) -> HeaderRow | None:
    """The line split on the delimiter that makes it look most like a header, if it does at all."""
    lookup = _ANY_FORMAT if format is None else _LOOKUP[format]
    best: tuple[int, int, HeaderRow] | None = None
    for delimiter in _DELIMITERS:
        cells = _split(line, delimiter)
        found = len({lookup[_key(cell)] for cell in cells if _key(cell) in lookup})
        candidate = (found, len(cells), HeaderRow(delimiter, cells))
        if found >= 2 and (best is None or candidate[:2] > best[:2]):
            best = candidate
    return None if best is None else best[2]


def explain_missing_header(lines: Sequence[str]) -> str | None:
    """What the file seems to be instead, from the lines searched for a header, if recognisable."""
    first = next((line.strip().casefold() for line in lines if line.strip()), "")
    if first.startswith(("<!doctype html", "<html", "<?xml", "<head", "<body")):
        return (
            "it is an HTML or XML page (perhaps an error or sign-in page saved instead of the "
            "export); download the report again"
        )
    if first.startswith(("{", "[")):
        return "it looks like JSON; export the report as CSV"
    for line in lines:
        cells = _split(line, "|")
        if len({_ANY_FORMAT[_key(cell)] for cell in cells if _key(cell) in _ANY_FORMAT}) >= 2:
            return "its cells are separated by '|'; save it with commas, semicolons or tabs"
    return None


def _detect(cells: Sequence[str], title_lines: Sequence[str]) -> str:
    keys = [_key(cell) for cell in cells]
    titles = [line.strip().strip('"').strip().casefold() for line in title_lines]
    microsoft_titles = any(line.startswith(_MICROSOFT_TITLES) for line in titles)
    has_titles = any(titles)

    def score(fmt: str) -> int:
        fields = {_LOOKUP[fmt][key] for key in keys if key in _LOOKUP[fmt]}
        bonus = 0
        if fmt == "microsoft_ads" and microsoft_titles:
            bonus = 3
        elif fmt == "google_ads" and has_titles and not microsoft_titles:
            bonus = 1
        return len(fields) + bonus

    return max(FORMATS, key=score)


def build_layout(
    header: HeaderRow, *, header_line: int, title_lines: Sequence[str], format: str | None
) -> Layout:
    """Decide the format (unless forced) and map fields to columns; missing required -> error."""
    if len(header.cells) > MAX_COLUMNS:
        raise InvalidInputError(
            f"the header on line {header_line} has {len(header.cells):,} columns; at most "
            f"{MAX_COLUMNS:,} are supported: remove the columns that are not needed"
        )
    fmt = format if format is not None else _detect(header.cells, title_lines)
    positions: dict[str, int] = {}
    for index, cell in enumerate(header.cells):
        positions.setdefault(_key(cell), index)
    columns: dict[str, int] = {}
    for field, aliases in _ALIASES[fmt].items():
        for alias in aliases:
            if _key(alias) in positions:
                columns[field] = positions[_key(alias)]
                break
    _refuse_repeated(header.cells, columns, header_line)
    if "spend" not in columns and "spend_micros" in columns:
        columns["spend"] = columns.pop("spend_micros")
        micros_spend = True
    else:
        columns.pop("spend_micros", None)
        micros_spend = False
    missing = [field for field in REQUIRED_FIELDS if field not in columns]
    if missing:
        wanted = ", ".join(f"{field} (e.g. '{_ALIASES[fmt][field][0]}')" for field in missing)
        found = ", ".join(f"'{cell}'" for cell in header.cells if cell) or "none"
        raise InvalidInputError(
            f"the {_LABELS[fmt]} is missing required column(s): {wanted}; "
            f"columns found on line {header_line}: {found}"
        )
    return Layout(
        format=fmt,
        delimiter=header.delimiter,
        header_line=header_line,
        headers=header.cells,
        columns=columns,
        language=_language(fmt, header.cells),
        spend_in_micros=micros_spend,
        title_lines=tuple(title_lines),
    )


def _refuse_repeated(cells: Sequence[str], columns: dict[str, int], header_line: int) -> None:
    """A column we read that the header names twice is refused: which of two `spend` columns is
    the spend is a guess, and reading the first silently could store the wrong figures."""
    for index in sorted(columns.values()):
        key = _key(cells[index])
        where = [n + 1 for n, cell in enumerate(cells) if _key(cell) == key]
        if len(where) > 1:
            places = ", ".join(str(n) for n in where)
            raise InvalidInputError(
                f"the header on line {header_line} has the column '{cells[index]}' "
                f"{len(where)} times (columns {places}); keep one, so it is clear which to read"
            )


def _language(fmt: str, cells: Sequence[str]) -> str:
    """The UI language whose headers the file uses most (English on a tie)."""
    votes: dict[str, int] = {}
    for cell in cells:
        for lang in _LANGUAGES[fmt].get(_key(cell), ()):
            votes[lang] = votes.get(lang, 0) + 1
    if not votes:
        return "en"
    best = max(votes.values())
    return "en" if votes.get("en") == best else min(lang for lang, n in votes.items() if n == best)
