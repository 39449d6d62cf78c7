"""The month's report as a document: every word has its Persian translation, Persian pages run
right to left with Persian digits and separators, periods are read strictly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from optimizer.errors import InvalidInputError
from optimizer.monthly_report import CONSTRAINT_WORDS, OBJECTIVE_WORDS, parse_period, render_html
from tests.ui.test_report_browser import _report

ROOT = Path(__file__).parent.parent.parent / "optimizer"
_MSGID = re.compile(r'(?:\b_|\bwords)\("((?:[^"\\]|\\.)*)"')


def _used_words() -> set[str]:
    sources = [ROOT / "templates" / "monthly_report.html", ROOT / "monthly_report.py"]
    found = {m for path in sources for m in _MSGID.findall(path.read_text(encoding="utf-8"))}
    return found | set(CONSTRAINT_WORDS.values()) | set(OBJECTIVE_WORDS)


def test_every_word_of_the_report_has_a_persian_translation() -> None:
    text = (ROOT / "locale" / "fa" / "LC_MESSAGES" / "report.po").read_text(encoding="utf-8")
    translated = set(re.findall(r'^msgid "(.+)"$', text, flags=re.MULTILINE))
    missing = sorted(_used_words() - translated)
    assert len(_used_words()) > 20 and missing == []


def test_a_persian_page_reads_right_to_left_in_persian_digits() -> None:
    page = render_html(_report(), "fa")
    assert '<html lang="fa" dir="rtl">' in page
    assert "\u06f2\u06f5\u066c\u06f3\u06f2\u06f1\u066b\u06f5\u06f0" in page  # 25,321.50
    assert "\u0646\u0648\u0627\u0645\u0628\u0631" in page  # November
    hidden = r'<svg.*?</svg>|<style>.*?</style>|<span dir="ltr">.*?</span>|<[^>]+>'
    body = re.sub(hidden, " ", page, flags=re.DOTALL).replace("ppc-budget-optimizer", "")
    assert re.findall(r"[0-9]+", body) == []


def test_an_english_page_uses_cldr_money_and_dates() -> None:
    page = render_html(_report(), "en")
    assert '<html lang="en" dir="ltr">' in page
    assert "€25,321.50" in page and "November 1, 2026" in page and "+5.1%" in page


@pytest.mark.parametrize("text", ["2026-13", "26-11", "2026/11", "November", ""],
                         ids=["month-13", "short-year", "slash", "word", "empty"])  # fmt: skip
def test_a_period_is_a_month_written_as_year_dash_month(text: str) -> None:
    with pytest.raises(InvalidInputError, match="write it as 2026-11"):
        parse_period(text)


def test_the_plans_shadow_prices_and_binding_constraints_are_shown_in_words() -> None:
    english = render_html(_report(), "en")
    assert "Why the plans look as they do" in english
    assert "€24.27" in english  # marginal CPA: 1 / 0.0412 conversions per euro
    assert "the cap (61), the trust region&#39;s ceiling (6), group Brand (3)" in english
    persian = render_html(_report(), "fa")
    ceiling = (
        "\u0633\u0642\u0641 \u0646\u0627\u062d\u06cc\u0647\u0654 "
        "\u0627\u0639\u062a\u0645\u0627\u062f"
    )
    assert f"{ceiling} (\u06f6)" in persian  # the trust region's ceiling (6)


@pytest.mark.parametrize(
    ("lang", "first_day"),
    [
        pytest.param("en", "10 Aban 1405", id="english"),
        pytest.param(
            "fa", "\u06f1\u06f0 \u0622\u0628\u0627\u0646 \u06f1\u06f4\u06f0\u06f5", id="persian"
        ),
    ],
)
def test_jalali_dates_are_an_option(lang: str, first_day: str) -> None:
    """1 November 2026 is 10 Aban 1405 in the Persian solar calendar."""
    page = render_html(_report(), lang, "jalali")
    assert first_day in page
    assert "November" not in page and "\u0646\u0648\u0627\u0645\u0628\u0631" not in page
    with pytest.raises(InvalidInputError, match="calendar"):
        render_html(_report(), lang, "hijri")
