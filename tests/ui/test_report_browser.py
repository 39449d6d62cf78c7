"""The month's report in a real browser: English and Persian rendered by Debian's Chromium to
screenshots, and printed to PDF, whose pages poppler's pdftoppm turns into images. Artifacts go to
tests/artifacts/ (copied to docs/img/ for the docs). Without Chromium or pdftoppm the tests skip,
unless PPCOPT_REQUIRE_BROWSER=1 (CI), where they fail."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli.report import print_pdf
from optimizer.monthly_report import (
    CapLine,
    MarginalLine,
    MonthFigures,
    MonthReport,
    Opportunity,
    render_html,
)
from tests.api.harness import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("PPCOPT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{tool} is needed for the report's browser test")
        pytest.skip(f"{tool} is not installed")
    return found


def _report() -> MonthReport:
    first = dt.date(2026, 11, 1)
    days = pd.date_range(first, periods=30, freq="D").date
    rng = np.random.default_rng(3)
    spend = rng.uniform(800, 1100, 30)
    spend[-3:] = np.nan
    daily = pd.DataFrame(
        {
            "date": days,
            "spend": spend,
            "conversions": rng.uniform(30, 45, 30),
            "conversion_value": rng.uniform(2000, 3000, 30),
            "planned_spend": np.full(30, 955.0),
        }
    )
    return MonthReport(
        account="shop-de",
        currency="EUR",
        locale="fa_IR",
        first=first,
        last=days[-1],
        daily=daily,
        figures=MonthFigures(25_321.5, 1_012.25, 70_210.0, 27, 30),
        previous=MonthFigures(24_100.0, 950.5, 66_000.0, 31, 31),
        caps=(
            CapLine(7, dt.date(2026, 11, 1), dt.date(2026, 12, 31), 30_000_000_000, 25_321_500_000),
        ),
        notes=(
            (
                dt.date(2026, 11, 28),
                "trust-region floors of 6 entities relaxed by 41.20 EUR "
                "to fit the cap of 187.85 EUR",
            ),
        ),
        accuracy=None,
        opportunities=(Opportunity("Brand - DE", 12.5, 0.9, 13.9, 25.0),),
        marginal=(
            MarginalLine(
                dt.date(2026, 11, 27),
                955_000_000,
                "conversions",
                0.0412,
                (("cap", 61), ("trust_high", 6), ("group:Brand", 3)),
            ),
            MarginalLine(
                dt.date(2026, 11, 28), 187_850_000, "conversions", 0.0, (("trust_low", 70),)
            ),
        ),
    )


@pytest.mark.parametrize("lang", ["en", "fa"], ids=["english", "persian"])
def test_the_report_renders_and_prints(lang: str) -> None:
    chromium = _need(str(CHROMIUM)) if CHROMIUM.exists() else _need("chromium")
    pdftoppm = _need("pdftoppm")
    ARTIFACTS.mkdir(exist_ok=True)
    html = ARTIFACTS / f"report-{lang}.html"
    html.write_text(render_html(_report(), lang), encoding="utf-8")
    shot = ARTIFACTS / f"report-{lang}.png"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             "--hide-scrollbars", "--window-size=1000,1600", f"--screenshot={shot}",
             html.as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0 and shot.stat().st_size > 20_000, done.stderr[-500:]
    pdf = ARTIFACTS / f"report-{lang}.pdf"
    print_pdf(html, pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = ARTIFACTS / f"report-{lang}-page"
    done = subprocess.run(
        [pdftoppm, "-png", "-r", "60", str(pdf), str(pages)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    images = sorted(ARTIFACTS.glob(f"report-{lang}-page*.png"))
    assert done.returncode == 0 and images, done.stderr[-500:]
    assert all(image.stat().st_size > 5_000 for image in images)
