"""The dashboard's pages per role over a seeded store: sign-in, CSRF, rights, revocation, RTL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient

from api.app import create_app
from api.ui.render import money
from api.ui.session import COOKIE
from optimizer.access import Role
from optimizer.usecases.authorized import curves_as
from optimizer.usecases.caps import decide_cap, get_cap, list_caps, propose_cap
from optimizer.usecases.keys import create_key, revoke_key
from optimizer.usecases.recommendations import latest, publish
from tests.api.harness import ADMIN
from tests.ui.conftest import RTL_ACCOUNT, Seeded, csrf_of, sign_in

pytestmark = pytest.mark.xdist_group("ui")


def _entity(seeded: Seeded) -> str:
    stored = curves_as(seeded.engine, seeded.principal("manager"), "acme")
    return max(stored.curve_set, key=lambda c: c.current_spend).entity_id


@pytest.mark.parametrize(
    "role", ["admin", "manager", "finance"], ids=["admin", "manager", "finance"]
)
def test_every_page_renders_for_a_dashboard_role(client, seeded: Seeded, role: str) -> None:
    sign_in(client, seeded.keys[role])
    cap = seeded.propose()
    published = latest(seeded.engine, ADMIN, "acme")
    pages = {
        "/ui/accounts": "acme",
        "/ui/accounts/acme": money(published.total_micros, "EUR"),
        f"/ui/accounts/acme/curves/{_entity(seeded)}": "Trust region",
        "/ui/accounts/acme/frontier": "Budget frontier",
        "/ui/accounts/acme/caps": "12,345.67 EUR",
        f"/ui/caps/{cap.id}": "Q4 push",
        "/ui/jobs": "succeeded",
    }
    for path, expected in pages.items():
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.headers["content-type"].startswith("text/html")
        assert expected in answer.text, path
        assert '<meta name="viewport"' in answer.text
    curve = client.get(f"/ui/accounts/acme/curves/{_entity(seeded)}").text
    assert re.search(r'data-figure="likely_conversions">\d+-\d+<', curve)
    overview = client.get("/ui/accounts/acme").text
    assert "<svg" in overview and "Current vs recommended by campaign" in overview
    first, _ = published.forecast[0]
    assert f"Forecast path to {published.forecast[-1][0].isoformat()}" in overview
    assert (
        f'data-forecast="{first.isoformat()}">{money(published.forecast[0][1], "EUR")}' in overview
    )
    assert 'class="big status-succeeded"' in overview  # the last nightly run


@pytest.mark.parametrize(
    ("role", "sees_globex"), [("admin", True), ("manager", False)], ids=["admin", "manager"]
)
def test_job_runs_show_failures_only_to_keys_that_see_the_account(
    client, seeded: Seeded, role: str, sees_globex: bool
) -> None:
    sign_in(client, seeded.keys[role])
    page = client.get("/ui/jobs").text
    assert "0 stored, 1 rejected" in page  # acme's run with the broken inbox file
    assert ("no approved spend cap covers" in page) is sees_globex
    assert ('<td dir="auto">globex</td>' in page) is sees_globex


def test_pages_without_a_session_show_sign_in_with_401(client) -> None:
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/accounts"
    answer = client.get("/ui/accounts/acme")
    assert answer.status_code == 401
    assert 'action="/ui/signin"' in answer.text


def test_session_cookie_is_httponly_strict_and_secure_over_https(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.settings), base_url="https://testserver") as https:
        cookie = https.get("/ui/signin").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    with TestClient(create_app(seeded.settings)) as plain:
        assert "Secure" not in plain.get("/ui/signin").headers["set-cookie"]


def test_a_tampered_session_cookie_is_not_a_session(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["finance"])
    value = client.cookies["ppcopt_session"]
    body, _, signature = value.partition(".")
    client.cookies.set("ppcopt_session", f"{body[:-2]}AA.{signature}", path="/ui")
    assert client.get("/ui/accounts").status_code == 401


def test_a_wrong_key_is_refused_with_401(client) -> None:
    token = csrf_of(client.get("/ui/signin").text)
    answer = client.post("/ui/signin", data={"key": "ppc_dead_beef", "csrf": token})
    assert answer.status_code == 401 and "unknown or revoked" in answer.text


def test_repeated_wrong_keys_are_rate_limited_like_the_api(seeded: Seeded) -> None:
    settings = seeded.settings.model_copy(update={"auth_failures_per_minute": 2})
    with TestClient(create_app(settings)) as limited:
        token = csrf_of(limited.get("/ui/signin").text)
        statuses = [
            limited.post("/ui/signin", data={"key": "ppc_dead_beef", "csrf": token}).status_code
            for _ in range(3)
        ]
        answer = limited.post("/ui/signin", data={"key": seeded.keys["finance"], "csrf": token})
    assert statuses == [401, 401, 429]
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    assert "Too many attempts" in answer.text


def test_a_script_key_cannot_sign_in(client, seeded: Seeded) -> None:
    token = csrf_of(client.get("/ui/signin").text)
    answer = client.post(
        "/ui/signin", data={"key": seeded.keys["script"], "csrf": token}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert "script key" in answer.text and "cannot sign in to the dashboard" in answer.text
    assert client.get("/ui/accounts").status_code == 401


def test_sign_in_without_the_form_token_is_refused(client, seeded: Seeded) -> None:
    client.get("/ui/signin")
    answer = client.post("/ui/signin", data={"key": seeded.keys["finance"], "csrf": "forged"})
    assert answer.status_code == 403
    assert client.get("/ui/accounts").status_code == 401


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/ui/caps/{cap}/decision", {"decision": "approve"}),
        (
            "/ui/accounts/acme/caps",
            {"period_start": "2031-02-01", "period_end": "2031-02-28", "amount": "10"},
        ),
        ("/ui/signout", {}),
    ],
    ids=["decide", "propose", "sign-out"],
)
def test_a_post_with_a_wrong_csrf_token_changes_nothing(
    client, seeded: Seeded, path: str, form: dict[str, str]
) -> None:
    cap = seeded.propose()
    sign_in(client, seeded.keys["finance2"])
    caps_before = len(list_caps(seeded.engine, ADMIN, "acme"))
    answer = client.post(path.format(cap=cap.id), data={**form, "csrf": "x" * 43})
    assert answer.status_code == 403 and "Reload the page" in answer.text
    assert get_cap(seeded.engine, ADMIN, cap.id).status == "proposed"
    assert len(list_caps(seeded.engine, ADMIN, "acme")) == caps_before
    assert client.get("/ui/accounts").status_code == 200  # still signed in


def test_signing_in_issues_a_new_csrf_token(client, seeded: Seeded) -> None:
    before = csrf_of(client.get("/ui/signin").text)
    sign_in(client, seeded.keys["finance"])
    assert csrf_of(client.get("/ui/accounts").text) != before


def test_finance_approves_a_managers_cap_and_sees_who_proposed_it(client, seeded: Seeded) -> None:
    cap = seeded.propose("manager")
    sign_in(client, seeded.keys["finance2"])
    page = client.get(f"/ui/caps/{cap.id}").text
    assert "(manager)" in page and 'value="approve"' in page
    answer = client.post(
        f"/ui/caps/{cap.id}/decision",
        data={"decision": "approve", "note": "ok", "csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    shown = client.get(answer.headers["location"]).text
    assert 'class="status-approved">approved' in shown and "(finance2)" in shown
    assert 'value="approve"' not in shown
    assert get_cap(seeded.engine, ADMIN, cap.id).status == "approved"


def test_a_manager_sees_no_approve_button_and_cannot_decide(client, seeded: Seeded) -> None:
    cap = seeded.propose("finance")
    sign_in(client, seeded.keys["manager"])
    page = client.get(f"/ui/caps/{cap.id}").text
    assert 'value="approve"' not in page and "Waiting for a finance key" in page
    answer = client.post(
        f"/ui/caps/{cap.id}/decision", data={"decision": "approve", "csrf": csrf_of(page)}
    )
    assert answer.status_code == 403
    assert get_cap(seeded.engine, ADMIN, cap.id).status == "proposed"


def test_the_proposer_cannot_approve_their_own_cap(client, seeded: Seeded) -> None:
    cap = seeded.propose("finance")
    sign_in(client, seeded.keys["finance"])
    page = client.get(f"/ui/caps/{cap.id}").text
    assert "four-eyes" in page
    answer = client.post(
        f"/ui/caps/{cap.id}/decision", data={"decision": "approve", "csrf": csrf_of(page)}
    )
    assert answer.status_code == 403 and "four-eyes" in answer.text
    assert get_cap(seeded.engine, ADMIN, cap.id).status == "proposed"


def test_a_manager_proposes_a_cap_through_the_form(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["manager2"])
    page = client.get("/ui/accounts/acme/caps").text
    form = {
        "period_start": "2031-01-01",
        "period_end": "2031-01-31",
        "amount": "9999.5",
        "note": "ينایر",
        "csrf": csrf_of(page),
    }
    answer = client.post("/ui/accounts/acme/caps", data=form, follow_redirects=False)
    assert answer.status_code == 303
    shown = client.get(answer.headers["location"]).text
    assert "9,999.50 EUR" in shown and "(manager2)" in shown and "ينایر" in shown


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"period_start": "2031-01-01", "period_end": "2031-01-31", "amount": "abc"}, "amount"),
        ({"period_start": "2031-01-31", "period_end": "2031-01-01", "amount": "10"}, "period_end"),
        ({"period_start": "2031-01-01", "period_end": "2031-01-31", "amount": "1.005"}, "amount"),
        (
            {"period_start": "not a date", "period_end": "2031-01-31", "amount": "10"},
            "period_start",
        ),
        ({"period_end": "2031-01-31", "amount": "10"}, "period_start"),
    ],
    ids=["amount-not-a-number", "end-before-start", "too-many-decimals", "bad-date", "missing"],
)
def test_bad_form_input_comes_back_as_typed_with_the_error_by_its_field(
    client, seeded: Seeded, form: dict[str, str], field: str
) -> None:
    sign_in(client, seeded.keys["manager"])
    token = csrf_of(client.get("/ui/accounts/acme/caps").text)
    typed = {**form, "note": "كتب هذا"}
    answer = client.post("/ui/accounts/acme/caps", data={**typed, "csrf": token})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    for name, value in typed.items():
        if name != "note":
            assert f'name="{name}" type="date" required value="{value}"' in answer.text or (
                f'value="{value}"' in answer.text
            ), name
    assert "كتب هذا</textarea>" in answer.text
    assert f'id="{field}" name="{field}"' in answer.text
    assert f'id="{field}-error" role="alert"' in answer.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', answer.text)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"], ids=["year-1", "year-9999"])
def test_a_cap_form_with_a_day_out_of_range_is_refused(client, seeded: Seeded, day: str) -> None:
    sign_in(client, seeded.keys["manager"])
    token = csrf_of(client.get("/ui/accounts/acme/caps").text)
    form = {"period_start": day, "period_end": day, "amount": "10", "csrf": token}
    answer = client.post("/ui/accounts/acme/caps", data=form, follow_redirects=False)
    assert answer.status_code == 422
    assert 'id="period_start-error"' in answer.text and 'id="period_end-error"' in answer.text
    assert f'value="{day}"' in answer.text


def test_a_revoked_keys_session_ends_at_once(client, seeded: Seeded) -> None:
    record, plaintext = create_key(
        seeded.engine, ADMIN, role=Role.FINANCE, label="soon revoked", account_names=["acme"]
    )
    sign_in(client, plaintext)
    assert client.get("/ui/accounts/acme").status_code == 200
    revoke_key(seeded.engine, ADMIN, record.id)
    answer = client.get("/ui/accounts/acme")
    assert answer.status_code == 401 and "revoked" in answer.text
    assert client.get("/ui/accounts").status_code == 401  # the cookie was reset too


def test_sign_out_ends_the_session(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["finance"])
    token = csrf_of(client.get("/ui/accounts").text)
    answer = client.post("/ui/signout", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert client.get("/ui/accounts").status_code == 401


def test_a_cookie_copied_before_sign_out_stops_working(seeded: Seeded) -> None:
    """Sign-out ends the session in the store, not only in the browser that signed out."""
    with TestClient(create_app(seeded.settings)) as browser:
        sign_in(browser, seeded.keys["finance"])
        copied = browser.cookies.get(COOKIE)
        assert copied is not None
        with TestClient(create_app(seeded.settings)) as thief:
            thief.cookies.set(COOKIE, copied)
            assert thief.get("/ui/accounts/acme").status_code == 200
            token = csrf_of(browser.get("/ui/accounts").text)
            assert browser.post("/ui/signout", data={"csrf": token}).status_code == 200
            answer = thief.get("/ui/accounts/acme")
    assert answer.status_code == 401 and "Sign in" in answer.text


def test_a_right_to_left_name_is_shown_with_dir_auto(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["admin"])
    listing = client.get("/ui/accounts")
    assert listing.headers["content-type"] == "text/html; charset=utf-8"
    assert re.search(rf'<td dir="auto"><a href="[^"]+">{RTL_ACCOUNT}</a></td>', listing.text)
    overview = client.get(f"/ui/accounts/{RTL_ACCOUNT}")
    assert overview.status_code == 200
    assert f'<h1 dir="auto">{RTL_ACCOUNT}</h1>' in overview.text
    assert "Nothing has been published yet" in overview.text


@pytest.mark.parametrize(
    "path",
    [
        "/ui/accounts/globex",
        "/ui/accounts/globex/caps",
        "/ui/accounts/globex/frontier",
        "/ui/jobs?account=globex",
        "/ui/accounts/acme/curves/0000000000000000",
        "/ui/caps/999999",
    ],
    ids=["overview", "caps", "frontier", "jobs", "unknown-curve", "unknown-cap"],
)
def test_another_accounts_pages_are_404(client, seeded: Seeded, path: str) -> None:
    sign_in(client, seeded.keys["manager"])
    answer = client.get(path)
    assert answer.status_code == 404
    assert "Not found" in answer.text and "USD" not in answer.text


def test_a_non_numeric_cap_id_is_422_not_500(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["finance"])
    assert client.get("/ui/caps/abc").status_code == 422


def test_the_stylesheet_is_responsive_and_printable(client) -> None:
    answer = client.get("/ui/static/ui.css")
    assert answer.headers["content-type"].startswith("text/css")
    assert "@media print" in answer.text and "@media (max-width" in answer.text


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1_234_560_000, "EUR", "1,234.56 EUR"),
        (1_234_999_999, "JPY", "1,234 JPY"),
        (0.1 + 0.2, "EUR", "0.30 EUR"),
        ("12.345", "KWD", "12.345 KWD"),
        (float("nan"), "EUR", "-"),
    ],
    ids=["micros", "zero-decimals", "float", "three-decimals", "nan"],
)
def test_money_is_formatted_exactly_in_the_currency(amount, currency: str, shown: str) -> None:
    assert money(amount, currency) == shown


def test_the_overview_names_what_gave_way_to_the_cap(client, seeded: Seeded) -> None:
    """A one-euro cap leaves no room for the trust-region floors: the published plan says so, and
    the account page shows it beside the figures."""
    day = dt.date.today() + dt.timedelta(days=90)
    cap = propose_cap(seeded.engine, seeded.principal("manager"), "acme", period_start=day,
                      period_end=day, amount="1.00", currency="EUR")  # fmt: skip
    decide_cap(seeded.engine, seeded.principal("finance"), cap.id, approve=True)
    rec = publish(seeded.engine, seeded.principal("manager"), "acme", day)
    relaxed = [n["text"] for n in rec.notes if n["kind"] == "relaxed"]
    assert relaxed and relaxed[0].endswith("to fit the cap of 1.00 EUR")
    sign_in(client, seeded.keys["finance"])
    overview = client.get("/ui/accounts/acme").text
    assert relaxed[0] in overview


def test_the_accuracy_page_and_the_months_report(client, seeded: Seeded) -> None:
    sign_in(client, seeded.keys["finance"])
    accuracy = client.get("/ui/accounts/acme/accuracy")
    assert accuracy.status_code == 200, accuracy.text[:500]
    assert "How well the plans predicted" in accuracy.text
    assert "Spend tests" in accuracy.text and "No spend tests yet" in accuracy.text
    month = dt.date.today().strftime("%Y-%m")
    english = client.get(f"/ui/accounts/acme/reports/{month}", params={"lang": "en"})
    persian = client.get(f"/ui/accounts/acme/reports/{month}", params={"lang": "fa"})
    assert english.status_code == persian.status_code == 200
    assert "Spend against the cap" in english.text and 'dir="rtl"' in persian.text
    assert client.get("/ui/accounts/acme/reports/2026-13").status_code == 422
    solar = client.get(
        f"/ui/accounts/acme/reports/{month}", params={"lang": "fa", "calendar": "jalali"}
    )
    assert solar.status_code == 200 and "calendar=jalali" in accuracy.text
    gregorian = format_date(dt.date.today(), "MMMM", locale="fa")
    assert gregorian in persian.text and gregorian not in solar.text
    unknown = client.get(f"/ui/accounts/acme/reports/{month}", params={"calendar": "hijri"})
    assert unknown.status_code == 422
