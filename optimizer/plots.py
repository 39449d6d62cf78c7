"""Pictures a PPC manager decides by: a curve with its data and band, the budget frontier, the plan.

Pure functions from results to matplotlib `Figure` objects, made without pyplot (no global state, so
the API can draw in several threads, and no screen is needed); callers save them as PNG or SVG with
`save_figure` / `figure_bytes`. Result objects never plot themselves.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.figure import Figure

from optimizer.families import evaluate
from optimizer.models import EntityCurve
from optimizer.schema import entity_label
from optimizer.solver import Allocation, Frontier

__all__ = [
    "accuracy_figure",
    "allocation_figure",
    "cap_pacing_figure",
    "curve_figure",
    "figure_bytes",
    "frontier_figure",
    "funnel_figure",
    "per_day",
    "save_figure",
    "spend_bars_figure",
]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CMAP = matplotlib.colormaps["tab10"]


def per_day(history: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Rows a week or a month apart as daily averages, so they sit on the per-day curves."""
    if grain == "day" or history.empty:
        return history
    dates = pd.to_datetime(history["date"])
    days = 7 if grain == "week" else dates.dt.days_in_month.to_numpy()
    scaled = history.copy()
    for column in ("spend", "clicks", "conversions", "conversion_value"):
        scaled[column] = history[column].to_numpy(dtype=float) / days
    return scaled


def curve_figure(
    curve: EntityCurve,
    history: pd.DataFrame | None = None,
    *,
    recommended_spend: float | None = None,
) -> Figure:
    """Daily points coloured by weekday, the fitted curve, its 10-90% band and the trust region.

    `history` is the entity's model-shaped rows (spend, conversions, date). The curve is drawn at
    the calendar factor 1 (an average weekday at the reference date).
    """
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.subplots()
    top = max(curve.trust_high * 1.1, curve.current_spend * 1.2, 1e-9)
    if history is not None and len(history):
        top = max(top, float(history["spend"].max()) * 1.05)
        weekdays = pd.to_datetime(history["date"]).dt.day_of_week.to_numpy()
        for day in range(7):
            mask = weekdays == day
            if mask.any():
                ax.scatter(
                    history["spend"].to_numpy()[mask],
                    history["conversions"].to_numpy()[mask],
                    s=12,
                    alpha=0.6,
                    color=_CMAP(day),
                    label=_WEEKDAYS[day],
                )
    x = np.linspace(0.0, top, 200)
    ax.axvspan(curve.trust_low, curve.trust_high, color="0.92", zorder=0, label="trust region")
    if curve.band_spend:
        ax.fill_between(
            curve.band_spend, curve.band_low, curve.band_high, color="C0", alpha=0.2,
            label="10-90% band",
        )  # fmt: skip
    ax.plot(x, curve.expected(x), color="C0", linewidth=2, label=f"fitted ({curve.lookup_name})")
    ax.axvline(curve.current_spend, color="0.3", linestyle="--", label="current spend")
    if recommended_spend is not None:
        ax.axvline(recommended_spend, color="C3", linestyle="-", label="recommended")
    ax.set_xlabel("daily spend")
    ax.set_ylabel("conversions per day")
    grade = curve.diagnostics.grade
    ax.set_title(f"{entity_label(curve.key)}  (grade {grade})", fontsize=10)
    ax.set_xlim(0, top)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    return fig


def funnel_figure(curve: EntityCurve, history: pd.DataFrame | None = None) -> Figure:
    """The click funnel's two parts: spend -> clicks (daily points and the fitted click curve) and
    clicks -> conversions (daily points and the fitted conversion rate per click).

    Drawn at the calendar factor 1, like `curve_figure`; for an entity fitted directly (no funnel)
    the right panel shows the data only.
    """
    d = curve.diagnostics
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    top = max(curve.trust_high * 1.1, curve.current_spend * 1.2, 1e-9)
    if history is not None and len(history):
        top = max(top, float(history["spend"].max()) * 1.05)
        left.scatter(history["spend"], history["clicks"], s=10, alpha=0.5, color="C7")
        right.scatter(history["clicks"], history["conversions"], s=10, alpha=0.5, color="C7")
    x = np.linspace(0.0, top, 200)
    if d.clicks_params:
        clicks = evaluate(curve.lookup_name, d.clicks_params, x)
        left.plot(x, clicks, color="C1", linewidth=2, label=f"clicks ({curve.lookup_name})")
        if d.conversion_rate is not None:
            reach = float(clicks.max()) * 1.1
            if history is not None and len(history):
                reach = max(reach, float(history["clicks"].max()) * 1.05)
            c = np.linspace(0.0, reach, 50)
            right.plot(c, d.conversion_rate * c, color="C0", linewidth=2,
                       label=f"{d.conversion_rate:.2%} of clicks convert")  # fmt: skip
    left.axvspan(curve.trust_low, curve.trust_high, color="0.92", zorder=0, label="trust region")
    left.axvline(curve.current_spend, color="0.3", linestyle="--", label="current spend")
    left.set_xlabel("daily spend")
    left.set_ylabel("clicks per day")
    left.set_xlim(0, top)
    left.set_ylim(bottom=0)
    right.set_xlabel("clicks per day")
    right.set_ylabel("conversions per day")
    right.set_xlim(left=0)
    right.set_ylim(bottom=0)
    for ax in (left, right):
        handles, _ = ax.get_legend_handles_labels()
        if handles:
            ax.legend(fontsize=7, loc="lower right")
    mode = "click funnel" if d.mode == "funnel" else "fitted directly (no funnel)"
    fig.suptitle(f"{entity_label(curve.key)}: {mode}", fontsize=10)
    return fig


