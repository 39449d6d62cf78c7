from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from optimizer.settings import get_settings


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the CLI at a fresh SQLite file for one test."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PPCOPT_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
