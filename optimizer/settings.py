"""Runtime settings from `PPCOPT_*` environment variables (and `.env`), built lazily once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_database_url", "get_settings"]


def default_database_url() -> str:
    """The embedded default: a SQLite file in the user's data folder."""
    base = Path.home() / ".local" / "share" / "ppcopt"
    return f"sqlite:///{base / 'ppcopt.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PPCOPT_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    ingest_chunk_rows: int = Field(default=200_000, gt=0)
    upload_limit_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    inbox: Path = Field(
        default_factory=lambda: Path.home() / ".local" / "share" / "ppcopt" / "inbox"
    )
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
