"""`ppcopt optimize`, `frontier` and `plot`: the manager's questions from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from cli import main
from optimizer.report import RECOMMENDATION_COLUMNS


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("opt") / "h.csv"
    code = main(
        ["simulate", "--campaigns", "3", "--keywords-per-campaign", "3", "--days", "70",
         "--seed", "9", "--start", "2026-07-01", "--out", str(path)]
    )  # fmt: skip
    assert code == 0
    return path


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False)


@pytest.mark.parametrize("level", ["keyword", "campaign"], ids=["keyword", "campaign"])
def test_optimize_from_file_writes_the_documented_columns(
    history: Path, capsys: pytest.CaptureFixture[str], level: str
) -> None:
    code = main(
        ["optimize", "--data", str(history), "--budget", "1500", "--max-change", "0.5",
         "--level", level]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    table = _csv(captured.out)
    assert list(table.columns) == list(RECOMMENDATION_COLUMNS)
    assert round(table["recommended_spend"].sum() * 100) <= 150_000
    assert "conversions" in captured.err and "on the cap buys" in captured.err


def test_optimize_json_to_file_with_group_cap(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.json"
    code = main(
        ["optimize", "--data", str(history), "--budget", "1500", "--group", "pm=*Shopping*:10%",
         "--format", "json", "--out", str(out), "--level", "campaign"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    rows = json.loads(out.read_text(encoding="utf-8"))
    total = sum(r["recommended_spend"] for r in rows)
    shopping = sum(r["recommended_spend"] for r in rows if "Shopping" in r["campaign"])
    assert total <= 1500 + 1e-9
    assert shopping <= 0.1 * total + 0.01


def test_infeasible_request_names_the_conflict(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["optimize", "--data", str(history), "--budget", "1500", "--group", "all=*:>=2000"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "all" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["--budget", "100", "--monthly-cap", "3000"],
        [],
        ["--budget", "-5"],
        ["--budget", "100", "--objective", "clicks"],
        ["--budget", "100", "--level", "adgroup"],
    ],
    ids=["both-budgets", "no-budget", "negative", "bad-objective", "bad-level"],
)
def test_bad_options_exit_one_with_a_message(
    history: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(["optimize", "--data", str(history), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_frontier_and_plots_for_a_stored_account(
    cli_store: str, history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["accounts", "create", "shop", "--currency", "EUR", "--timezone", "Europe/Berlin"])
    main(["ingest", str(history), "--account", "shop"])
    main(["fit", "--account", "shop", "--jobs", "1"])
    capsys.readouterr()
    assert main(["frontier", "--account", "shop", "--date", "2026-09-09"]) == 0
    points = _csv(capsys.readouterr().out)
    assert len(points) >= 10 and points["expected_conversions"].is_monotonic_increasing
    monthly = ["optimize", "--account", "shop", "--monthly-cap", "40000", "--date", "2026-09-09"]
    assert main(monthly) == 0
    captured = capsys.readouterr()
    assert "pacing:" in captured.err
    for kind in ("curves", "frontier", "allocation"):
        assert main(["plot", kind, "--account", "shop", "--out", str(tmp_path / "p")]) == 0
    assert len(list((tmp_path / "p").glob("*.png"))) >= 3


# 5.00 is below the trust-region floors, which give way to the cap and are named.
_TYPED = [
    (["--budget", "1.234,50"], "of 1,234.50 EUR"),
    (["--budget", "1,234.50"], "of 1,234.50 EUR"),
    (["--budget", "5.000", "--decimal-comma"], "of 5,000.00 EUR"),
    (["--budget", "5.000", "--decimal-point"], "relaxed by 82.62 EUR to fit the cap of 5.00 EUR"),
    (["--budget", "1.500,5", "--group", "brand=*:1.000,25"], "of 1,500.50 EUR"),
]


@pytest.mark.parametrize(
    ("args", "summary"),
    _TYPED,
    ids=["comma-clear", "point-clear", "comma-said", "point-said", "group-limit-comma"],
)
def test_typed_budgets_are_read_as_written(
    history: Path, capsys: pytest.CaptureFixture[str], args: list[str], summary: str
) -> None:
    code = main(["optimize", "--data", str(history), "--level", "campaign", *args])
    assert summary in capsys.readouterr().err
    assert code == 0


@pytest.mark.parametrize(
    ("args", "readings"),
    [
        (["--budget", "5.000"], "5 (with a decimal point) or 5,000 (with a decimal comma)"),
        (["--budget", "1,234"], "1,234 (with a decimal point) or 1.234 (with a decimal comma)"),
        (["--monthly-cap", "30.000"], "30 (with a decimal point) or 30,000"),
        (["--budget", "1500", "--group", "b=*:1.000"], "1 (with a decimal point) or 1,000"),
    ],
    ids=["five-thousand", "one-point-two", "monthly-cap", "group-limit"],
)
def test_amounts_that_read_two_ways_are_refused_never_scaled(
    history: Path, capsys: pytest.CaptureFixture[str], args: list[str], readings: str
) -> None:
    assert main(["optimize", "--data", str(history), *args]) == 1
    err = capsys.readouterr().err
    assert "reads two ways: " + readings in err
    assert "--decimal-comma" in err


def test_the_accounts_locale_says_how_its_amounts_are_written(
    cli_store: str, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create = ["accounts", "create", "shop", "--currency", "EUR", "--timezone", "Europe/Berlin"]
    assert main([*create, "--locale", "de_DE"]) == 0
    main(["ingest", str(history), "--account", "shop"])
    main(["fit", "--account", "shop", "--jobs", "1"])
    capsys.readouterr()
    plan = ["optimize", "--account", "shop", "--date", "2026-09-09", "--level", "campaign"]
    assert main([*plan, "--budget", "1.500"]) == 0
    assert "of 1,500.00 EUR" in capsys.readouterr().err
    assert main([*plan, "--budget", "1.500", "--decimal-point"]) == 0
    assert "to fit the cap of 1.50 EUR" in capsys.readouterr().err
    assert main(["accounts", "locale", "shop", "--clear"]) == 0
    capsys.readouterr()
    assert main([*plan, "--budget", "1.500"]) == 1
    assert "reads two ways" in capsys.readouterr().err
