"""The dashboard's working pages over the package's seeded store: who may do what, CSRF, what
each answer shows, and that the numbers are the use cases' (the API's) numbers."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from api.ui import background
from api.ui.render import money
from optimizer.report import to_editor_csv
from optimizer.store.engine import transaction
from optimizer.store.performance import spend_between
from optimizer.usecases import nightly
from optimizer.usecases.accounts import find_account
from optimizer.usecases.audit import list_audit
from optimizer.usecases.cap_review import review_cap
from optimizer.usecases.policy import get_policy, set_policy
from optimizer.usecases.recommendations import latest
from tests.api.harness import ADMIN
from tests.ui.conftest import Seeded, csrf_of, sign_in

pytestmark = pytest.mark.xdist_group("ui")

_CSV = (
    "date,campaign,ad_group,keyword,match_type,spend,clicks,impressions,conversions\n"
    "{day},UI Upload,g,k,EXACT,12.50,4,40,1\n"
    "{day},UI Upload,g,k2,EXACT,minus,4,40,1\n"
)


def _token(client: TestClient, path: str) -> str:
    return csrf_of(client.get(path).text)


def test_an_upload_shows_its_report_and_the_rejected_rows(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["manager"])
    token = _token(client, "/ui/accounts/acme/upload")
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    body = _CSV.format(day=day).encode()
    answer = client.post(
        "/ui/accounts/acme/upload",
        data={"csrf": token, "partial": "on"},
        files={"file": ("morning.csv", body, "text/csv")},
    )
    assert answer.status_code == 200, answer.text[-2000:]
    counts = answer.text.split('class="counts"')[1]
    cells = re.findall(r'<td class="num">([\d,]+)</td>', counts)[:5]
    assert cells == ["2", "1", "0", "0", "1"]
    assert re.search(r"<td class=\"num\">3</td><td dir=\"auto\">spend</td>", answer.text)
    whole = client.post(
        "/ui/accounts/acme/upload",
        data={"csrf": token, "date_order": "MDY"},
        files={"file": ("morning.csv", body, "text/csv")},
    )
    assert whole.status_code == 422
    assert "Nothing was stored" in whole.text and "<code>minus</code>" in whole.text
    assert '<option value="MDY" selected>' in whole.text  # the form keeps what was chosen


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("finance", "/ui/accounts/acme/upload"),
        ("manager_b", "/ui/accounts/acme/upload"),
        ("manager_b", "/ui/accounts/acme/whatif"),
        ("manager_b", "/ui/accounts/acme/plan"),
        ("manager_b", "/ui/accounts/acme/plan/download?format=editor"),
    ],
    ids=["finance-upload", "other-upload", "other-whatif", "other-plan", "other-download"],
)
def test_pages_keep_the_apis_rights(client, seeded: Seeded, key: str, path: str) -> None:
    """A role without the right gets 403; another account's page reads like one that is not
    there (existence stays private)."""
    sign_in(client, seeded.keys[key])
    answer = client.get(path)
    assert answer.status_code == (403 if key == "finance" else 404)
    if key != "finance":
        nothing = client.get(path.replace("/acme/", "/nosuch/"))
        assert nothing.status_code == 404
        assert answer.text.replace("acme", "X") == nothing.text.replace("nosuch", "X")


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/ui/accounts/acme/publish", {}),
        ("/ui/accounts/acme/nightly", {}),
        ("/ui/accounts/acme/policy", {"objective": "conversions"}),
        ("/ui/accounts/acme/whatif", {"budget": "100"}),
    ],
    ids=["publish", "nightly", "policy", "whatif"],
)
def test_every_post_needs_the_forms_token(client, seeded: Seeded, path: str, data: dict) -> None:
    sign_in(client, seeded.keys["manager"])
    answer = client.post(path, data={**data, "csrf": "forged"}, follow_redirects=False)
    assert answer.status_code == 403
    assert "did not come from this site" in answer.text


def test_an_upload_needs_the_forms_token(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["manager"])
    answer = client.post(
        "/ui/accounts/acme/upload",
        data={"csrf": "forged"},
        files={"file": ("x.csv", b"date,campaign,spend\n", "text/csv")},
    )
    assert answer.status_code == 403


def test_the_whatif_json_is_the_apis_request_and_gives_the_apis_numbers(
    client, seeded: Seeded
) -> None:
    sign_in(client, seeded.keys["finance"])
    token = _token(client, "/ui/accounts/acme/whatif")
    body = {"budget": "300", "level": "campaign", "groups": ["generic=Generic*:30%"]}
    answer = client.post("/ui/accounts/acme/whatif", json=body, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200
    with TestClient(client.app) as api:
        figures = api.post(
            "/v1/accounts/acme/optimizations",
            json=body,
            headers={"Authorization": f"Bearer {seeded.keys['finance']}"},
        ).json()
    assert f'id="whatif-total">{money(figures["total"], "EUR")}<' in answer.text
    assert f"{figures['expected_conversions']:,.1f} <span" in answer.text
    assert '<ul class="binding">' in answer.text
    found = re.search(r'<pre dir="ltr" id="whatif-request">(.*?)</pre>', answer.text, re.S)
    assert found is not None
    shown = json.loads(found.group(1).replace("&#34;", '"'))
    assert shown["budget"] == "300" and shown["groups"] == ["generic=Generic*:30%"]


def test_whatif_errors_sit_by_their_field_and_keep_the_text(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["manager"])
    token = _token(client, "/ui/accounts/acme/whatif")
    form = {"csrf": token, "budget": "1.2.3", "groups": "brand=Brand*:130%", "target_cpa": "x"}
    answer = client.post("/ui/accounts/acme/whatif", data=form)
    assert answer.status_code == 422
    for name in ("budget", "groups", "target_cpa"):
        assert f'id="{name}-error"' in answer.text, name
    assert 'value="1.2.3"' in answer.text and "brand=Brand*:130%</textarea>" in answer.text
    script = client.post(
        "/ui/accounts/acme/whatif",
        json={"budget": "1.2.3", "campaign_bounds": {"Nope": {"min": "5"}}},
        headers={"X-CSRF-Token": token},
    )
    assert script.status_code == 422
    errors = json.loads(
        re.search(r'data-errors="([^"]*)"', script.text).group(1).replace("&#34;", '"')
    )
    assert "budget" in errors


def test_saving_the_policy_from_the_whatif_is_audited(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["manager"])
    page = client.get("/ui/accounts/acme/whatif").text
    before = get_policy(seeded.engine, ADMIN, "acme")
    names = re.findall(r'name="(campaign_\d+)" value="([^"]+)"', page)
    form = {"csrf": csrf_of(page), "objective": "conversions", "max_change": "0.25"}
    form.update(dict(names))
    form["lock_0"] = "on"
    form["min_1"] = "10"  # a what-if range: not part of the policy
    answer = client.post("/ui/accounts/acme/policy", data=form, follow_redirects=False)
    after = get_policy(seeded.engine, ADMIN, "acme")
    entry = list_audit(seeded.engine, ADMIN, limit=5)[0]
    set_policy(seeded.engine, ADMIN, "acme", before.policy)  # the package's store is shared
    assert answer.status_code == 303
    assert after.version == before.version + 1
    assert after.policy.max_change == 0.25
    assert after.policy.locked_campaigns == (names[0][1],)
    assert after.policy.max_increase == before.policy.max_increase
    assert entry.action == "policy.set" and entry.after["max_change"] == 0.25
    shown = client.get(answer.headers["location"]).text
    assert f"version {after.version}" in shown
    finance = TestClient(client.app)
    sign_in(finance, seeded.keys["finance"])
    refused = finance.post(
        "/ui/accounts/acme/policy",
        data={**form, "csrf": _token(finance, "/ui/accounts/acme/whatif")},
    )
    assert refused.status_code == 403


def test_publish_and_the_downloads_say_what_the_api_says(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["manager"])
    token = _token(client, "/ui/accounts/acme/plan")
    answer = client.post("/ui/accounts/acme/publish", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    rec = latest(seeded.engine, ADMIN, "acme")
    editor = client.get("/ui/accounts/acme/plan/download?format=editor")
    assert editor.status_code == 200
    assert "google-ads-editor.csv" in editor.headers["content-disposition"]
    assert editor.text == to_editor_csv(rec.table("campaign"))[0]
    with TestClient(client.app) as api:
        from_api = api.get(
            "/v1/accounts/acme/recommendations/latest",
            params={"format": "editor"},
            headers={"Authorization": f"Bearer {seeded.keys['script']}"},
        )
    assert from_api.text == editor.text
    lines = editor.text.splitlines()
    assert lines[0] == "Campaign,Budget"
    total = sum(Decimal(line.rsplit(",", 1)[1]) for line in lines[1:])
    assert total * 1_000_000 == rec.total_micros
    keyword = client.get("/ui/accounts/acme/plan/download?format=csv&level=keyword")
    assert keyword.text.splitlines()[0].startswith("date,campaign,ad_group,keyword")
    finance = TestClient(client.app)
    sign_in(finance, seeded.keys["finance"])
    page = finance.get("/ui/accounts/acme/plan").text
    assert "publish-form" not in page and "nightly-form" not in page
    refused = finance.post("/ui/accounts/acme/publish", data={"csrf": csrf_of(page)})
    assert refused.status_code == 403


def test_the_editor_file_leaves_out_zero_budgets() -> None:
    import pandas as pd

    table = pd.DataFrame(
        {"campaign": ["=Brand", "Paused", "Ürün"], "recommended_spend": ["12.30", "0.00", "7"]}
    )
    text, left_out = to_editor_csv(table)
    assert text == "Campaign,Budget\n=Brand,12.30\nÜrün,7\n"
    assert left_out == ["Paused"]


def _steps_of(page: str) -> list[tuple[str, str]]:
    found = re.findall(
        r'<li class="step step-[a-z-]+"><strong>(\w+)</strong> <span[^>]*>([a-z ]+)<', page
    )
    return [(step, status) for step, status in found]


def test_the_nightly_jobs_page_shows_its_steps_while_it_runs(
    client, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form returns at once; the run's page says it is on fit (held there by the test) and
    refreshes itself, a second click shows the same run, and the end shows every step."""
    in_fit, let_go, ended = threading.Event(), threading.Event(), threading.Event()
    real_fit, real_observe = nightly.fit, background.observe

    def slow_fit(*args: Any, **kwargs: Any) -> Any:
        in_fit.set()
        assert let_go.wait(timeout=60), "the test never let the fit go on"
        return real_fit(*args, **kwargs)

    def observed(run: Any) -> None:
        real_observe(run)
        ended.set()

    monkeypatch.setattr(nightly, "fit", slow_fit)
    monkeypatch.setattr(background, "observe", observed)
    sign_in(client, seeded.keys["manager"])
    token = _token(client, "/ui/accounts/acme/plan")
    try:
        answer = client.post(
            "/ui/accounts/acme/nightly", data={"csrf": token}, follow_redirects=False
        )
        assert answer.status_code == 303 and "/ui/jobs/" in answer.headers["location"]
        assert in_fit.wait(timeout=60)
        running = client.get(answer.headers["location"]).text
        assert not ended.is_set()
        again = client.post(
            "/ui/accounts/acme/nightly", data={"csrf": token}, follow_redirects=False
        )
    finally:
        let_go.set()
    assert 'class="status-running">running</span></h1>' in running
    assert "Now: <strong>fit</strong> (step 2 of 3)" in running
    assert _steps_of(running) == [
        ("inbox", "succeeded"),
        ("fit", "running"),
        ("publish", "waiting"),
    ]
    assert re.search(r"<noscript><meta http-equiv=\"refresh\" content=\"\d+\"></noscript>", running)
    assert "file(s) stored" in running  # the inbox's counts, recorded when fit began
    assert again.status_code == 303 and again.headers["location"] == answer.headers["location"]

    assert ended.wait(timeout=120)
    done = client.get(answer.headers["location"]).text
    assert 'class="status-succeeded">succeeded</span></h1>' in done
    assert _steps_of(done) == [(s, "succeeded") for s in ("inbox", "fit", "publish")]
    assert "published recommendation #" in done
    assert 'http-equiv="refresh"' not in done
    other = TestClient(client.app)
    sign_in(other, seeded.keys["manager_b"])
    run_id = answer.headers["location"].split("/ui/jobs/")[1].split("?")[0]
    assert other.get(f"/ui/jobs/{run_id}?account=acme").status_code == 404
    assert other.get(f"/ui/jobs/{run_id}?account=globex").status_code == 404


