"""The dashboard in a real browser (Debian's Chromium via Playwright) against a real server.

Finance approves a manager's cap; a manager finds a curve's chart; the overview fits a phone and
prints without navigation. Screenshots go to tests/artifacts/ (copied to docs/img/ for the docs).
Without /usr/bin/chromium the tests skip, unless PPCOPT_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from optimizer.usecases.authorized import curves_as
from tests.api.harness import ROOT, running_server
from tests.ui.conftest import Seeded

pytestmark = pytest.mark.xdist_group("ui")

ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def base_url(seeded: Seeded) -> Iterator[str]:
    with running_server(seeded.env, seeded.workdir) as base:
        yield base


@pytest.fixture
def page_for(browser: Any, base_url: str) -> Iterator[Any]:
    """`page_for(key, **context_options)`: a page in a fresh context, signed in with `key`;
    console errors (a CSP violation, a broken asset) fail the test."""
    contexts = []
    errors: list[str] = []

    def make(key: str, **options: Any) -> Any:
        context = browser.new_context(**{"viewport": {"width": 1200, "height": 900}, **options})
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base_url}/ui/signin")
        page.fill("#key", key)
        page.click("form[action='/ui/signin'] button")
        page.wait_for_url(f"{base_url}/ui/accounts")
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


def _busiest_entity(seeded: Seeded) -> str:
    stored = curves_as(seeded.engine, seeded.principal("manager"), "acme")
    return max(stored.curve_set, key=lambda c: c.current_spend).entity_id


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=True)


def test_sign_in_page(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 700})
    page = context.new_page()
    page.goto(f"{base_url}/ui/accounts")
    assert page.locator("#key").is_visible()
    _shot(page, "signin")
    context.close()


def test_finance_approves_a_proposed_cap(page_for: Any, seeded: Seeded, base_url: str) -> None:
    from playwright.sync_api import expect

    cap = seeded.propose("manager", amount="23456.78")
    page = page_for(seeded.keys["finance2"])
    page.goto(f"{base_url}/ui/accounts/acme/caps")
    _shot(page, "caps-list")
    page.click(f"a[href='/ui/caps/{cap.id}']")
    expect(page.locator("h1")).to_contain_text("proposed")
    expect(page.locator(".facts")).to_contain_text("(manager)")
    expect(page.locator(".facts")).to_contain_text("23,456.78 EUR")
    _shot(page, "caps")
    page.fill("#note", "within the quarter's plan")
    page.click("button[value='approve']")
    expect(page.locator("h1")).to_contain_text("approved")
    expect(page.locator(".facts")).to_contain_text("(finance2)")
    expect(page.locator("button[value='approve']")).to_have_count(0)
    _shot(page, "cap-approved")


def test_manager_sees_a_curve_chart_and_the_other_pages(
    page_for: Any, seeded: Seeded, base_url: str
) -> None:
    from playwright.sync_api import expect

    page = page_for(seeded.keys["manager"])
    page.goto(f"{base_url}/ui/accounts/acme")
    expect(page.locator("figure.chart svg")).to_have_count(1)
    _shot(page, "overview")
    page.click(f"a[href$='/curves/{_busiest_entity(seeded)}']")
    chart = page.locator("figure.chart svg")
    expect(chart).to_have_count(1)
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    expect(page.locator("ul.diagnostics")).to_contain_text("Trust region")
    _shot(page, "curve")
    page.goto(f"{base_url}/ui/accounts/acme/frontier")
    expect(page.locator("figure.chart svg")).to_have_count(1)
    _shot(page, "frontier")
    page.goto(f"{base_url}/ui/jobs")
    expect(page.locator("td.status-succeeded").first).to_be_visible()
    expect(page.locator("td.status-failed")).to_have_count(0)  # globex's run is not its account


def test_admin_sees_a_failed_run_and_its_reason(
    page_for: Any, seeded: Seeded, base_url: str
) -> None:
    from playwright.sync_api import expect

    page = page_for(seeded.keys["admin"])
    page.goto(f"{base_url}/ui/jobs")
    failed = page.locator("tr", has=page.locator("td.status-failed"))
    expect(failed.first).to_contain_text("no approved spend cap covers")
    _shot(page, "jobs")


def test_overview_fits_a_phone_and_prints_without_navigation(
    page_for: Any, seeded: Seeded, base_url: str
) -> None:
    from playwright.sync_api import expect

    page = page_for(seeded.keys["finance"], viewport={"width": 390, "height": 844})
    page.goto(f"{base_url}/ui/accounts/acme")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    _shot(page, "overview-phone")
    page.emulate_media(media="print")
    expect(page.locator(".top nav")).to_be_hidden()
    expect(page.locator("figure.chart svg")).to_be_visible()
