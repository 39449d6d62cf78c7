"""`ppcopt events`: add, list, confirm, dismiss and remove an account's events."""

from __future__ import annotations

import pytest

from cli import main


@pytest.fixture
def shop(cli_store: str) -> str:
    assert main(["accounts", "create", "shop", "--currency", "EUR", "--timezone", "UTC"]) == 0
    assert main(["users", "add", "maria", "--role", "manager"]) == 0
    return "shop"


def test_events_from_the_command_line(shop: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["events", "add", shop, "--start", "2026-05-01", "--end", "2026-05-07"]
    assert main([*args, "--kind", "promo", "--note", "spring sale", "--as", "maria"]) == 0
    assert "added event 1: promo 2026-05-01..2026-05-07" in capsys.readouterr().out
    assert main(["events", "list", shop]) == 0
    listed = capsys.readouterr().out
    assert "1\t2026-05-01..2026-05-07\tpromo\tconfirmed\tcli:maria\tspring sale" in listed
    assert main(["events", "confirm", shop, "1"]) == 1
    assert "only a proposed event" in capsys.readouterr().err
    assert main(["events", "remove", shop, "1"]) == 0
    assert main(["events", "list", shop]) == 0
    assert "no events" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "holiday"], "kind must be one of promo, outage, exclude"),
        (["--kind", "outage", "--end", "2026-04-01"], "cannot end"),
    ],
    ids=["unknown-kind", "ends-before-start"],
)
def test_bad_events_are_refused(
    shop: str, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    args = ["events", "add", shop, "--start", "2026-05-01"]
    if "--end" not in extra:
        args += ["--end", "2026-05-02"]
    assert main([*args, *extra]) == 1
    assert message in capsys.readouterr().err
