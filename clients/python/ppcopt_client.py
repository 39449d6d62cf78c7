"""A small typed client for the ppc-budget-optimizer HTTP API.

One module with one dependency (httpx) so it can be copied into any project. Money comes back as
`Decimal`, exactly as the API writes it; errors are the typed exceptions below, one per status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Literal, Self, overload
from urllib.parse import quote

import httpx

__all__ = [
    "ApiError",
    "AuthError",
    "Cap",
    "ConflictError",
    "NotFoundError",
    "PpcoptClient",
    "PpcoptError",
    "Recommendation",
    "RecommendationCsv",
    "RecommendationRow",
    "ResponseFormatError",
]

Level = Literal["campaign", "keyword"]


class PpcoptError(Exception):
    """Base of every error this client raises."""


class ApiError(PpcoptError):
    """The API answered with an error status; `code` and `detail` come from its JSON body."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"HTTP {status} {code}: {detail}" if detail else f"HTTP {status} {code}")
        self.status = status
        self.code = code
        self.detail = detail


class AuthError(ApiError):
    """401 (unknown or missing key) or 403 (key not valid for this account)."""


class NotFoundError(ApiError):
    """404: nothing published for the account (or no such account)."""


class ConflictError(ApiError):
    """409: e.g. no approved spend cap."""


class ResponseFormatError(PpcoptError):
    """A 200 whose body does not follow the contract."""


@dataclass(frozen=True, slots=True)
class Cap:
    id: int
    period_start: date
    period_end: date
    amount: Decimal
    currency: str
    status: str


@dataclass(frozen=True, slots=True)
class RecommendationRow:
    date: date
    campaign: str
    ad_group: str
    keyword: str
    match_type: str
    current_spend: Decimal
    recommended_spend: Decimal
    change_pct: float | None
    expected_conversions: float | None
    expected_conversions_low: float | None
    expected_conversions_high: float | None
    expected_value: float | None
    marginal_cpa: float | None
    bound: str
    campaign_id: str | None = None
    likely_conversions_low: float | None = None
    likely_conversions_high: float | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    id: int
    account: str
    date: date
    level: str
    currency: str
    created_at: datetime
    cap: Cap | None
    budget: Decimal
    total_recommended: Decimal
    rows: tuple[RecommendationRow, ...]
    etag: str | None


@dataclass(frozen=True, slots=True)
class RecommendationCsv:
    text: str
    etag: str | None


class PpcoptClient:
    """`PpcoptClient(base_url, key)`; pass `transport` to test against `httpx.MockTransport`."""

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @overload
    def latest_recommendation(
        self, account: str, level: Level = ..., *, etag: None = None
    ) -> Recommendation: ...

    @overload
    def latest_recommendation(
        self, account: str, level: Level = ..., *, etag: str
    ) -> Recommendation | None: ...

    def latest_recommendation(
        self, account: str, level: Level = "campaign", *, etag: str | None = None
    ) -> Recommendation | None:
        """The latest published plan; with `etag` (from a previous answer), None when unchanged."""
        response = self._get(account, level, "json", etag)
        if response is None:
            return None
        try:
            return _recommendation(response.json(), response.headers.get("ETag"))
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise ResponseFormatError(f"unexpected recommendation body: {exc!r}") from exc

    @overload
    def latest_csv(
        self, account: str, level: Level = ..., *, etag: None = None
    ) -> RecommendationCsv: ...

    @overload
    def latest_csv(
        self, account: str, level: Level = ..., *, etag: str
    ) -> RecommendationCsv | None: ...

    def latest_csv(
        self, account: str, level: Level = "campaign", *, etag: str | None = None
    ) -> RecommendationCsv | None:
        """The same plan as CSV text (the optimizer's columns); None when `etag` still matches."""
        response = self._get(account, level, "csv", etag)
        if response is None:
            return None
        return RecommendationCsv(text=response.text, etag=response.headers.get("ETag"))

    def _get(self, account: str, level: str, fmt: str, etag: str | None) -> httpx.Response | None:
        headers = {"If-None-Match": etag} if etag else {}
        response = self._http.get(
            f"/v1/accounts/{quote(account, safe='')}/recommendations/latest",
            params={"level": level, "format": fmt},
            headers=headers,
        )
        if response.status_code == 304:
            return None
        if response.status_code != 200:
            raise _error(response)
        return response


_ERRORS: dict[int, type[ApiError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
}


def _error(response: httpx.Response) -> ApiError:
    code, detail = "http_error", response.text[:200]
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("error", code))
        detail = str(body.get("detail", ""))
    return _ERRORS.get(response.status_code, ApiError)(response.status_code, code, detail)


def _money(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise TypeError(f"money must be a decimal string, got {value!r}")
    return Decimal(value)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _cap(raw: dict[str, Any] | None) -> Cap | None:
    if raw is None:
        return None
    return Cap(
        id=int(raw["id"]),
        period_start=date.fromisoformat(raw["period_start"]),
        period_end=date.fromisoformat(raw["period_end"]),
        amount=_money(raw["amount"]),
        currency=str(raw["currency"]),
        status=str(raw["status"]),
    )


def _row(raw: dict[str, Any]) -> RecommendationRow:
    campaign_id = raw.get("campaign_id")
    return RecommendationRow(
        date=date.fromisoformat(raw["date"]),
        campaign=str(raw["campaign"]),
        ad_group=str(raw.get("ad_group") or ""),
        keyword=str(raw.get("keyword") or ""),
        match_type=str(raw.get("match_type") or ""),
        current_spend=_money(raw["current_spend"]),
        recommended_spend=_money(raw["recommended_spend"]),
        change_pct=_number(raw.get("change_pct")),
        expected_conversions=_number(raw.get("expected_conversions")),
        expected_conversions_low=_number(raw.get("expected_conversions_low")),
        expected_conversions_high=_number(raw.get("expected_conversions_high")),
        expected_value=_number(raw.get("expected_value")),
        marginal_cpa=_number(raw.get("marginal_cpa")),
        bound=str(raw.get("bound") or ""),
        campaign_id=None if campaign_id is None else str(campaign_id),
        likely_conversions_low=_number(raw.get("likely_conversions_low")),
        likely_conversions_high=_number(raw.get("likely_conversions_high")),
    )


def _recommendation(raw: dict[str, Any], etag: str | None) -> Recommendation:
    return Recommendation(
        id=int(raw["id"]),
        account=str(raw["account"]),
        date=date.fromisoformat(raw["date"]),
        level=str(raw["level"]),
        currency=str(raw["currency"]),
        created_at=datetime.fromisoformat(raw["created_at"]),
        cap=_cap(raw.get("cap")),
        budget=_money(raw["budget"]),
        total_recommended=_money(raw["total_recommended"]),
        rows=tuple(_row(r) for r in raw["rows"]),
        etag=etag,
    )