def test_a_cap_page_shows_the_periods_numbers(client, seeded: Seeded) -> None:
    cap = seeded.propose("manager", amount="20000")
    sign_in(client, seeded.keys["finance2"])
    page = client.get(f"/ui/caps/{cap.id}").text
    review = review_cap(seeded.engine, ADMIN, cap.id)
    with transaction(seeded.engine) as connection:
        account = find_account(connection, "acme")
        reported = spend_between(
            connection, account.id, cap.period_start, min(review.day, cap.period_end)
        )
    assert review.reported_micros == reported
    assert f'id="cap-reported">{money(reported, "EUR")}<' in page
    assert review.forecast is not None
    assert f'id="cap-forecast">{money(review.forecast.end_micros, "EUR")}<' in page
    assert review.forecast.low_micros <= review.forecast.end_micros <= review.forecast.high_micros
    assert "<svg" in page and "button" in page and 'value="approve"' in page
    manager = TestClient(client.app)
    sign_in(manager, seeded.keys["manager"])
    assert 'value="approve"' not in manager.get(f"/ui/caps/{cap.id}").text


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("fg", "bg", "least"),
    [
        ("fg", "bg", 4.5),
        ("muted", "bg", 4.5),
        ("muted", "#ffffff", 4.5),
        ("accent", "#ffffff", 4.5),
        ("#ffffff", "accent", 4.5),
        ("bad", "#ffffff", 4.5),
        ("warn", "#ffffff", 4.5),
        ("ok", "#ffffff", 4.5),
        ("focus", "bg", 3.0),
    ],
    ids=["text", "muted", "muted-card", "links", "buttons", "errors", "warnings", "ok", "focus"],
)
def test_the_stylesheets_colours_keep_wcag_contrast(fg: str, bg: str, least: float) -> None:
    """WCAG 2.1 AA: 4.5:1 for text, 3:1 for the focus ring, from the stylesheet's own colours."""
    from pathlib import Path

    css = (Path(__file__).parents[2] / "api" / "ui" / "static" / "ui.css").read_text()
    colours = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css))

    def pick(name: str) -> str:
        return name if name.startswith("#") else colours[name]

    assert _contrast(pick(fg), pick(bg)) >= least