def frontier_figure(
    frontier: Frontier,
    *,
    cap: float | None = None,
    recommended: float | None = None,
    cap_label: str = "cap",
) -> Figure:
    """Expected conversions against total budget, with the current total, the cap and the
    recommended total marked (`cap_label` names the cap line, e.g. a day's share of a month)."""
    points = frontier.points[frontier.points["feasible"].astype(bool)]
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(points["budget"], points["expected_conversions"], marker="o", color="C0")
    left.axvline(frontier.current_total, color="0.3", linestyle="--", label="current total")
    if cap is not None:
        left.axvline(cap, color="C3", label=cap_label)
    if recommended is not None:
        left.axvline(recommended, color="C2", linestyle=":", linewidth=2, label="recommended")
    left.set_xlabel(f"total daily budget ({frontier.currency})")
    left.set_ylabel("expected conversions per day")
    left.legend(fontsize=8)
    right.plot(points["budget"], points["marginal_cpa"], marker="o", color="C1", label="marginal")
    right.plot(points["budget"], points["average_cpa"], marker=".", color="C2", label="average")
    right.set_xlabel(f"total daily budget ({frontier.currency})")
    right.set_ylabel(f"CPA ({frontier.currency})")
    right.legend(fontsize=8)
    fig.suptitle("Budget frontier: what each budget buys", fontsize=11)
    return fig


def cap_pacing_figure(
    *,
    period: tuple[dt.date, dt.date],
    cap: float,
    reported: Sequence[tuple[dt.date, float]],
    estimated: Sequence[tuple[dt.date, float]],
    planned: Sequence[tuple[dt.date, float]],
    band: tuple[float, float] | None,
    currency: str,
) -> Figure:
    """A cap's period: cumulative spend reported, then estimated (not yet reported), then the
    period plan's path, against an even pace to the cap; the forecast's band at the period's end."""
    start, end = period
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(_dates([start, end]), [0, cap], color="0.6", linestyle="--", label="even pace")
    ax.axhline(cap, color="C3", label="cap")
    total = 0.0
    last = (start - dt.timedelta(days=1), 0.0)
    for days, style in ((reported, "reported"), (estimated, "estimated"), (planned, "planned")):
        xs, ys = [last[0]], [last[1]]
        for day, spend in days:
            total += spend
            xs.append(day)
            ys.append(total)
        if len(xs) > 1:
            look = {"reported": ("C0", "-"), "estimated": ("C1", ":"), "planned": ("C2", "-.")}
            color, line = look[style]
            label = {"planned": "period plan", "estimated": "estimated, not yet reported"}
            ax.plot(
                _dates(xs),
                ys,
                color=color,
                linestyle=line,
                marker=".",
                label=label.get(style, style),
            )
            last = (xs[-1], ys[-1])
    if band is not None:
        low, high = band
        ax.errorbar(
            _dates([end]),
            [total],
            yerr=[[max(0.0, total - low)], [max(0.0, high - total)]],
            color="C2",
            capsize=6,
            label="forecast band",
        )
    ax.set_ylabel(f"spend in the period ({currency})")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Spend against the cap", fontsize=10)
    fig.autofmt_xdate()
    return fig


def _dates(days: Sequence[dt.date]) -> npt.NDArray[np.datetime64]:
    return np.array(days, dtype="datetime64[D]")


def allocation_figure(allocation: Allocation) -> Figure:
    """Current against recommended spend per campaign (horizontal bars)."""
    return spend_bars_figure(allocation.campaigns(), allocation.currency)


def spend_bars_figure(campaigns: pd.DataFrame, currency: str) -> Figure:
    """Current against recommended spend per campaign, from any table with the columns
    `campaign`, `current_spend` and `recommended_spend` (a plan, or a published recommendation)."""
    rows = campaigns.sort_values("recommended_spend")
    height = max(2.5, 0.35 * len(rows) + 1)
    fig = Figure(figsize=(8, height), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(rows))
    current = rows["current_spend"].astype(float)
    recommended = rows["recommended_spend"].astype(float)
    ax.barh(y - 0.2, current, height=0.4, color="0.6", label="current")
    ax.barh(y + 0.2, recommended, height=0.4, color="C0", label="recommended")
    ax.set_yticks(y, rows["campaign"], fontsize=8)
    ax.set_xlabel(f"daily spend ({currency})")
    ax.legend(fontsize=8)
    ax.set_title("Current vs recommended spend by campaign", fontsize=10)
    return fig


def accuracy_figure(by_day: pd.DataFrame) -> Figure:
    """The ledger: predicted (at the spend made) and actual conversions per day."""
    fig = Figure(figsize=(7.5, 3.0))
    ax = fig.subplots()
    ax.plot(by_day["date"], by_day["actual"], color="C0", label="actual")
    ax.plot(by_day["date"], by_day["predicted"], color="C1", linestyle="--", label="predicted")
    ax.set_ylabel("conversions per day")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: Path) -> None:
    """PNG or SVG by the file's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def figure_bytes(fig: Figure, fmt: str = "png") -> bytes:
    """The figure encoded as PNG or SVG bytes (for HTTP responses)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=110)
    return buffer.getvalue()
