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