def test_an_account_with_a_right_to_left_name_and_no_curves_reads(client, seeded: Seeded) -> None:
    from urllib.parse import quote

    from tests.ui.conftest import RTL_ACCOUNT

    sign_in(client, seeded.keys["admin"])
    for page in ("upload", "whatif", "plan"):
        answer = client.get(f"/ui/accounts/{quote(RTL_ACCOUNT)}/{page}")
        assert answer.status_code == 200, (page, answer.text[-1500:])
        assert f'<a href="/ui/accounts/{quote(RTL_ACCOUNT)}" dir="auto">{RTL_ACCOUNT}</a>' in (
            answer.text
        )
    whatif_page = client.get(f"/ui/accounts/{quote(RTL_ACCOUNT)}/whatif").text
    assert "No fitted curves yet" in whatif_page and 'class="field-error"' not in whatif_page


@given(
    rows=st.lists(
        st.tuples(
            st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1),
            st.integers(min_value=0, max_value=10**9),
        ),
        max_size=30,
        unique_by=lambda r: r[0],
    )
)
@settings(max_examples=60, deadline=None)
def test_the_editor_file_reads_back_to_the_plans_positive_budgets(rows) -> None:
    """Any campaign name (commas, quotes, right-to-left, a leading '=') reads back as written, and
    the budgets are the plan's exactly; zero budgets are left out and named."""
    import csv
    import io

    import pandas as pd

    table = pd.DataFrame(
        {
            "campaign": [name for name, _ in rows],
            "recommended_spend": [str(Decimal(cents) / 100) for _, cents in rows],
        }
    )
    text, left_out = to_editor_csv(table)
    read = list(csv.reader(io.StringIO(text)))
    assert read[0] == ["Campaign", "Budget"]
    back = {name: Decimal(budget) for name, budget in read[1:]}
    assert back == {name: Decimal(cents) / 100 for name, cents in rows if cents > 0}
    assert left_out == [name for name, cents in rows if cents == 0]
