"""Plots are produced, non-empty and show what they claim (checked on the image, not the code)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from optimizer.planning import plan_day, plan_frontier
from optimizer.plots import (
    allocation_figure,
    curve_figure,
    figure_bytes,
    frontier_figure,
    save_figure,
)
from optimizer.solver import AllocationRequest


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
            plan_day(curve_set, AllocationRequest(currency="EUR", budget=budget), day).allocation
        )
    path = tmp_path / f"{kind}.png"
    save_figure(fig, path)
    _is_real_picture(path)


def test_svg_bytes(small_fit) -> None:
    curve = next(iter(small_fit[0]))
    data = figure_bytes(curve_figure(curve), "svg")
    assert data.lstrip().startswith(b"<?xml") and b"<svg" in data
