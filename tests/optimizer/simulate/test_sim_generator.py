import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.schema import CANONICAL_COLUMNS, MICROS, NAME_COLUMNS, EntityKey, to_model_frame
from optimizer.simulate import Simulation, expected_conversions, simulate

CAMPAIGNS = 6
KEYWORDS = 15
DAYS = 150


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(campaigns=CAMPAIGNS, keywords_per_campaign=KEYWORDS, days=DAYS, seed=42)


def _entity_matrix(history: pd.DataFrame, column: str) -> pd.DataFrame:
    return history.pivot_table(index=list(NAME_COLUMNS), columns="date", values=column)


def test_same_seed_gives_the_same_account(sim):
    again = simulate(campaigns=CAMPAIGNS, keywords_per_campaign=KEYWORDS, days=DAYS, seed=42)
    pd.testing.assert_frame_equal(again.history, sim.history)
    assert again.truth == sim.truth


def test_other_seed_gives_another_account(sim):
    other = simulate(campaigns=CAMPAIGNS, keywords_per_campaign=KEYWORDS, days=DAYS, seed=43)
    assert other.truth != sim.truth
    assert not np.array_equal(other.history["spend"], sim.history["spend"])


def test_history_is_in_the_model_shape(sim):
    history = sim.history
    assert tuple(history.columns) == CANONICAL_COLUMNS
    stored = history.assign(
        spend_micros=np.round(history["spend"] * MICROS).astype(np.int64),
        conversions_micros=np.round(history["conversions"] * MICROS).astype(np.int64),
        value_micros=np.round(history["conversion_value"] * MICROS).astype(np.int64),
        line=np.arange(len(history)) + 2,
    )
    pd.testing.assert_frame_equal(to_model_frame(stored), history)


def test_money_is_rounded_to_cents(sim):
    for column in ("spend", "conversion_value"):
        cents = sim.history[column].to_numpy() * 100
        np.testing.assert_allclose(cents, np.round(cents), atol=1e-6)


def test_one_row_per_entity_and_day(sim):
    history = sim.history
    entities = CAMPAIGNS * KEYWORDS + max(1, CAMPAIGNS // 5)
    assert len(history) == entities * DAYS
    assert not history.duplicated(["date", *NAME_COLUMNS]).any()
    assert history["date"].min() == pd.Timestamp(2026, 1, 1)
    assert history["date"].nunique() == DAYS
    keys = {
        EntityKey(*row) for row in history[list(NAME_COLUMNS)].drop_duplicates().itertuples(False)
    }
    assert keys == set(sim.truth.curves)


def test_start_date_is_honoured():
    history = simulate(
        campaigns=1, keywords_per_campaign=2, days=3, seed=0, start=dt.date(2025, 12, 30)
    ).history
    assert list(history["date"].drop_duplicates()) == list(pd.date_range("2025-12-30", periods=3))


def test_campaign_level_entities_have_no_keyword(sim):
    history = sim.history
    keywordless = history[history["keyword"] == ""]
    assert keywordless["campaign"].nunique() == max(1, CAMPAIGNS // 5)
    assert (keywordless[["ad_group", "match_type"]] == "").all().all()
    assert not set(keywordless["campaign"]) & set(history.loc[history["keyword"] != "", "campaign"])
    assert sum(key.is_campaign_level for key in sim.truth.curves) == max(1, CAMPAIGNS // 5)


@pytest.mark.parametrize("count", [0, 3], ids=["none", "three"])
def test_campaign_level_count_can_be_chosen(count):
    history = simulate(
        campaigns=2, keywords_per_campaign=3, days=2, seed=1, campaign_level_campaigns=count
    ).history
    assert history.loc[history["keyword"] == "", "campaign"].nunique() == count


def test_names_are_realistic_and_unique(sim):
    history = sim.history
    names = history["campaign"].drop_duplicates()
    assert len(names) == CAMPAIGNS + max(1, CAMPAIGNS // 5)
    assert any(not name.isascii() for name in names)
    assert set(history.loc[history["keyword"] != "", "match_type"]) <= {"exact", "phrase", "broad"}
    assert history["match_type"].nunique() == 4


def test_many_campaigns_still_get_unique_names():
    truth = simulate(campaigns=1500, keywords_per_campaign=1, days=1, seed=5).truth
    assert len(truth.campaigns) == 1500 + 300


def test_spend_moves_in_steps_over_a_wide_range(sim):
    spend = _entity_matrix(sim.history, "spend").to_numpy()
    daily = np.abs(np.diff(np.log(spend), axis=1))
    assert np.mean(daily < 0.2) > 0.9
    jumps = (daily > 0.25).sum(axis=1)
    assert np.median(jumps) >= 2
    assert np.all(jumps <= DAYS // 14 + 1)
    four_weeks = pd.DataFrame(spend.T).rolling(28).median().to_numpy()
    spread = np.nanmax(four_weeks, axis=0) / np.nanmin(four_weeks, axis=0)
    assert np.mean(spread > 1.5) > 0.8


def test_no_negative_numbers_and_counts_are_consistent(sim):
    history = sim.history
    numbers = history[["spend", "clicks", "impressions", "conversions", "conversion_value"]]
    assert (numbers >= 0).all().all()
    assert (history["clicks"] >= history["conversions"]).all()
    assert (history["impressions"] >= history["clicks"]).all()
    assert (history.loc[history["spend"] > 0, "clicks"] >= 1).all()
    assert (history.loc[history["conversions"] == 0, "conversion_value"] == 0).all()
    assert (history["conversions"] == np.round(history["conversions"])).all()
    cpc = history["spend"].sum() / history["clicks"].sum()
    assert 0.2 < cpc < 5.0


def test_conversions_follow_the_truth_with_overdispersion(sim):
    history, truth = sim.history, sim.truth
    keys = [EntityKey(*row) for row in history[list(NAME_COLUMNS)].itertuples(False)]
    params = truth.params(keys)
    dates = history["date"].dt
    mean = expected_conversions(
        params,
        history["spend"].to_numpy(),
        weekday=dates.day_of_week.to_numpy(),
        day_index=(history["date"] - pd.Timestamp(truth.start)).dt.days.to_numpy(),
    )
    observed = history["conversions"].to_numpy()
    assert observed.sum() == pytest.approx(mean.sum(), rel=0.03)
    assert np.sum((observed - mean) ** 2) > 1.1 * mean.sum()
    value_per_conversion = history["conversion_value"].sum() / observed.sum()
    expected_value = np.sum(mean * params.order_value) / mean.sum()
    assert value_per_conversion == pytest.approx(expected_value, rel=0.05)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"campaigns": 0, "keywords_per_campaign": 3, "days": 5},
        {"campaigns": 2, "keywords_per_campaign": 0, "days": 5},
        {"campaigns": 2, "keywords_per_campaign": 3, "days": 0},
        {"campaigns": 2, "keywords_per_campaign": 3, "days": 5, "campaign_level_campaigns": -1},
        {"campaigns": 2, "keywords_per_campaign": 3, "days": 5, "currency": "EURO"},
    ],
    ids=["no-campaigns", "no-keywords", "no-days", "negative-keywordless", "bad-currency"],
)
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(InvalidInputError):
        simulate(seed=0, **kwargs)


def test_currency_is_recorded_and_normalised():
    assert (
        simulate(
            campaigns=1, keywords_per_campaign=1, days=1, seed=0, currency="usd"
        ).truth.currency
        == "USD"
    )
