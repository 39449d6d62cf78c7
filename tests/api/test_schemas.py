"""Days in requests are range-checked where they arrive: a 422 naming the field, never an
overflow (or a 'non-finite numbers' puzzle) deeper in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.harness import Server

_FAR = ("0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31")


def _requests(day: str) -> list[tuple[str, str, dict[str, Any]]]:
    cap = {"period_start": day, "period_end": day, "amount": "10", "currency": "EUR"}
    return [
        ("POST", "/v1/accounts/acme/caps", {"json": cap}),
        ("POST", "/v1/accounts/acme/optimizations", {"json": {"date": day, "budget": "100"}}),
        ("POST", "/v1/accounts/acme/frontier", {"json": {"date": day}}),
        ("POST", "/v1/accounts/acme/recommendations", {"json": {"date": day}}),
        ("POST", "/v1/accounts/acme/events", {"json": {"start": day, "end": day, "kind": "promo"}}),
        ("GET", "/v1/accounts/acme/recommendations", {"params": {"date": day}}),
    ]


@pytest.mark.parametrize("day", _FAR, ids=["year-1", "before-2000", "after-2099", "year-9999"])
def test_a_day_out_of_range_is_a_422_naming_the_field(server: Server, day: str) -> None:
    with server.client("manager") as client:
        for method, path, kwargs in _requests(day):
            answer = client.request(method, path, **kwargs)
            assert answer.status_code == 422, (path, answer.text)
            assert "greater than or equal" in answer.text or "less than or equal" in answer.text
