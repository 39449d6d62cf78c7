"""Fitting a stored account: versioned curve sets, refit only on new data, exact round trip."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine

from optimizer.errors import InvalidInputError, NotFoundError
from optimizer.io import write_canonical_csv
from optimizer.models import EntityCurve
from optimizer.simulate import simulate
from optimizer.usecases.accounts import create_account
from optimizer.usecases.fit import fit, latest_curves
from optimizer.usecases.ingest import ingest


@pytest.fixture(scope="module")
def history_csv(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    sim = simulate(campaigns=2, keywords_per_campaign=3, days=70, seed=11)
    path = tmp_path_factory.mktemp("fit") / "h.csv"
    write_canonical_csv(sim.history, path)
    return path.read_bytes()


def _account(engine: Engine, history_csv: bytes) -> None:
    create_account(engine, "shop", currency="EUR", timezone="Europe/Berlin")
    ingest(engine, "shop", io.BytesIO(history_csv), today=dt.date(2026, 11, 26))


def test_fit_stores_a_version_that_reads_back_identically(
    engine: Engine, history_csv: bytes
) -> None:
    _account(engine, history_csv)
    outcome = fit(engine, "shop")
    assert outcome.refitted and outcome.stored.version == 1
    loaded = latest_curves(engine, "shop")
    assert loaded.version == 1
    assert [c.to_dict() for c in loaded.curve_set] == [
        c.to_dict() for c in sorted(outcome.stored.curve_set, key=lambda c: c.entity_id)
    ]
    day = outcome.stored.curve_set.window_end + dt.timedelta(days=1)
    pd.testing.assert_frame_equal(
        loaded.curve_set.table(day).sort_values("entity_id").reset_index(drop=True),
        outcome.stored.curve_set.table(day).sort_values("entity_id").reset_index(drop=True),
    )


def test_refit_only_when_data_changed(engine: Engine, history_csv: bytes) -> None:
    _account(engine, history_csv)
    first = fit(engine, "shop", only_if_changed=True)
    again = fit(engine, "shop", only_if_changed=True)
    assert first.refitted and not again.refitted
    assert again.stored.version == first.stored.version
    lines = history_csv.decode().splitlines()
    fields = lines[1].split(",")
    fields[5] = f"{float(fields[5]) + 1:.2f}"
    lines[1] = ",".join(fields)
    ingest(engine, "shop", io.BytesIO("\n".join(lines).encode()), today=dt.date(2026, 11, 26))
    changed = fit(engine, "shop", only_if_changed=True)
    assert changed.refitted and changed.stored.version == first.stored.version + 1
    assert latest_curves(engine, "shop", version=1).version == 1


def test_fit_without_data_or_curves_is_a_clear_error(engine: Engine) -> None:
    create_account(engine, "empty", currency="EUR", timezone="Europe/Berlin")
    with pytest.raises(InvalidInputError, match="no performance data"):
        fit(engine, "empty")
    with pytest.raises(NotFoundError, match="fit"):
        latest_curves(engine, "empty")


def _curves(outcome_set: Iterable[EntityCurve]) -> list[dict[str, Any]]:
    return [c.to_dict() for c in sorted(outcome_set, key=lambda c: c.entity_id)]


def test_fitting_in_slices_of_campaigns_gives_the_same_curves(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Five campaigns of about 200 rows each: a 200-row slice limit reads them one by one."""
    from optimizer.settings import get_settings

    sim = simulate(campaigns=5, keywords_per_campaign=3, days=60, seed=12)
    create_account(engine, "big", currency="EUR", timezone="Europe/Berlin")
    write_canonical_csv(sim.history, tmp_path / "big.csv")
    ingest(engine, "big", tmp_path / "big.csv", today=dt.date(2026, 11, 26))
    whole = fit(engine, "big").stored.curve_set
    monkeypatch.setenv("PPCOPT_FIT_SLICE_ROWS", "200")
    get_settings.cache_clear()
    try:
        sliced = fit(engine, "big").stored.curve_set
    finally:
        get_settings.cache_clear()
    assert len(sliced) == len(whole) > 0
    assert (sliced.window_start, sliced.window_end) == (whole.window_start, whole.window_end)
    for ours, theirs in zip(_curves(sliced), _curves(whole), strict=True):
        assert ours.pop("value_per_conversion") == pytest.approx(
            theirs.pop("value_per_conversion"), rel=1e-12
        )
        assert ours == theirs
