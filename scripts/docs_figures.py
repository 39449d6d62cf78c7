"""Draw docs/models.md's pictures of real-shaped data: conversion lag, the click funnel, events,
budget limits and S-shapes, each from the simulator with that effect switched on.

    .venv/bin/python scripts/docs_figures.py docs/img
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optimizer.models import FitOptions, fit_account
from optimizer.models.context import FitContext
from optimizer.models.events import Event
from optimizer.families import evaluate
from optimizer.models.lag import DEFAULT_LAG, learn_lag
from optimizer.plots import funnel_figure, save_figure
from optimizer.schema import LOST_IS_BUDGET_COLUMN, NAME_COLUMNS
from optimizer.simulate import ConversionLag, Scenario, Simulation, TrueEvent, simulate
from optimizer.simulate.generator import DEFAULT_START
from optimizer.solver.curves import EntityCurves
from optimizer.solver.segments import entry_points

SIZE = {"campaigns": 6, "keywords_per_campaign": 10, "days": 180}


def _rows(history: pd.DataFrame, key: object) -> pd.DataFrame:
    mask = np.ones(len(history), dtype=bool)
    for name in NAME_COLUMNS:
        mask &= (history[name] == getattr(key, name)).to_numpy()
    return history.loc[mask]


def _snapshots(sim: Simulation) -> pd.DataFrame:
    end = sim.history["date"].max().date()
    parts = []
    for upload in range(10):
        as_of = end - dt.timedelta(days=7 * (9 - upload))
        totals = sim.export(as_of, last_days=35).groupby(["campaign", "date"])["conversions"]
        frame = totals.sum().reset_index()
        frame["as_of"], frame["upload"] = pd.Timestamp(as_of), upload
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def lag_figure(out: Path) -> None:
    true = ConversionLag.typical(same_day=0.5, mean_days=7.0, horizon=45)
    sim = simulate(**SIZE, seed=3, scenario=Scenario(lag=true))
    final = simulate(**SIZE, seed=3).history.groupby("date")["conversions"].sum()
    exported = sim.history.groupby("date")["conversions"].sum()
    learned = learn_lag(_snapshots(sim))
    assert learned is not None
    shares = learned.share(np.arange(len(exported))[::-1])
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    last = exported.index[-60:]
    left.plot(last, final[last], color="0.5", label="conversions, finally reported")
    left.plot(last, exported[last], color="C3", label="as the export shows them")
    left.plot(last, final[last] * shares[-60:], color="C0", linestyle="--",
              label="final x share reported (what the fit expects)")  # fmt: skip
    left.set_ylabel("conversions per day (account)")
    left.tick_params(axis="x", labelrotation=30)
    left.legend(fontsize=8)
    left.set_title("The last weeks of an export are not under-performing", fontsize=10)
    ages = np.arange(46)
    right.plot(ages, true.share(ages), color="0.3", label="true lag (simulator)")
    right.plot(ages, learned.share(ages), color="C0", marker=".", label="learned from re-uploads")
    right.plot(ages, DEFAULT_LAG.share(ages), color="C1", linestyle=":", label="default")
    right.set_xlabel("days since the day (age at export)")
    right.set_ylabel("share of its conversions reported")
    right.set_ylim(0.4, 1.02)
    right.legend(fontsize=8)
    right.set_title("Lag profile", fontsize=10)
    save_figure(fig, out / "realism-lag.png")


def funnel_picture(out: Path) -> None:
    sim = simulate(**SIZE, seed=51, scenario=Scenario(auction=True))
    curves = fit_account(sim.history)
    funnel = [c for c in curves if c.diagnostics.mode == "funnel" and not c.key.is_campaign_level]
    curve = max(funnel, key=lambda c: c.diagnostics.conversions)
    save_figure(funnel_figure(curve, _rows(sim.history, curve.key)), out / "realism-funnel.png")


def events_figure(out: Path) -> None:
    end = DEFAULT_START + dt.timedelta(days=SIZE["days"] - 1)
    promo = TrueEvent(end - dt.timedelta(days=23), end - dt.timedelta(days=10), "promo", 1.5)
    sim = simulate(**SIZE, seed=31, scenario=Scenario(events=(promo,)))
    daily = sim.history.groupby("date")["conversions"].sum()
    unmarked = fit_account(sim.history)
    marked = fit_account(
        sim.history, context=FitContext(events=(Event(promo.start, promo.end, "promo"),))
    )
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(daily.index, daily.to_numpy(), color="0.5", linewidth=1, label="conversions per day")
    for curve_set, color, label in ((unmarked, "C3", "fit, promotion not marked"),
                                    (marked, "C0", "fit, promotion marked")):  # fmt: skip
        span = [curve_set.window_end + dt.timedelta(days=i) for i in range(1, 15)]
        expected = [sum(float(c.expected(c.current_spend, d)) for c in curve_set) for d in span]
        ax.plot(span, expected, color=color, linewidth=2, label=f"{label}: next two weeks")
    for event in unmarked.proposed_events:
        ax.axvspan(event.start, event.end, color="C2", alpha=0.15,
                   label=f"proposed event ({event.kind})")  # fmt: skip
    ax.set_ylabel("conversions per day (account)")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("A late promotion: proposed as an event; marked, it no longer lifts the forecast",
                 fontsize=10)  # fmt: skip
    save_figure(fig, out / "realism-events.png")


def budget_figure(out: Path) -> None:
    sim = simulate(
        **SIZE, seed=71, scenario=Scenario(budget_limited_campaigns=2, impression_share=True)
    )
    curves = fit_account(sim.history)
    curve = max((c for c in curves if c.diagnostics.budget_limited), key=lambda c: c.current_spend)
    rows = _rows(sim.history, curve.key)
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(rows["date"], rows["spend"], color="C0", label="daily spend")
    share = left.twinx()
    share.plot(rows["date"], rows[LOST_IS_BUDGET_COLUMN], color="C3", linewidth=1,
               label="search lost IS (budget)")  # fmt: skip
    share.set_ylim(0, 1)
    share.set_ylabel("impression share lost to budget")
    left.set_ylabel("daily spend")
    left.tick_params(axis="x", labelrotation=30)
    left.legend(fontsize=8, loc="upper left")
    share.legend(fontsize=8, loc="upper right")
    left.set_title("Spend pinned at the budget, impressions lost to it", fontsize=10)
    top = max(float(rows["spend"].max()) * 1.6, curve.trust_high * 1.2)
    x = np.linspace(0.0, top, 200)
    right.scatter(rows["spend"], rows["conversions"], s=8, alpha=0.5, color="0.5")
    right.plot(x, curve.expected(x), color="C0", linewidth=2, label="fitted curve")
    right.axvspan(curve.trust_low, curve.trust_high, color="C2", alpha=0.2,
                  label="allowed move (+-10%)")  # fmt: skip
    right.axvline(curve.current_spend, color="0.3", linestyle="--", label="current spend")
    right.set_xlabel("daily spend")
    right.set_ylabel("conversions per day")
    right.legend(fontsize=8, loc="lower right")
    right.set_title("Flagged C: the curve above the budget is unseen", fontsize=10)
    save_figure(fig, out / "realism-budget.png")


def s_shape_figure(out: Path) -> None:
    sim = simulate(**SIZE, seed=61, scenario=Scenario(s_shaped_share=0.4, auction=True))
    curves = fit_account(sim.history)
    concave = fit_account(sim.history, FitOptions(s_shapes=False))
    shaped = [c for c in curves if c.lookup_name == "s_hill"]
    curve = max(shaped, key=lambda c: c.diagnostics.s_statistic or 0.0)
    other = concave.get(curve.key)
    rows = _rows(sim.history, curve.key)
    top = float(rows["spend"].max()) * 1.3
    x = np.linspace(0.0, top, 300)
    table = pd.DataFrame(
        {"family": [curve.lookup_name], "multiplier": [1.0],
         **{p: [curve.params.get(p, np.nan)] for p in ("a", "k", "s", "b")}}
    )  # fmt: skip
    entry = entry_points(
        EntityCurves.from_table(table), np.array([0.0]), np.array([top]), np.array([True])
    )[0]
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.scatter(rows["spend"], rows["conversions"], s=8, alpha=0.5, color="0.5", label="days")
    ax.plot(x, evaluate(curve.lookup_name, curve.params, x), color="C0", linewidth=2,
            label="S-shaped fit")  # fmt: skip
    ax.plot(x, evaluate(other.lookup_name, other.params, x), color="C1", linestyle=":",
            label=f"concave fit ({other.lookup_name})")  # fmt: skip
    y = float(evaluate(curve.lookup_name, curve.params, np.array(entry))[()])
    ax.plot([0, entry], [0, y], color="C3", linestyle="--",
            label="first step: 0 or the minimum efficient spend")  # fmt: skip
    ax.scatter([entry], [y], color="C3", zorder=5)
    ax.set_xlabel("daily spend")
    ax.set_ylabel("conversions per day")
    ax.set_xlim(0, top)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    statistic = curve.diagnostics.s_statistic or 0.0
    ax.set_title(f"Increasing returns at low spend (test statistic {statistic:.0f})", fontsize=10)
    save_figure(fig, out / "realism-s-shape.png")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("docs/img")
    for draw in (lag_figure, funnel_picture, events_figure, budget_figure, s_shape_figure):
        draw(out)
        print(f"drew {draw.__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
