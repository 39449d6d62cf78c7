"""The CLI door: accounts, ingest reports, simulate, and errors as one line with a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main
from optimizer.simulate.truth import Truth

HEADER = (
    "date,campaign,ad_group,keyword,match_type,"
    "spend,clicks,impressions,conversions,conversion_value\n"
)


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _create(name: str = "shop") -> int:
    return main(["accounts", "create", name, "--currency", "EUR", "--timezone", "Europe/Berlin"])


def test_create_and_list_accounts(cli_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _create() == 0
    assert main(["accounts", "list"]) == 0
    assert "shop\tEUR\tEurope/Berlin" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("currency", "timezone", "needle"),
    [("EURO", "Europe/Berlin", "EURO"), ("EUR", "Mars/Olympus", "Mars/Olympus")],
    ids=["bad-currency", "bad-timezone"],
)
def test_bad_account_settings_exit_nonzero_with_one_line(
    cli_store: str, capsys: pytest.CaptureFixture[str], currency: str, timezone: str, needle: str
) -> None:
    code = main(["accounts", "create", "x", "--currency", currency, "--timezone", timezone])
    err = capsys.readouterr().err
    assert code == 1
    assert needle in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_ingest_prints_report_and_is_idempotent(
    cli_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _create()
    file = _write(
        tmp_path / "h.csv",
        [
            "2026-11-01,Brand,AG,shoes,exact,10.50,20,100,2,80.00",
            "2026-11-02,Brand,AG,shoes,exact,11.00,22,110,3,90.00",
            "2026-11-02,PMax,,,,50.00,40,900,4,300.00",
        ],
    )
    assert main(["ingest", str(file), "--account", "shop"]) == 0
    assert "3 inserted, 0 updated, 0 unchanged, 0 rejected" in capsys.readouterr().out
    assert main(["ingest", str(file), "--account", "shop"]) == 0
    assert "0 inserted, 0 updated, 3 unchanged, 0 rejected" in capsys.readouterr().out


def test_ingest_rejects_bad_file_whole_and_names_the_line(
    cli_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _create()
    file = _write(
        tmp_path / "bad.csv",
        [
            "2026-11-01,Brand,AG,shoes,exact,10.50,20,100,2,80.00",
            "2026-11-02,Brand,AG,shoes,exact,-4,22,110,3,90",
        ],
    )
    assert main(["ingest", str(file), "--account", "shop"]) == 1
    err = capsys.readouterr().err
    assert "line 3" in err and "-4" in err
    assert "Traceback" not in err
    # nothing was stored: the good row still counts as new afterwards
    good = _write(tmp_path / "good.csv", ["2026-11-01,Brand,AG,shoes,exact,10.50,20,100,2,80.00"])
    assert main(["ingest", str(good), "--account", "shop"]) == 0
    assert "1 inserted" in capsys.readouterr().out


def test_ingest_partial_stores_valid_rows_and_lists_rejected(
    cli_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _create()
    file = _write(
        tmp_path / "mixed.csv",
        [
            "2026-11-01,Brand,AG,shoes,exact,10.50,20,100,2,80.00",
            "2026-02-30,Brand,AG,shoes,exact,4,22,110,3,90",
        ],
    )
    assert main(["ingest", str(file), "--account", "shop", "--partial"]) == 0
    out = capsys.readouterr().out
    assert "1 inserted" in out and "1 rejected" in out
    assert "line 3" in out and "2026-02-30" in out


def test_unknown_account_is_a_clear_error(
    cli_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _write(tmp_path / "h.csv", ["2026-11-01,Brand,AG,shoes,exact,10.50,20,100,2,80.00"])
    assert main(["ingest", str(file), "--account", "nobody"]) == 1
    assert "nobody" in capsys.readouterr().err


def test_simulate_writes_history_and_truth(tmp_path: Path) -> None:
    out, truth = tmp_path / "h.csv", tmp_path / "t.json"
    code = main(
        [
            "simulate",
            "--campaigns",
            "2",
            "--keywords-per-campaign",
            "3",
            "--days",
            "28",
            "--seed",
            "3",
            "--out",
            str(out),
            "--truth",
            str(truth),
        ]
    )
    assert code == 0
    assert out.read_text(encoding="utf-8").startswith("date,campaign")
    assert truth.read_text(encoding="utf-8").lstrip().startswith("{")


def test_simulate_campaign_shapes_makes_a_campaigns_keywords_bend_alike(tmp_path: Path) -> None:
    shapes: list[dict[str, set[float]]] = []
    for share in ("0", "1"):
        truth = tmp_path / f"t{share}.json"
        args = ["simulate", "--campaigns", "3", "--keywords-per-campaign", "4", "--days", "28",
                "--seed", "5", "--campaign-shapes", share, "--out", str(tmp_path / "h.csv"),
                "--truth", str(truth)]  # fmt: skip
        assert main(args) == 0
        by_campaign: dict[str, set[float]] = {}
        for curve in Truth.from_json(truth.read_text(encoding="utf-8")).curves.values():
            if not curve.key.is_campaign_level:
                by_campaign.setdefault(curve.key.campaign, set()).add(curve.shape)
        shapes.append(by_campaign)
    independent, alike = shapes
    assert all(len(s) == 4 for s in independent.values())
    assert all(len(s) == 1 for s in alike.values()) and len(alike) == 3


def test_console_script_hides_traceback_unless_debug(tmp_path: Path) -> None:
    env = {**os.environ, "PPCOPT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    script = Path(sys.executable).with_name("ppcopt")
    missing = tmp_path / "h.csv"
    _write(missing, ["2026-11-01,Brand,AG,shoes,exact,10.50,20,100,2,80.00"])
    plain = subprocess.run(
        [str(script), "ingest", str(missing), "--account", "ghost"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert plain.returncode == 1
    assert "Traceback" not in plain.stderr and "ghost" in plain.stderr
    debug = subprocess.run(
        [str(script), "--debug", "ingest", str(missing), "--account", "ghost"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr
