"""`ppcopt report`, `accuracy` and `backtest` from the command line: files written, errors in one
line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main


@pytest.fixture
def shop(cli_store: str, tmp_path: Path) -> Path:
    path = tmp_path / "h.csv"
    assert main(["simulate", "--campaigns", "2", "--keywords-per-campaign", "3", "--days", "70",
                 "--seed", "5", "--start", "2026-06-01", "--out", str(path)]) == 0  # fmt: skip
    assert main(["accounts", "create", "shop", "--currency", "EUR", "--timezone", "UTC"]) == 0
    assert main(["ingest", str(path), "--account", "shop"]) == 0
    assert main(["fit", "--account", "shop"]) == 0
    assert main(["users", "add", "maria", "--role", "manager"]) == 0
    propose = ["caps", "propose", "shop", "--start", "2026-08-01", "--end", "2026-08-31",
               "--amount", "9000.00", "--currency", "EUR", "--as", "maria"]  # fmt: skip
    assert main(propose) == 0
    return path


def test_the_months_report_is_written_in_the_asked_language(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "july.html"
    assert main(["report", "--account", "shop", "--period", "2026-07", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Monthly report" in text and "Results against the month before" in text
    fa = tmp_path / "july-fa.html"
    args = ["report", "--account", "shop", "--period", "2026-07", "--lang", "fa", "--out", str(fa)]
    assert main(args) == 0
    assert 'dir="rtl"' in fa.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "--account", "shop", "--period", "July", "--out", str(out)]) == 1
    assert "write it as 2026-11" in capsys.readouterr().err
    assert main(["report", "--account", "shop", "--period", "2026-07", "--lang", "de",
                 "--out", str(out)]) == 1  # fmt: skip
    assert "not de" in capsys.readouterr().err


def test_backtest_from_the_store_prints_weeks_and_calibration(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", "--account", "shop", "--weeks", "3", "--calibrate"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("week_start,week_end,predicted,actual")
    assert len(captured.out.strip().splitlines()) == 4
    assert "calibration: the 80% band held" in captured.err and "(stored" in captured.err
    assert main(["accuracy", "--account", "shop"]) == 1
    assert "no published day" in capsys.readouterr().err
