"""The dashboard's working flows in a real browser (Debian's Chromium via Playwright) against a
real `ppcopt serve`, with every request off localhost blocked (so nothing may come from a CDN).

A manager: upload this morning's export (dropped on the page) -> what-if with a group limit and a
locked campaign, updating in place -> a typing mistake shown beside its field -> save as the
standing policy -> publish -> download the CSV and the Google Ads Editor import -> run the nightly
job and see its steps. Finance: a proposed cap with its numbers (spend reported and estimated,
forecast and band, plans under it) -> approve. And `/docs` renders from packaged assets.

The flows change their account's data, so they get a store of their own (not the package's).
Screenshots go to tests/artifacts/ (copied to docs/img/ for docs/ui.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from optimizer.money import format_money
from optimizer.store.engine import transaction
from optimizer.store.performance import spend_between
from optimizer.usecases.accounts import find_account
from optimizer.usecases.authorized import history_as
from optimizer.usecases.caps import decide_cap, propose_cap
from optimizer.usecases.keys import authenticate
from optimizer.usecases.policy import get_policy
from optimizer.usecases.recommendations import latest
from tests.api.harness import ROOT, running_server, seed, store

pytestmark = pytest.mark.xdist_group("ui")

ARTIFACTS = ROOT / "tests" / "artifacts"


class Store:
    def __init__(self, engine: Any, keys: dict[str, str], env: dict[str, str], workdir: Path):
        self.engine, self.keys, self.env, self.workdir = engine, keys, env, workdir

    def principal(self, key: str) -> Any:
        return authenticate(self.engine, self.keys[key])


@pytest.fixture(scope="module")
def flows_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    workdir = tmp_path_factory.mktemp("ui-flows")
    with store("sqlite", workdir, "") as (engine, store_env):
        keys, _ = seed(engine, workdir)
        data = Store(engine, keys, {**store_env, "PPCOPT_INBOX": str(workdir / "inbox")}, workdir)
        start = dt.date.today() - dt.timedelta(days=1)
        cap = propose_cap(
            engine,
            data.principal("manager"),
            "acme",
            period_start=start,
            period_end=start + dt.timedelta(days=40),
            amount="40000",
            currency="EUR",
        )
        decide_cap(engine, data.principal("finance"), cap.id, approve=True)
        yield data


@pytest.fixture(scope="module")
def base_url(flows_store: Store) -> Iterator[str]:
    with running_server(flows_store.env, flows_store.workdir) as base:
        yield base


@pytest.fixture
def offline(browser: Any, base_url: str) -> Iterator[Any]:
    """`offline(key=None, **options)`: a page whose requests off localhost are aborted (and
    recorded: any fails the test), signed in with `key` when given; console errors fail too."""
    contexts, errors, blocked = [], [], []

    def make(key: str | None = None, **options: Any) -> Any:
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)

        def route(request_route: Any) -> None:
            host = urlparse(request_route.request.url).hostname
            if host in ("127.0.0.1", "localhost"):
                request_route.continue_()
            else:
                blocked.append(request_route.request.url)
                request_route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        if key is not None:
            page.goto(f"{base_url}/ui/signin")
            page.fill("#key", key)
            page.click("form[action='/ui/signin'] button")
            page.wait_for_url(f"{base_url}/ui/accounts")
        return page

    yield make
    for context in contexts:
        context.close()
    assert not blocked, f"requests left localhost: {blocked}"
    assert not [e for e in errors if "422" not in e], errors


def _shot(page: Any, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=full_page)


def _export(data: Store) -> str:
    """This morning's export: yesterday again (unchanged, one row corrected), today's first
    rows (new), and a row with a spend that is not a number (rejected with its line)."""
    history = history_as(data.engine, data.principal("manager"), "acme")
    last = history["date"].max()
    rows = history[history["date"] == last].reset_index(drop=True)
    lines = [
        "date,campaign,ad_group,keyword,match_type,spend,clicks,impressions,conversions,"
        "conversion_value"
    ]
    today = dt.date.today().isoformat()
    for i, r in rows.iterrows():
        spend = float(r["spend"]) + (1.0 if i == 0 else 0.0)
        values = [r["campaign"], r["ad_group"], r["keyword"], r["match_type"]]
        tail = (
            f"{int(r['clicks'])},{int(r['impressions'])},{float(r['conversions'])!r},"
            f"{float(r['conversion_value'])!r}"
        )
        lines.append(f"{pd_day(last)},{','.join(values)},{spend:.2f},{tail}")
        if i < 2:
            lines.append(f"{today},{','.join(values)},{spend / 3:.2f},{tail}")
    first = rows.iloc[0]
    lines.append(f"{today},{first['campaign']},x,y,EXACT,twelve,1,10,0,0")
    return "\n".join(lines) + "\n"


def _amount(text: str) -> Decimal:
    return Decimal(text.strip().split(" ")[0].replace(",", ""))


def pd_day(value: Any) -> str:
    return str(value)[:10]


def test_manager_uploads_tries_saves_publishes_and_downloads(
    offline: Any, flows_store: Store, base_url: str
) -> None:
    from playwright.sync_api import expect

    page = offline(flows_store.keys["manager"])
    page.goto(f"{base_url}/ui/accounts/acme/upload")
    export = _export(flows_store)
    page.check("input[name=partial]")
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "export-today.csv", {type: "text/csv"}));
            const zone = document.getElementById("drop-zone");
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true,
                                                      cancelable: true}));
        }""",
        export,
    )
    expect(page.locator("#upload-status")).to_contain_text("export-today.csv")
    page.click("#upload-form button[type=submit]")
    counts = page.locator("#upload-result table.counts")
    expect(counts).to_be_visible(timeout=120_000)  # the first upload starts the ingest workers
    cells = counts.locator("tbody td").all_inner_texts()
    read, inserted, updated, unchanged, rejected = (int(c.replace(",", "")) for c in cells)
    assert (inserted, updated, rejected) == (2, 1, 1), cells
    assert unchanged == read - 4
    issue = page.locator("#upload-result table.issues tbody tr").first
    expect(issue).to_contain_text("spend")
    expect(issue).to_contain_text(str(len(export.splitlines())))  # the bad row's line
    _shot(page, "upload")

    page.goto(f"{base_url}/ui/accounts/acme/whatif")
    total = page.locator("#whatif-total")
    expect(total).to_be_visible()
    first_total = total.inner_text()
    page.fill("#budget", "600")
    page.fill("#groups", "generic=Generic*:30%")
    expect(page.locator("ul.binding")).to_contain_text("group 'generic'")
    expect(page.locator("#whatif-budget")).to_contain_text("600.00 EUR")
    assert _amount(total.inner_text()) <= 600
    assert first_total != total.inner_text()
    row = page.locator("tr[data-campaign-row]").filter(has_not_text="Generic").first
    campaign = row.locator("td").first.inner_text().strip()
    now = _amount(row.locator("td").nth(1).inner_text())
    row.locator("input[type=checkbox]").check()
    expect(page.locator("ul.binding")).to_contain_text("locked at current spend")
    locked_row = page.locator("#whatif-result tbody tr", has_text=campaign).first
    kept = _amount(locked_row.locator("td").nth(2).inner_text())
    assert now - Decimal("0.05") <= kept <= now  # each keyword's spend rounded down
    _shot(page, "whatif")

    page.fill("#target_cpa", "abc")
    expect(page.locator("#whatif-form .field-error")).to_contain_text("target CPA")
    expect(page.locator("#target_cpa")).to_have_value("abc")
    expect(page.locator("#target_cpa")).to_have_attribute("aria-invalid", "true")
    _shot(page, "whatif-error")
    page.fill("#target_cpa", "")
    expect(page.locator("#whatif-form .field-error")).to_have_count(0)

    page.click("#save-policy")
    expect(page.locator("p.notice")).to_contain_text("Saved as the standing policy")
    expect(page.locator("#groups")).to_have_value("generic=Generic*:30%")
    stored = get_policy(flows_store.engine, flows_store.principal("manager"), "acme")
    assert stored.policy.groups == ("generic=Generic*:30%",)
    assert stored.policy.locked_campaigns == (campaign,)

    page.goto(f"{base_url}/ui/accounts/acme/plan")
    page.click("#publish-form button")
    expect(page.locator("a#editor-download")).to_be_visible()
    rec = latest(flows_store.engine, flows_store.principal("manager"), "acme")
    assert any(n["kind"] == "policy" and "v1" in n["text"] for n in rec.notes), rec.notes
    _shot(page, "plan")
    with page.expect_download() as csv_download:
        page.click("a[href$='format=csv&level=campaign']")
    campaign_csv = Path(csv_download.value.path()).read_text(encoding="utf-8")
    assert campaign_csv.splitlines()[0].startswith("date,campaign,")
    with page.expect_download() as editor_download:
        page.click("#editor-download")
    editor = Path(editor_download.value.path()).read_text(encoding="utf-8").splitlines()
    assert editor[0] == "Campaign,Budget"
    budgets = {line.rsplit(",", 1)[0]: Decimal(line.rsplit(",", 1)[1]) for line in editor[1:]}
    assert sum(budgets.values()) == Decimal(rec.total_micros) / 1_000_000
    assert now - Decimal("0.05") <= budgets[campaign] <= now  # locked at current spend

    page.click("#nightly-form button")  # answers at once with the run's page, while it runs
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+\?account=acme$"))
    steps = page.locator("ol.steps li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("inbox")
    expect(steps.nth(1)).to_contain_text("fit")
    # a run still going when the page loaded reaches here only through the page's own polling
    expect(page.locator("h1")).to_contain_text("succeeded", timeout=120_000)
    expect(page.locator("#run-now")).to_have_text("The run succeeded.")
    expect(steps.nth(0)).to_contain_text("file(s) stored")
    expect(steps.nth(2)).to_contain_text("published recommendation #")
    _shot(page, "run")


def test_the_what_if_works_without_javascript(
    offline: Any, flows_store: Store, base_url: str
) -> None:
    from playwright.sync_api import expect

    page = offline(flows_store.keys["finance"], java_script_enabled=False)
    page.goto(f"{base_url}/ui/accounts/acme/whatif")
    expect(page.locator("#save-policy")).to_have_count(0)  # finance may try, not set policy
    page.fill("#budget", "12,34,5")
    page.click("#whatif-update")
    expect(page.locator("#budget-error")).to_be_visible()
    expect(page.locator("#budget")).to_have_value("12,34,5")
    page.fill("#budget", "450")
    page.click("#whatif-update")
    expect(page.locator("#whatif-budget")).to_contain_text("450.00 EUR")
    assert _amount(page.locator("#whatif-total").inner_text()) <= 450


def test_finance_reviews_a_cap_with_its_numbers_and_approves(
    offline: Any, flows_store: Store, base_url: str
) -> None:
    from playwright.sync_api import expect

    start = dt.date.today().replace(day=1)
    cap = propose_cap(
        flows_store.engine,
        flows_store.principal("manager"),
        "acme",
        period_start=start,
        period_end=start + dt.timedelta(days=59),
        amount="30000",
        currency="EUR",
        note="next two months",
    )
    with transaction(flows_store.engine) as connection:
        account = find_account(connection, "acme")
        reported = spend_between(connection, account.id, start, dt.date.today() + dt.timedelta(1))
    page = offline(flows_store.keys["finance2"])
    page.goto(f"{base_url}/ui/caps/{cap.id}")
    expect(page.locator("#cap-reported")).to_have_text(format_money(reported, "EUR"))
    expect(page.locator("#cap-forecast")).to_contain_text("EUR")
    band = page.locator("#cap-band").inner_text()
    low, high = (Decimal(p.split(" EUR")[0].replace(",", "")) for p in band.split(" to "))
    forecast = _amount(page.locator("#cap-forecast").inner_text())
    assert low <= forecast <= high
    expect(page.locator("figure.chart svg")).to_have_count(1)
    _shot(page, "cap-review")
    page.fill("#note", "the forecast stays under the cap")
    page.click("button[value='approve']")
    expect(page.locator("h1")).to_contain_text("approved")


def test_api_docs_render_with_no_network(offline: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    page = offline()
    page.goto(f"{base_url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ppc-budget-optimizer")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    _shot(page, "docs", full_page=False)


@pytest.mark.parametrize(
    "path",
    ["/ui/accounts/acme/whatif", "/ui/accounts/acme/plan", "/ui/caps/1"],
    ids=["whatif", "plan", "cap"],
)
def test_the_working_pages_fit_a_phone(
    offline: Any, flows_store: Store, base_url: str, path: str
) -> None:
    page = offline(flows_store.keys["finance"], viewport={"width": 390, "height": 844})
    page.goto(f"{base_url}{path}")
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
