"""`--as` names a user: one person however the name is typed, and a name that is nobody's is
refused with the way out (issue 20)."""

from __future__ import annotations

import pytest

from cli.main import main

_PROPOSE = ["caps", "propose", "shop", "--start", "2026-12-01", "--end", "2026-12-31",
            "--amount", "9000.00", "--currency", "EUR"]  # fmt: skip


@pytest.fixture
def shop(cli_store: str) -> str:
    assert main(["accounts", "create", "shop", "--currency", "EUR", "--timezone", "UTC"]) == 0
    assert main(["users", "add", "maria", "--role", "finance"]) == 0
    assert main(["users", "add", "Ben", "--role", "finance"]) == 0
    return "shop"


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("Maria", id="other-case"),
        pytest.param("maria ", id="trailing-space"),
        pytest.param("MARIA", id="upper-case"),
    ],
)
def test_another_spelling_of_the_proposer_cannot_approve(
    shop: str, spelling: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_PROPOSE, "--as", "maria"]) == 0
    capsys.readouterr()
    assert main(["caps", "approve", "1", "--as", spelling]) != 0
    assert "four-eyes" in capsys.readouterr().err
    assert main(["caps", "approve", "1", "--as", "ben"]) == 0
    assert "approved" in capsys.readouterr().out


def test_an_unknown_user_is_refused_with_the_way_out(
    shop: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*_PROPOSE, "--as", "nobody"]) != 0
    err = capsys.readouterr().err
    assert "no user named 'nobody'" in err and "ppcopt users add" in err
    assert main(["caps", "list", "shop"]) == 0
    assert capsys.readouterr().out == ""


def test_a_manager_user_cannot_approve_on_the_command_line(
    shop: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "add", "carl", "--role", "manager"]) == 0
    assert main([*_PROPOSE, "--as", "maria"]) == 0
    capsys.readouterr()
    assert main(["caps", "approve", "1", "--as", "carl"]) != 0
    assert "cap.decide" in capsys.readouterr().err
