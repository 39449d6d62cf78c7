"""Campaign and keyword names (issue 20, 5): one entity however the name is typed (case, composed
or decomposed accents, full-width letters, zero-width characters, BOM, bidi marks), the first
spelling kept for display, lookalikes and hidden characters flagged in the ingest report (never
refused), and ingest still idempotent, also on stores made before identities were compared."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select

from optimizer.errors import InvalidInputError
from optimizer.names import name_key, name_warning
from optimizer.store.engine import transaction
from optimizer.store.tables import accounts, entities, performance
from optimizer.usecases.accounts import create_account
from optimizer.usecases.ingest import ingest

_HEADER = (
    "date,campaign,ad_group,keyword,match_type,spend,clicks,impressions,conversions,"
    "conversion_value\n"
)


def _csv(*rows: tuple[str, str, str]) -> bytes:
    """Canonical export rows (date, campaign, keyword), as a UTF-8 file with its header."""
    lines = [
        f"{day},{campaign},Shoes,{keyword},phrase,12.50,10,200,1,30\n"
        for day, campaign, keyword in rows
    ]
    return (_HEADER + "".join(lines)).encode("utf-8")


@pytest.fixture
def shop(engine: Engine) -> Engine:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    return engine


def _entities(engine: Engine) -> list[tuple[str, str]]:
    with transaction(engine) as connection:
        return [
            (str(r.campaign), str(r.keyword))
            for r in connection.execute(
                select(entities.c.campaign, entities.c.keyword).order_by(entities.c.id)
            )
        ]


def _rows(engine: Engine) -> int:
    with transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(performance)).scalar_one())


SPELLINGS = [
    pytest.param("shop café", "running shoes", id="case"),
    pytest.param("Shop Cafe\u0301", "running shoes", id="decomposed-accent"),
    pytest.param(
        "\uff33\uff48\uff4f\uff50 \uff23\uff41\uff46\u00e9", "running shoes", id="full-width"
    ),
    pytest.param("Shop\u200b Café", "running\u200b shoes", id="zero-width-space"),
    pytest.param("\ufeffShop Café", "running shoes", id="bom"),
    pytest.param("Shop\u200d Café", "run\u200cning shoes", id="joiners"),
    pytest.param("\u200eShop Café\u200f", "running shoes", id="bidi-marks"),
    pytest.param("\u2067Shop Café\u2069", "\u202arunning shoes\u202c", id="bidi-isolate-embed"),
    pytest.param("Shop  Café ", "running\u00a0shoes", id="spaces"),
]


@pytest.mark.parametrize(("campaign", "keyword"), SPELLINGS)
def test_another_spelling_of_a_name_is_the_same_entity(
    shop: Engine, campaign: str, keyword: str
) -> None:
    ingest(shop, "shop", _csv(("2026-11-01", "Shop Café", "running shoes")))
    report = ingest(shop, "shop", _csv(("2026-11-02", campaign, keyword)))
    assert report.inserted == 1
    assert _entities(shop) == [("Shop Café", "running shoes")]
    assert _rows(shop) == 2


@pytest.mark.parametrize(("campaign", "keyword"), SPELLINGS)
def test_two_spellings_of_one_entity_on_one_day_refuse_the_file(
    shop: Engine, campaign: str, keyword: str
) -> None:
    file = _csv(("2026-11-01", "Shop Café", "running shoes"), ("2026-11-01", campaign, keyword))
    with pytest.raises(InvalidInputError):
        ingest(shop, "shop", file)
    assert _entities(shop) == []


def test_two_spellings_on_different_days_of_one_file_are_one_entity(shop: Engine) -> None:
    file = _csv(("2026-11-01", "Shop", "Shoes"), ("2026-11-02", "SHOP", "shoes\u200b"))
    report = ingest(shop, "shop", file)
    assert (report.inserted, _entities(shop), _rows(shop)) == (2, [("Shop", "Shoes")], 2)


def test_reuploading_a_file_with_odd_names_changes_nothing(shop: Engine) -> None:
    file = _csv(
        ("2026-11-01", "\u0405hop", "shoes"),
        ("2026-11-01", "\u202eShop", "shoes"),
        ("2026-11-01", "Cafe\u0301", "shoes"),
    )
    first = ingest(shop, "shop", file)
    again = ingest(shop, "shop", file)
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (3, 0, 0, 3)
    assert len(_entities(shop)) == 3


def test_a_store_holding_two_spellings_from_before_keeps_both(shop: Engine) -> None:
    """A store written before names were compared by identity may hold 'Shop' and 'shop' as two
    entities: each keeps its rows; an upload naming either exactly goes to that one."""
    with transaction(shop) as connection:
        account_id = connection.execute(select(accounts.c.id)).scalar_one()
        for campaign in ("Shop", "shop"):
            connection.execute(
                insert(entities).values(
                    account_id=account_id,
                    campaign=campaign,
                    ad_group="Shoes",
                    keyword="boots",
                    match_type="phrase",
                )
            )
    ingest(shop, "shop", _csv(("2026-11-01", "shop", "boots")))
    with transaction(shop) as connection:
        owner = connection.execute(
            select(entities.c.campaign).join(performance, performance.c.entity_id == entities.c.id)
        ).scalar_one()
    assert owner == "shop"
    assert len(_entities(shop)) == 2
    assert ingest(shop, "shop", _csv(("2026-11-01", "shop", "boots"))).unchanged == 1


@pytest.mark.parametrize(
    ("campaign", "words"),
    [
        pytest.param("\u0405hop", "mixes Cyrillic and Latin", id="cyrillic-s"),
        pytest.param("Sh\u043ep", "mixes Cyrillic and Latin", id="cyrillic-o"),
        pytest.param("\u0391thens", "mixes Greek and Latin", id="greek-alpha"),
        pytest.param("Shop\u200b", "U+200B Zero Width Space", id="zero-width"),
        pytest.param("\u202epohS", "U+202E Right-To-Left Override", id="rlo"),
        pytest.param("\ufeffShop", "U+FEFF", id="bom"),
    ],
)
def test_lookalike_and_hidden_names_are_flagged_not_refused(
    shop: Engine, campaign: str, words: str
) -> None:
    report = ingest(
        shop, "shop", _csv(("2026-11-01", "Brand", "shoes"), ("2026-11-01", campaign, "shoes"))
    )
    flagged = [w for w in report.warnings if w.column == "campaign"]
    assert [(w.line, w.value) for w in flagged] == [(3, campaign)]
    assert words in flagged[0].message
    assert report.inserted == 2
    assert (campaign, "shoes") in _entities(shop)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Brand - Zapatos niños", id="spanish"),
        pytest.param("Θεσσαλονίκη παπούτσια", id="greek"),
        pytest.param("Обувь Москва", id="russian"),
        pytest.param(
            "\u06a9\u0641\u0634\u200c\u0647\u0627\u06cc \u0648\u0631\u0632\u0634\u06cc",
            id="persian-zwnj",
        ),
        pytest.param("Shoes Обувь", id="two-scripts-two-words"),
    ],
)
def test_ordinary_names_in_any_script_are_not_flagged(name: str) -> None:
    assert name_warning(name) is None


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_identity_ignores_form_case_and_invisible_characters(name: str) -> None:
    key = name_key(name)
    assert name_key(key) == key
    assert name_key(unicodedata.normalize("NFD", name)) == key
    assert name_key(name.casefold()) == key
    assert name_key("\u200b".join(name)) == key
    assert name_key(f"\ufeff{name}\u200e") == key
