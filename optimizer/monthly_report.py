"""The month's report as one self-contained HTML document (inline SVG, no external file), in the
account's language: English, or Persian (right to left, Persian digits, CLDR month names), with
dates in the Gregorian or, as an option, the Jalali (Persian solar) calendar through jdatetime.

Words come from a gettext catalogue (`optimizer/locale/<lang>/LC_MESSAGES/report.po`, read with
babel), numbers and dates from CLDR through babel. The PDF is this HTML printed by Chromium
(`ppcopt report --pdf`).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import jdatetime
import numpy as np
import pandas as pd
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure

from optimizer.accuracy import Accuracy
from optimizer.errors import InvalidInputError
from optimizer.money import floor_to_minor_unit, micros_to_decimal
from optimizer.schema import MICROS

__all__ = [
    "CALENDARS",
    "CONSTRAINT_WORDS",
    "LANGUAGES",
    "OBJECTIVE_WORDS",
    "CapLine",
    "MarginalLine",
    "MonthFigures",
    "MonthReport",
    "Opportunity",
    "parse_period",
    "render_html",
    "report_language",
]

LANGUAGES = ("en", "fa")
CALENDARS = ("gregorian", "jalali")
_RTL = {"fa"}
_HERE = Path(__file__).parent
_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(["html"]),
)
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
_PERSIAN_DIGITS = str.maketrans("0123456789", "".join(chr(0x06F0 + i) for i in range(10)))
_MISSING = "\N{EN DASH}"
_NUMBERING = {"fa": "arabext"}
"""CLDR's native numbering system per language: its separators from babel, its digits here (babel
formats with Latin digits whatever the system)."""


@dataclass(frozen=True, slots=True)
class MonthFigures:
    spend: float
    conversions: float
    value: float
    reported_days: int
    days: int

    @property
    def cpa(self) -> float:
        return self.spend / self.conversions if self.conversions > 0 else math.nan

    @property
    def roas(self) -> float:
        return self.value / self.spend if self.spend > 0 else math.nan


@dataclass(frozen=True, slots=True)
class CapLine:
    """An approved cap over (part of) the month and what the month spent inside it."""

    cap_id: int
    start: dt.date
    end: dt.date
    amount_micros: int
    spent_micros: int


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A campaign where 10% more spend buys conversions cheapest, by the latest curves."""

    campaign: str
    extra_spend: float
    extra_conversions: float
    marginal_cpa: float
    average_cpa: float


@dataclass(frozen=True, slots=True)
class MarginalLine:
    """Why a day's plan looks as it does: what one more unit on the cap would have bought (the
    cap's shadow price, in the plan's objective) and how many keywords each constraint held."""

    day: dt.date
    budget_micros: int
    objective: str
    shadow_price: float
    binding: tuple[tuple[str, int], ...]

    @property
    def marginal_cpa(self) -> float:
        """The cost of one more conversion at the cap (conversion plans; NaN otherwise)."""
        if self.objective != "conversions" or self.shadow_price <= 0:
            return math.nan
        return 1 / self.shadow_price


@dataclass(frozen=True, eq=False)
class MonthReport:
    account: str
    currency: str
    locale: str | None
    first: dt.date
    last: dt.date
    daily: pd.DataFrame
    figures: MonthFigures
    previous: MonthFigures
    caps: tuple[CapLine, ...]
    notes: tuple[tuple[dt.date, str], ...]
    accuracy: Accuracy | None
    opportunities: tuple[Opportunity, ...]
    marginal: tuple[MarginalLine, ...] = ()


