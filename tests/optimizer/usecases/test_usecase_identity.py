"""Entities are who the platform says they are: IDs survive renames, the same names on two
platforms are two entities, a manager report goes to the accounts it names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from optimizer.access import Principal, Role
from optimizer.errors import InvalidInputError
from optimizer.store.engine import transaction
from optimizer.store.tables import entities
from optimizer.usecases.accounts import create_account, link_account
from optimizer.usecases.ingest import ingest, ingest_accounts, load_history

TODAY = dt.date(2026, 11, 26)


def _file(tmp_path: Path, name: str, header: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _google(tmp_path: Path, name: str, campaign: str, days: range) -> Path:
    return _file(
        tmp_path,
        name,
        "Day,Campaign ID,Campaign,Ad group ID,Ad group,Keyword ID,Keyword,Match type,Cost,Clicks,"
        "Impr.,Conversions",
        *(
            f"2025-11-{day:02d},111,{campaign},222,Shoes,333,red shoes,Exact match,10.00,5,50,1"
            for day in days
        ),
    )


def _entities(engine: Engine) -> list[tuple[str, ...]]:
    with transaction(engine) as connection:
        rows = connection.execute(
            select(entities.c.campaign, entities.c.keyword, entities.c.platform,
                   entities.c.campaign_id).order_by(entities.c.id)
        ).all()  # fmt: skip
    return [tuple(str(v) for v in row) for row in rows]


def test_a_renamed_campaign_keeps_its_history(engine: Engine, tmp_path: Path) -> None:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    ingest(engine, "shop", _google(tmp_path, "a.csv", "Brand", range(1, 8)), today=TODAY)
    report = ingest(
        engine, "shop", _google(tmp_path, "b.csv", "Brand DE", range(8, 15)), today=TODAY
    )
    assert _entities(engine) == [("Brand DE", "red shoes", "google_ads", "111")]
    history = load_history(engine, "shop")
    assert set(history["campaign"]) == {"Brand DE"}
    assert len(history) == 14
    assert any("Brand / Shoes" in note and "Brand DE / Shoes" in note for note in report.notes)


def test_the_same_names_on_two_platforms_are_two_entities(engine: Engine, tmp_path: Path) -> None:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    ingest(engine, "shop", _google(tmp_path, "g.csv", "Brand", range(1, 4)), today=TODAY)
    microsoft = _file(
        tmp_path,
        "ms.csv",
        "TimePeriod,Campaign name,Ad group,Keyword,Bid match type,Spend,Impressions,Clicks,"
        "Conversions",
        "2025-11-01,Brand,Shoes,red shoes,Exact,4.00,40,4,0",
    )
    report = ingest(engine, "shop", microsoft, today=TODAY)
    assert report.inserted == 1 and report.updated == 0
    assert _entities(engine) == [
        ("Brand", "red shoes", "google_ads", "111"),
        ("Brand [Microsoft Advertising]", "red shoes", "microsoft_ads", ""),
    ]


def test_rows_without_a_platform_are_adopted_by_the_platforms_rows(
    engine: Engine, tmp_path: Path
) -> None:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    canonical = _file(
        tmp_path,
        "old.csv",
        "date,campaign,ad_group,keyword,match_type,spend,clicks,conversions",
        "2025-10-30,Brand,Shoes,red shoes,exact,9.00,4,1",
    )
    ingest(engine, "shop", canonical, today=TODAY)
    ingest(engine, "shop", _google(tmp_path, "g.csv", "Brand", range(1, 3)), today=TODAY)
    assert _entities(engine) == [("Brand", "red shoes", "google_ads", "111")]
    assert len(load_history(engine, "shop")) == 3


def _manager_report(tmp_path: Path) -> Path:
    return _file(
        tmp_path,
        "mcc.csv",
        "Account,Customer ID,Day,Campaign,Cost,Clicks,Impr.,Conversions",
        "Shop DE,123-456-7890,2025-11-01,Brand,10.00,5,50,1",
        "Shop FR,987-654-3210,2025-11-01,Marque,20.00,6,60,0",
    )


def test_a_manager_report_is_split_into_its_accounts(engine: Engine, tmp_path: Path) -> None:
    create_account(engine, "Shop DE", currency="EUR", timezone="UTC")
    create_account(engine, "paris", currency="EUR", timezone="UTC")
    link_account(engine, "paris", platform="google_ads", customer_id="987-654-3210")
    with pytest.raises(InvalidInputError, match="holds rows of other accounts"):
        ingest(engine, "Shop DE", _manager_report(tmp_path), today=TODAY)
    reports = ingest_accounts(engine, _manager_report(tmp_path), today=TODAY)
    assert {(r.account, r.inserted) for r in reports} == {("Shop DE", 1), ("paris", 1)}
    assert load_history(engine, "paris")["campaign"].tolist() == ["Marque"]
    assert load_history(engine, "Shop DE")["spend"].tolist() == [10.0]


def test_a_manager_report_naming_an_unknown_account_stores_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    create_account(engine, "Shop DE", currency="EUR", timezone="UTC")
    with pytest.raises(InvalidInputError, match="unknown: Shop FR"):
        ingest_accounts(engine, _manager_report(tmp_path), today=TODAY)
    assert load_history(engine, "Shop DE").empty


def test_a_manager_report_outside_the_keys_scope_is_refused(engine: Engine, tmp_path: Path) -> None:
    """Refused as if the account did not exist, so the key learns nothing about it."""
    germany = create_account(engine, "Shop DE", currency="EUR", timezone="UTC")
    create_account(engine, "Shop FR", currency="EUR", timezone="UTC")
    scoped = Principal(role=Role.MANAGER, label="de only", account_ids=frozenset({germany.id}))
    with pytest.raises(InvalidInputError, match="unknown: Shop FR"):
        ingest_accounts(engine, _manager_report(tmp_path), principal=scoped, today=TODAY)
    assert load_history(engine, "Shop DE").empty


def test_a_file_of_another_customer_is_refused(engine: Engine, tmp_path: Path) -> None:
    create_account(engine, "de", currency="EUR", timezone="UTC")
    create_account(engine, "fr", currency="EUR", timezone="UTC")
    export = _file(
        tmp_path,
        "fr.csv",
        "Customer ID,Day,Campaign,Cost,Clicks,Impr.,Conversions",
        "987-654-3210,2025-11-01,Marque,20.00,6,60,0",
    )
    ingest(engine, "fr", export, today=TODAY)
    with pytest.raises(InvalidInputError, match="holds rows of other accounts"):
        ingest(engine, "de", export, today=TODAY)
