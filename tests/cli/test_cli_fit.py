"""`ppcopt fit`: from a stored account and straight from a file, with a summary table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "h.csv"
    code = main(
        ["simulate", "--campaigns", "2", "--keywords-per-campaign", "3", "--days", "63",
         "--seed", "5", "--start", "2026-06-01", "--out", str(path)]
    )  # fmt: skip
    assert code == 0
    return path


def test_fit_from_file_writes_curves_without_a_store(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "curves.json"
    assert main(["fit", "--data", str(history), "--out", str(out), "--jobs", "1"]) == 0
    text = capsys.readouterr().out
    assert "campaign" in text and "median skill" in text
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["curves"] and {c["lookup_name"] for c in payload["curves"]} <= {
        "hill",
        "power",
        "log",
    }


def test_fit_stored_account_reports_version(
    cli_store: str, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["accounts", "create", "shop", "--currency", "EUR", "--timezone", "Europe/Berlin"])
    main(["ingest", str(history), "--account", "shop"])
    capsys.readouterr()
    assert main(["fit", "--account", "shop", "--jobs", "1"]) == 0
    assert "curve set version 1" in capsys.readouterr().out
    assert main(["fit", "--account", "shop", "--jobs", "1"]) == 0
    assert "curve set version 2" in capsys.readouterr().out


def test_fit_needs_exactly_one_source(cli_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit"]) == 1
    assert "--account" in capsys.readouterr().err


def test_fit_prints_the_lag_it_discounts_by(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fit", "--data", str(history), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "conversion lag the default profile" in out and "days are discounted" in out
    assert main(["fit", "--data", str(history), "--jobs", "1", "--no-lag"]) == 0
    assert "conversion lag: none assumed" in capsys.readouterr().out
    report = tmp_path / "lag.csv"
    report.write_text("days,cumulative_share\n0,0.8\n3,0.95\n10,1\n", encoding="utf-8")
    assert main(["fit", "--data", str(history), "--jobs", "1", "--lag-report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "from the conversion-lag report" in out and "80% of a day's conversions" in out


def test_a_lag_report_is_kept_for_the_account(
    cli_store: str, history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["accounts", "create", "shop", "--currency", "EUR", "--timezone", "Europe/Berlin"])
    main(["ingest", str(history), "--account", "shop"])
    report = tmp_path / "lag.csv"
    report.write_text("Days to conversion,Conversions\n<1 day,70\n1 to <7 days,30\n")
    args = ["fit", "--account", "shop", "--jobs", "1"]
    assert main(["users", "add", "maria", "--role", "manager"]) == 0
    assert main([*args, "--lag-report", str(report), "--as", "maria"]) == 0
    assert "from the conversion-lag report" in capsys.readouterr().out
    assert main(args) == 0
    assert "from the conversion-lag report (2 buckets" in capsys.readouterr().out


def test_a_weekly_file_is_fitted_per_week_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optimizer.io import write_canonical_csv
    from tests.optimizer.models.test_models_grain import robyn_weekly

    path = tmp_path / "weekly.csv"
    write_canonical_csv(robyn_weekly(), path)
    assert main(["fit", "--data", str(path), "--jobs", "1", "--no-lag"]) == 0
    out = capsys.readouterr().out
    assert "rows are a week apart: curves fitted on weekly totals and stated per day" in out
