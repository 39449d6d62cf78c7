"""Thin keywords borrow from their campaign and never promise more than the campaign curve."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.families import evaluate
from optimizer.models import CurveSet, FitOptions
from optimizer.models.pooling import classify, fallback_cap, scaled_shape


def test_thin_keywords_are_pooled(thin_fit: CurveSet) -> None:
    pooled = {c.key.keyword: c.diagnostics.pooled for c in thin_fit}
    assert pooled["thin rare"] == "fallback"
    assert pooled["thin flat"] == "fallback"
    assert pooled["thin small"] in ("shrunk", "fallback")
    assert all(c.diagnostics.pooled == "none" for c in thin_fit if c.key.is_campaign_level)


def test_thin_keywords_pooled_never_predict_more_than_their_campaign(thin_fit: CurveSet) -> None:
    pooled = [c for c in thin_fit if c.diagnostics.pooled != "none"]
    assert {c.diagnostics.pooled for c in pooled} == {"shrunk", "fallback"}
    for curve in pooled:
        d = curve.diagnostics
        if d.pooled == "fallback":
            grid = np.geomspace(1e-6 * curve.trust_low, 1e4 * curve.trust_high, 2000)
        else:
            grid = np.linspace(curve.trust_low, curve.trust_high, 2000)
        campaign = evaluate(d.campaign_family, d.campaign_params, grid)
        for params in (curve.params, curve.low_params, curve.high_params):
            keyword = evaluate(curve.lookup_name, params, grid)
            assert (keyword <= campaign * (1 + 1e-9)).all(), curve.key


def test_fallback_uses_the_campaign_shape_scaled_by_spend_share(thin_fit: CurveSet) -> None:
    for curve in thin_fit:
        d = curve.diagnostics
        if d.pooled != "fallback":
            continue
        assert curve.lookup_name == d.campaign_family
        for name, value in curve.params.items():
            if name in ("s", "b"):
                assert value == d.campaign_params[name]
            if name == "k":
                assert 0 < value < d.campaign_params["k"]
        assert curve.diagnostics.grade == "C"


@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("hill", {"a": 10.0, "k": 50.0, "s": 0.6}),
        ("log", {"a": 4.0, "k": 20.0}),
        ("power", {"a": 2.0, "b": 0.5}),
    ],
    ids=["hill", "log", "power"],
)
def test_fallback_cap_is_the_tightest_bound_at_any_spend(family, params) -> None:
    share = np.array([0.05, 0.3, 1.0])
    cap = fallback_cap(family, params, share)
    shape = scaled_shape(family, params, share)
    grid = np.geomspace(1e-8, 1e8, 4001)
    for i in range(share.size):
        keyword = {name: float(v[i]) for name, v in shape.items()} | {"a": float(cap[i])}
        ratio = evaluate(family, keyword, grid) / evaluate(family, params, grid)
        assert ratio.max() <= 1 + 1e-9
        assert ratio.max() > 0.999


def test_classification_thresholds() -> None:
    options = FitOptions()
    conversions = np.array([100.0, 20.0, 100.0, 3.0, 100.0, 3.0])
    spend_cv = np.array([0.5, 0.5, 0.05, 0.5, 0.01, 0.5])
    keyword = np.array([True, True, True, True, True, False])
    assert classify(conversions, spend_cv, keyword, options).tolist() == [
        "none",
        "shrunk",
        "shrunk",
        "fallback",
        "fallback",
        "none",
    ]
