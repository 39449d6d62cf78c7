"""A cap as finance reviews it: the period's spend so far, its pace and where it will end.

Finance approves a cap for a period; before deciding (and while it runs) they want the numbers:
the spend reported in the period, the days the platform spent on that no report has reached
(estimated, as publish counts them: `optimizer.usecases.cap_pacing`), the path the period plan
would spend over the days left under this cap, the forecast at the period's end with its band, and
the plans published under the cap. The forecast uses the same pacing as publish, so it is what
ppcopt would budget, not a guess of its own.

The band: the low end adds the expected spend of the unreported days and, for each day left, the
lower of the plan's budget and the account's recent daily mean (platforms often spend below the
budget); the high end adds the most the platform could have spent on the unreported days and the
plan's path with its first day overdelivered at the overdelivery factor (the most the platform may
spend in a day; each later day is re-planned nightly, so an overdelivery is taken off the days
after it, which is what keeps the pacing guard's promise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from optimizer.access import Principal
from optimizer.errors import NotFoundError
from optimizer.planning import paced
from optimizer.solver import OVERDELIVERY_FACTOR, PacingPlan
from optimizer.store.curves import load_curve_set
from optimizer.store.engine import transaction
from optimizer.store.tables import performance, recommendations
from optimizer.usecases.accounts import Account, find_account
from optimizer.usecases.cap_pacing import UnreportedDay, cap_spend, unreported_days
from optimizer.usecases.caps import Cap, get_cap
from optimizer.usecases.optimize import tomorrow
from optimizer.usecases.policy import policy_for

__all__ = ["CapForecast", "CapPlan", "CapReview", "review_cap"]


@dataclass(frozen=True, slots=True)
class CapPlan:
    """A plan published under the cap."""

    id: int
    day: dt.date
    budget_micros: int
    total_micros: int
    created_by: str


@dataclass(frozen=True, slots=True)
class CapForecast:
    """The period plan from `pacing.day` to the period's end, and where the period ends."""

    pacing: PacingPlan
    end_micros: int
    low_micros: int
    high_micros: int


@dataclass(frozen=True, slots=True)
class CapReview:
    cap: Cap
    account: Account
    day: dt.date
    daily: tuple[tuple[dt.date, int], ...]
    reported_micros: int
    unreported: tuple[UnreportedDay, ...]
    forecast: CapForecast | None
    forecast_note: str
    plans: tuple[CapPlan, ...]

    @property
    def estimated_micros(self) -> int:
        return sum(u.expected_micros for u in self.unreported)

    @property
    def elapsed_days(self) -> int:
        """Days of the period before the day being planned."""
        end = min(self.day, self.cap.period_end + dt.timedelta(days=1))
        return max(0, (end - self.cap.period_start).days)


def review_cap(
    engine: Engine, principal: Principal, cap_id: int, *, now: dt.datetime | None = None
) -> CapReview:
    """The cap's numbers as of tomorrow in the account's time zone (whoever may read the cap)."""
    cap = get_cap(engine, principal, cap_id)
    with transaction(engine) as connection:
        account = find_account(connection, cap.account)
        day = tomorrow(account, now)
        end = min(day, cap.period_end + dt.timedelta(days=1))
        rows = connection.execute(
            select(performance.c.date, func.sum(performance.c.spend_micros))
            .where(
                performance.c.account_id == account.id,
                performance.c.date >= cap.period_start,
                performance.c.date < end,
            )
            .group_by(performance.c.date)
            .order_by(performance.c.date)
        ).all()
        gaps = unreported_days(connection, account, end)
        spend = cap_spend(connection, account.id, cap, end, gaps)
        plans = connection.execute(
            select(recommendations)
            .where(recommendations.c.cap_id == cap.id)
            .order_by(recommendations.c.date, recommendations.c.id)
        ).all()
        forecast, note = None, "the period has ended: nothing is left to forecast"
        if day <= cap.period_end:
            try:
                stored = load_curve_set(connection, account.id)
            except NotFoundError:
                note = "no fitted curves yet: the period plan needs them to forecast"
            else:
                start = max(day, cap.period_start)
                table = stored.curve_set.table(start)
                _, policy = policy_for(connection, account.id)
                pacing = paced(
                    stored.curve_set,
                    policy.request(account.currency, table),
                    start,
                    cap_micros=cap.amount_micros,
                    spent_micros=spend.counted_micros,
                    period_end=cap.period_end,
                )
                recent = [int(r[1]) for r in rows[-14:]]
                forecast = _forecast(spend.reported_micros, spend.unreported, pacing, recent)
                note = ""
    return CapReview(
        cap=cap,
        account=account,
        day=day,
        daily=tuple((r[0], int(r[1])) for r in rows),
        reported_micros=spend.reported_micros,
        unreported=spend.unreported,
        forecast=forecast,
        forecast_note=note,
        plans=tuple(
            CapPlan(int(p.id), p.date, int(p.budget_micros), int(p.total_micros), p.created_by)
            for p in plans
        ),
    )


def _forecast(
    reported: int,
    unreported: tuple[UnreportedDay, ...],
    pacing: PacingPlan,
    recent: list[int],
) -> CapForecast:
    planned = [micros for _, micros in pacing.forecast] or [pacing.daily_budget_micros]
    mean = sum(recent) // len(recent) if recent else max(planned)
    expected = sum(u.expected_micros for u in unreported)
    reserved = sum(u.reserved_micros for u in unreported)
    return CapForecast(
        pacing=pacing,
        end_micros=reported + expected + sum(planned),
        low_micros=reported + expected + sum(min(p, mean) for p in planned),
        high_micros=reported
        + reserved
        + sum(planned)
        + int(planned[0] * (OVERDELIVERY_FACTOR - 1)),
    )
