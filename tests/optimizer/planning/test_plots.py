"""Plots are produced, non-empty and show what they claim (checked on the image, not the code)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from optimizer.planning import plan_day, plan_frontier
from optimizer.plots import (
    allocation_figure,
    curve_figure,
    figure_bytes,
    frontier_figure,
    save_figure,
    spend_bars_figure,
)
from optimizer.solver import AllocationRequest
from tests.optimizer.solver.solver_helpers import to_micros


def _is_real_picture(path: Path) -> None:
    image = imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 300
    assert np.std(image[..., :3]) > 0.05  # not a blank canvas


@pytest.mark.parametrize(
    "kind", ["curve", "frontier", "allocation"], ids=["curve", "frontier", "allocation"]
)
def test_plots_write_non_empty_png(small_fit, tmp_path: Path, kind: str) -> None:
    curve_set, history = small_fit
    day = curve_set.window_end + dt.timedelta(days=1)
    request = AllocationRequest(currency="EUR")
    if kind == "curve":
        curve = max(curve_set, key=lambda c: c.current_spend)
        rows = history[
            (history["campaign"] == curve.key.campaign) & (history["keyword"] == curve.key.keyword)
        ]
        fig = curve_figure(curve, rows, recommended_spend=curve.current_spend * 1.2)
    elif kind == "frontier":
        fig = frontier_figure(plan_frontier(curve_set, request, day))
    else:
        budget = sum(c.current_spend for c in curve_set)
        fig = allocation_figure(
            plan_day(
                curve_set, AllocationRequest(currency="EUR", budget_micros=to_micros(budget)), day
            ).allocation
        )
    path = tmp_path / f"{kind}.png"
    save_figure(fig, path)
    _is_real_picture(path)


def test_svg_bytes(small_fit) -> None:
    curve = next(iter(small_fit[0]))
    data = figure_bytes(curve_figure(curve), "svg")
    assert data.lstrip().startswith(b"<?xml") and b"<svg" in data


@pytest.mark.parametrize("fmt", ["png", "svg"], ids=["png", "svg"])
def test_frontier_marks_cap_and_recommendation(small_fit, fmt: str) -> None:
    curve_set, _ = small_fit
    day = curve_set.window_end + dt.timedelta(days=1)
    result = plan_frontier(curve_set, AllocationRequest(currency="EUR"), day)
    fig = frontier_figure(
        result, cap=result.current_total * 1.5, recommended=result.current_total * 1.3,
        cap_label="budget under the cap",
    )  # fmt: skip
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["current total", "budget under the cap", "recommended"]
    assert len(figure_bytes(fig, fmt)) > 10_000


def test_spend_bars_from_a_published_table_escape_names_in_svg(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "campaign": ["Brand <script>alert(1)</script>", "متجر -- عام", "Generic"],
            "current_spend": [120.5, 80.0, 10.25],
            "recommended_spend": [150.0, 60.0, 0.0],
        }
    )
    fig = spend_bars_figure(table, "EUR")
    svg = figure_bytes(fig, "svg")
    assert b"<svg" in svg and b"<script" not in svg
    path = tmp_path / "bars.png"
    save_figure(fig, path)
    _is_real_picture(path)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][-1].startswith("Brand")


def test_funnel_figure_shows_both_parts(tmp_path: Path) -> None:
    from optimizer.models import fit_account
    from optimizer.plots import funnel_figure
    from optimizer.simulate import Scenario, simulate

    sim = simulate(
        campaigns=4, keywords_per_campaign=8, days=150, seed=51, scenario=Scenario(auction=True)
    )
    curves = fit_account(sim.history)
    curve = next(c for c in curves if c.diagnostics.mode == "funnel")
    rows = sim.history[
        (sim.history["campaign"] == curve.key.campaign)
        & (sim.history["keyword"] == curve.key.keyword)
        & (sim.history["match_type"] == curve.key.match_type)
    ]
    fig = funnel_figure(curve, rows)
    left, right = fig.axes
    assert left.get_ylabel() == "clicks per day" and right.get_xlabel() == "clicks per day"
    assert any("convert" in t.get_text() for t in right.get_legend().get_texts())
    path = tmp_path / "funnel.png"
    save_figure(fig, path)
    _is_real_picture(path)
