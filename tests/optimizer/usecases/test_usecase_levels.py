"""A Campaigns report beside a Keywords report never doubles spend: the campaign's total is kept
apart, and only the part no keyword explains (Performance Max, Display) is its own entity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from optimizer.io import write_canonical_csv
from optimizer.models import fit_account
from optimizer.simulate import simulate
from optimizer.usecases.accounts import create_account
from optimizer.usecases.ingest import ingest, load_history

TODAY = dt.date(2026, 11, 26)


@pytest.fixture
def keywords(tmp_path: Path) -> pd.DataFrame:
    sim = simulate(campaigns=3, keywords_per_campaign=4, days=90, seed=21,
                   start=dt.date(2026, 6, 1))  # fmt: skip
    history = sim.history
    return history[history["keyword"] != ""].reset_index(drop=True)


def _campaign_report(keywords: pd.DataFrame, extra_spend: dict[str, float]) -> pd.DataFrame:
    """The Campaigns report of the same account: keyword sums plus what no keyword shows."""
    columns = ["spend", "clicks", "impressions", "conversions", "conversion_value"]
    totals = keywords.groupby(["date", "campaign"], as_index=False)[columns].sum()
    for campaign, extra in extra_spend.items():
        mask = totals["campaign"] == campaign
        totals.loc[mask, "spend"] += extra
        totals.loc[mask, "clicks"] += 3
        totals.loc[mask, "conversions"] += 0.5
    totals["spend"] = totals["spend"].round(2)
    totals["conversions"] = totals["conversions"].round(2)
    totals["conversion_value"] = totals["conversion_value"].round(2)
    for name in ("ad_group", "keyword", "match_type"):
        totals[name] = ""
    return totals


def _store(engine: Engine, tmp_path: Path, name: str, *frames: pd.DataFrame) -> pd.DataFrame:
    create_account(engine, name, currency="EUR", timezone="UTC")
    for index, frame in enumerate(frames):
        path = tmp_path / f"{name}-{index}.csv"
        write_canonical_csv(frame, path)
        ingest(engine, name, path, today=TODAY)
    return load_history(engine, name)


def _by_campaign(history: pd.DataFrame) -> pd.Series:
    return history.groupby("campaign")["spend"].sum().round(2)


@pytest.mark.parametrize("order", ["keywords-first", "campaigns-first"], ids=str)
def test_campaign_and_keyword_reports_equal_keywords_plus_the_remainder(
    engine: Engine, tmp_path: Path, keywords: pd.DataFrame, order: str
) -> None:
    first = sorted(keywords["campaign"].unique())[0]
    campaigns = _campaign_report(keywords, {first: 40.0})
    frames = (keywords, campaigns) if order == "keywords-first" else (campaigns, keywords)
    both = _store(engine, tmp_path, "both", *frames)
    alone = _store(engine, tmp_path, "alone", keywords)
    spend_both, spend_alone = _by_campaign(both), _by_campaign(alone)
    days = keywords["date"].nunique()
    assert spend_both[first] == pytest.approx(spend_alone[first] + 40.0 * days, abs=0.05)
    others = [c for c in spend_alone.index if c != first]
    assert spend_both[others].tolist() == pytest.approx(spend_alone[others].tolist(), abs=0.05)
    remainder = both[(both["keyword"] == "") & (both["campaign"] == first)]
    assert len(remainder) == days
    assert remainder["spend"].to_numpy() == pytest.approx(np.full(days, 40.0), abs=0.011)
    assert both[(both["keyword"] == "") & (both["campaign"] != first)].empty


def test_the_pair_gives_the_keyword_reports_curves(
    engine: Engine, tmp_path: Path, keywords: pd.DataFrame
) -> None:
    both = _store(engine, tmp_path, "both", keywords, _campaign_report(keywords, {}))
    alone = _store(engine, tmp_path, "alone", keywords)
    pd.testing.assert_frame_equal(both, alone)
    assert fit_account(both, n_jobs=1).curves == fit_account(alone, n_jobs=1).curves


def test_reingesting_the_campaign_report_changes_nothing(
    engine: Engine, tmp_path: Path, keywords: pd.DataFrame
) -> None:
    campaigns = _campaign_report(keywords, {sorted(keywords["campaign"].unique())[0]: 15.0})
    _store(engine, tmp_path, "shop", keywords, campaigns)
    path = tmp_path / "again.csv"
    write_canonical_csv(campaigns, path)
    report = ingest(engine, "shop", path, today=TODAY)
    assert (report.inserted, report.updated) == (0, 0)


def test_keywords_above_their_campaigns_total_are_reported_with_the_numbers(
    engine: Engine, tmp_path: Path, keywords: pd.DataFrame
) -> None:
    first = sorted(keywords["campaign"].unique())[0]
    campaigns = _campaign_report(keywords, {first: -30.0})
    _store(engine, tmp_path, "shop", keywords)
    path = tmp_path / "campaigns.csv"
    write_canonical_csv(campaigns, path)
    report = ingest(engine, "shop", path, today=TODAY)
    assert any(
        f"campaign '{first}': its keywords add up to more than its own total" in note
        for note in report.notes
    )
    history = load_history(engine, "shop")
    assert history[history["keyword"] == ""].empty
