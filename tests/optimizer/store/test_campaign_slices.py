"""Reading an account in slices of whole campaigns: grouping, row limits and the totals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from optimizer.io import write_canonical_csv
from optimizer.simulate import simulate
from optimizer.store.engine import transaction
from optimizer.store.performance import history_layout, select_stored
from optimizer.usecases.accounts import create_account, find_account
from optimizer.usecases.ingest import ingest, load_history


@pytest.fixture()
def stored(engine: Engine, tmp_path: Path) -> Engine:
    sim = simulate(campaigns=4, keywords_per_campaign=2, days=30, seed=21)
    create_account(engine, "acct", currency="EUR", timezone="Europe/Berlin")
    write_canonical_csv(sim.history, tmp_path / "h.csv")
    ingest(engine, "acct", tmp_path / "h.csv", today=dt.date(2026, 11, 26))
    return engine


@pytest.mark.parametrize("limit", [1, 70, 10**9], ids=["one-row", "seventy", "unlimited"])
def test_slices_hold_whole_campaigns_in_order_and_cover_the_account(
    stored: Engine, limit: int
) -> None:
    whole = load_history(stored, "acct")
    with transaction(stored, snapshot=True) as connection:
        account = find_account(connection, "acct")
        layout = history_layout(connection, account.id, limit)
        assert layout is not None
        groups = layout.slices
        parts = [select_stored(connection, account.id, None, None, g) for g in groups]
    campaigns = [c for group in groups for c in group]
    assert campaigns == sorted(whole["campaign"].unique())
    sizes = [len(p) for p in parts]
    assert sum(sizes) == len(whole)
    if limit == 1:
        assert all(len(g) == 1 for g in groups)
    elif limit == 70:
        assert all(size <= 70 or len(g) == 1 for size, g in zip(sizes, groups, strict=True))
    else:
        assert len(groups) == 1
    for group, part in zip(groups, parts, strict=True):
        assert set(part["campaign"]) == set(group)


def test_totals_match_the_stored_history(stored: Engine) -> None:
    whole = load_history(stored, "acct")
    with transaction(stored) as connection:
        totals = history_layout(connection, find_account(connection, "acct").id, 10**9)
    assert totals is not None
    assert totals.first == whole["date"].min().date()
    assert totals.last == whole["date"].max().date()
    assert totals.value_micros / 1e6 == pytest.approx(whole["conversion_value"].sum(), rel=1e-12)
    assert totals.conversions_micros / 1e6 == pytest.approx(whole["conversions"].sum(), rel=1e-12)
    spent = whole.groupby(["campaign", "ad_group", "keyword", "match_type"])["spend"].sum()
    assert totals.spending_entities == int((spent > 0).sum())


def test_an_account_without_rows_has_no_totals(engine: Engine) -> None:
    create_account(engine, "empty", currency="EUR", timezone="Europe/Berlin")
    with transaction(engine) as connection:
        assert history_layout(connection, find_account(connection, "empty").id, 10**9) is None