def report_language(locale: str | None, asked: str | None = None) -> str:
    """The language asked for, else the account's locale's language when the report has it,
    else English."""
    chosen = asked or (locale or "en").split("_")[0]
    if chosen not in LANGUAGES:
        if asked is not None:
            raise InvalidInputError(f"the report is written in {', '.join(LANGUAGES)}, not {asked}")
        return "en"
    return chosen


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """'2026-11' -> (1 Nov, 30 Nov); anything else is an input error."""
    found = _PERIOD.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise InvalidInputError(f"'{text}' is not a month; write it as 2026-11")
    first = dt.date(int(found.group(1)), int(found.group(2)), 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


@functools.cache
def _catalog(lang: str) -> Catalog | None:
    path = _HERE / "locale" / lang / "LC_MESSAGES" / "report.po"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


class _Words:
    """The report's language: words from the catalogue, numbers and dates from CLDR."""

    def __init__(self, lang: str, currency: str, calendar: str = "gregorian") -> None:
        if lang not in LANGUAGES:
            raise InvalidInputError(f"the report is written in {', '.join(LANGUAGES)}, not {lang}")
        if calendar not in CALENDARS:
            raise InvalidInputError(
                f"the report's dates are in the {' or '.join(CALENDARS)} calendar, not {calendar}"
            )
        self.lang, self.currency, self.calendar = lang, currency, calendar
        self.rtl = lang in _RTL
        self.catalog = _catalog(lang)
        self.system = _NUMBERING.get(lang, "latn")

    def __call__(self, text: str, **values: object) -> str:
        message = self.catalog.get(text) if self.catalog is not None else None
        chosen = message.string if message is not None and message.string else text
        return str(chosen).format(**{k: self.digits(str(v)) for k, v in values.items()})

    def digits(self, text: str) -> str:
        return text.translate(_PERSIAN_DIGITS) if self.lang == "fa" else text

    def separator(self) -> str:
        return "\N{ARABIC COMMA} " if self.lang == "fa" else ", "

    def money(self, amount: float) -> str:
        micros = floor_to_minor_unit(round(amount * MICROS), self.currency)
        value = micros_to_decimal(micros, self.currency)
        shown = format_currency(
            value, self.currency, locale=self.lang, numbering_system=self.system
        )
        return self.digits(shown)

    def number(self, value: float, places: int = 2) -> str:
        if not math.isfinite(value):
            return _MISSING
        rounded = Decimal(str(round(value, places)))
        pattern = f"#,##0.{'0' * places}"
        shown = format_decimal(
            rounded, format=pattern, locale=self.lang, numbering_system=self.system
        )
        return self.digits(shown)

    def percent(self, value: float) -> str:
        if not math.isfinite(value):
            return _MISSING
        shown = format_percent(
            value, format="#,##0.0%", locale=self.lang, numbering_system=self.system
        )
        return self.digits(shown)

    def change(self, now: float, before: float) -> str:
        if not (math.isfinite(now) and math.isfinite(before)) or before == 0:
            return _MISSING
        sign = "+" if now >= before else ""
        return sign + self.percent(now / before - 1)

    def date(self, day: dt.date) -> str:
        if self.calendar == "jalali":
            solar = jdatetime.date.fromgregorian(
                date=day, locale="fa_IR" if self.lang == "fa" else "en_US"
            )
            return self.digits(f"{solar.day} {solar.strftime('%B')} {solar.year}")
        return self.digits(format_date(day, format="long", locale=self.lang))


OBJECTIVE_WORDS = ("conversions", "value", "profit", "min_cost")
"""The plan objectives a shadow price is counted in (translated through the catalogue)."""
CONSTRAINT_WORDS = {
    "cap": "the cap",
    "trust_high": "the trust region's ceiling",
    "trust_low": "the trust region's floor",
    "max_change": "the change limit",
    "entity_max": "a person's maximum",
    "entity_min": "a person's minimum",
    "locked": "a lock",
    "no_history": "no history",
    "target_cpa": "the target CPA",
    "target_roas": "the target ROAS",
}
"""The solver's constraint names in words (translated through the catalogue); a group or
campaign row keeps its name."""


def _held(line: MarginalLine, words: _Words) -> str:
    parts = []
    for name, count in line.binding:
        if name == "none":
            continue
        kind, _, label = name.partition(":")
        said = (
            words(CONSTRAINT_WORDS[name])
            if name in CONSTRAINT_WORDS
            else (
                words("group {name}", name=label)
                if kind in ("group", "campaign") and label
                else name
            )
        )
        parts.append(f"{said} ({words.digits(str(count))})")
    return words.separator().join(parts) if parts else words("nothing")


def render_html(report: MonthReport, lang: str = "en", calendar: str = "gregorian") -> str:
    """The report as one HTML document (UTF-8, inline SVG charts, print-ready), its dates in the
    Gregorian or the Jalali calendar."""
    words = _Words(lang, report.currency, calendar)
    spend_chart = Markup(_svg(_spend_figure(report, words)))
    return _ENV.get_template("monthly_report.html").render(
        r=report,
        _=words,
        lang=lang,
        rtl=words.rtl,
        spend_chart=spend_chart,
        held=lambda line: _held(line, words),
    )


def _spend_figure(report: MonthReport, words: _Words) -> Figure:
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.subplots()
    daily = report.daily
    days = np.arange(1, len(daily) + 1)
    spent = np.nancumsum(daily["spend"].to_numpy(dtype=np.float64))
    reported = daily["spend"].notna().to_numpy()
    ax.plot(days[reported], spent[reported], color="C0", label=words("Spent"))
    planned = daily["planned_spend"].to_numpy(dtype=np.float64)
    if np.isfinite(planned).any():
        ax.plot(days, np.nancumsum(planned), color="C1", linestyle="--", label=words("Planned"))
    for line in report.caps:
        ax.axhline(line.amount_micros / MICROS, color="C3", linewidth=1, label=words("Cap"))
    ax.set_xlabel(words("Day of the month"))
    ax.set_ylabel(report.currency)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]
