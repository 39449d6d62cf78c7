"""`ppcopt ingest` against the bad-input corpus (tests/data/bad): refuse clearly, store nothing.

Every case runs through the real CLI into a fresh SQLite store (a copy of one migrated template
with an EUR account). A refused file must exit 1 with its reason on one `error:` line, never a
traceback, and leave the store file byte-for-byte as it was (WAL checkpointed before hashing).
A bad row refuses the whole file by default (naming its line); `--partial` stores the other rows
and lists the rejected ones, which is the documented ingest design.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli import main
from optimizer.settings import get_settings
from optimizer.store.engine import make_engine
from optimizer.usecases.ingest import load_history
from tests.badinputs import (
    ACCEPTED,
    CORPUS,
    REJECTED,
    ROW_REJECTED,
    BadInput,
    build,
    cases,
    generator_manifest,
    params,
)

ACCOUNT = "shop"
FORMULA = '=HYPERLINK("http://x","y")'


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        lines = [line for line in self.err.splitlines() if line.startswith("error: ")]
        assert len(lines) == 1, self.err
        return lines[0]


def _checkpointed_digest(database: Path) -> str:
    """SHA-256 of the SQLite file once the WAL is folded in, so pending writes count too."""
    connection = sqlite3.connect(database)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    assert busy == 0
    return hashlib.sha256(database.read_bytes()).hexdigest()


def _use_store(monkeypatch: pytest.MonkeyPatch, database: Path) -> None:
    monkeypatch.setenv("PPCOPT_DATABASE_URL", f"sqlite:///{database}")
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    database = tmp_path_factory.mktemp("template") / "store.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use_store(monkeypatch, database)
        code = main(["accounts", "create", ACCOUNT, "--currency", "EUR", "--timezone", "UTC"])
        assert code == 0
        _checkpointed_digest(database)
    get_settings.cache_clear()
    yield database


@pytest.fixture
def store(tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    database = tmp_path / "store.db"
    shutil.copyfile(template, database)
    _use_store(monkeypatch, database)
    yield database
    get_settings.cache_clear()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return Run(code, captured.out, captured.err)


def _ingest(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> Run:
    return _run(capsys, "ingest", str(path), "--account", ACCOUNT, *extra)


def test_corpus_is_large_and_reproducible() -> None:
    assert len(cases()) >= 40
    assert {case.outcome for case in cases()} == {REJECTED, ROW_REJECTED, ACCEPTED}
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == generator_manifest()
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert not [case.file for case in cases() if f"`{case.file}`" not in readme]
    for case in cases():
        committed = CORPUS / case.file
        assert committed.exists() != case.generated, case.file
        if not case.generated:
            assert committed.read_bytes() == build(case.file), case.file


@pytest.mark.parametrize("case", params(REJECTED))
def test_bad_file_is_refused_whole_with_one_line(
    case: BadInput, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _checkpointed_digest(store)
    run = _ingest(capsys, case.materialise(tmp_path))
    assert run.code == 1, run.err
    assert run.out == ""
    assert run.err.splitlines() == [run.error_line]
    assert case.message in run.error_line
    assert _checkpointed_digest(store) == before


@pytest.mark.parametrize("case", params(ROW_REJECTED))
def test_bad_row_refuses_the_file_and_names_its_line(
    case: BadInput, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _checkpointed_digest(store)
    run = _ingest(capsys, case.materialise(tmp_path))
    assert run.code == 1, run.err
    assert case.message in run.error_line
    assert f"line {case.line}" in run.error_line
    listed = run.err.splitlines()[:-1]
    assert listed[0].startswith("rejected rows (")
    assert all(line.startswith("  line ") for line in listed[1:]), run.err
    assert case.detail is None or case.detail in run.err
    assert _checkpointed_digest(store) == before


@pytest.mark.parametrize("case", params(ROW_REJECTED))
def test_partial_ingest_stores_the_other_rows(
    case: BadInput, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _ingest(capsys, case.materialise(tmp_path), "--partial")
    assert run.code == 0, run.err
    summary = run.out.splitlines()[0]
    read = int(summary.split(" rows read")[0].replace(",", ""))
    assert f": {case.stored:,} inserted, 0 updated, 0 unchanged" in summary
    assert read > case.stored
    rejected = run.out[run.out.index("rejected rows (") :]
    assert f"line {case.line}" in rejected and case.message in rejected
    assert len(load_history(make_engine(), ACCOUNT)) == case.stored


@pytest.mark.parametrize("case", params(ACCEPTED))
def test_odd_but_valid_file_is_stored(
    case: BadInput, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _checkpointed_digest(store)
    run = _ingest(capsys, case.materialise(tmp_path))
    assert run.code == 0, run.err
    assert f"{case.stored:,} inserted" in run.out.splitlines()[0]
    assert case.message in run.out
    assert "rejected rows" not in run.out
    assert _checkpointed_digest(store) != before


def _stored(store: Path) -> list[dict[str, object]]:
    history = load_history(make_engine(f"sqlite:///{store}"), ACCOUNT)
    return [{str(key): value for key, value in row.items()} for row in history.to_dict("records")]


def test_nfc_and_nfd_spellings_are_one_campaign(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _ingest(capsys, CORPUS / "nfc_nfd_same_campaign.csv").code == 0
    campaigns = {row["campaign"] for row in _stored(store)}
    assert campaigns == {"Caf\u00e9 Cr\u00e8me", "Generic"}


@pytest.mark.parametrize(
    ("file", "spend"),
    [
        pytest.param("negative_zero_spend.csv", 0.0, id="minus-zero"),
        pytest.param("currency_symbol_spend.csv", 12.5, id="euro-sign"),
    ],
)
def test_odd_spellings_of_spend_store_the_plain_amount(
    store: Path, capsys: pytest.CaptureFixture[str], file: str, spend: float
) -> None:
    assert _ingest(capsys, CORPUS / file).code == 0
    third_day = [row for row in _stored(store) if str(row["date"]).startswith("2026-10-03")]
    assert [row["spend"] for row in third_day] == [spend]


def test_formula_name_is_stored_as_data_and_neutralised_in_plan_csv(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = CORPUS / "formula_injection.csv"
    assert _ingest(capsys, source).code == 0
    assert FORMULA in {row["campaign"] for row in _stored(store)}
    plan = tmp_path / "plan.csv"
    run = _run(capsys, "optimize", "--data", str(source), "--budget", "150", "--out", str(plan))
    assert run.code == 0, run.err
    text = plan.read_text(encoding="utf-8")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + FORMULA in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))]
