"""Runtime settings from `PPCOPT_*` environment variables (and `.env`), built lazily once."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_database_url", "get_settings"]


def default_database_url() -> str:
    """The embedded default: a SQLite file in the user's data folder."""
    base = Path.home() / ".local" / "share" / "ppcopt"
    return f"sqlite:///{base / 'ppcopt.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PPCOPT_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    database_schema: str | None = None
    database_pool_size: int = Field(default=5, ge=1)
    database_max_overflow: int = Field(default=5, ge=0)
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    api_threads: int = Field(default=5, ge=1)
    ingest_chunk_rows: int = Field(default=200_000, gt=0)
    fit_slice_rows: int = Field(default=2_000_000, gt=0)
    upload_limit_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    upload_max_rows: int = Field(
        default=5_000_000,
        gt=0,
        description="An upload with more data rows than this is refused (413) before anything "
        "is stored; split the export by date range.",
    )
    account_max_entities: int = Field(
        default=100_000,
        gt=0,
        description="An upload that would give an account more campaigns, ad groups and "
        "keywords than this is refused (413) before anything is stored.",
    )
    ingest_processes: int = Field(default=1, ge=0, le=64)
    inbox: Path = Field(
        default_factory=lambda: Path.home() / ".local" / "share" / "ppcopt" / "inbox"
    )
    log_level: str = "INFO"
    dask_address: str | None = None
    nightly_time: str = Field(default="05:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    job_retries: int = Field(default=2, ge=0)
    job_backoff_seconds: float = Field(default=30.0, ge=0)
    job_misfire_grace_seconds: int = Field(default=6 * 3600, gt=0)
    auth_failures_per_minute: int = Field(default=20, gt=0)
    stale_data_days: int = Field(
        default=3,
        ge=0,
        description="A plan made on data more than this many days old says so (plan and run).",
    )
    session_secret: str | None = None
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (10.0.0.1, 10.0.0.0/8) of the reverse "
        "proxies whose X-Forwarded-For / X-Forwarded-Proto are believed; empty: none, so the "
        "client address (rate limit, audit) is always the connection's.",
    )

    oidc_issuer: str | None = Field(
        default=None,
        description="The OpenID Connect issuer URL of the company's identity provider (its "
        "discovery document is ISSUER/.well-known/openid-configuration); unset: the dashboard "
        "signs in with API keys only.",
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_create_role: Literal["manager", "script"] | None = Field(
        default=None,
        description="Role of a user created at their first identity-provider sign-in (by verified "
        "email); unset: a person who is not a user is refused. Never admin or finance: people "
        "who decide caps are added by an admin.",
    )

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @model_validator(mode="after")
    def _oidc_whole(self) -> Settings:
        given = [self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret]
        if any(v is not None for v in given) and not all(v is not None for v in given):
            raise ValueError(
                "PPCOPT_OIDC_ISSUER, PPCOPT_OIDC_CLIENT_ID and PPCOPT_OIDC_CLIENT_SECRET are set "
                "together (or none, for key sign-in only)"
            )
        if self.oidc_issuer is not None and not self.oidc_issuer.startswith(
            ("https://", "http://127.0.0.1", "http://localhost")
        ):
            raise ValueError("PPCOPT_OIDC_ISSUER must be an https:// URL")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        """Each entry an IP address or network: a typo must not silently trust nobody (or, as
        uvicorn's `*` would, everybody, which lets any client pick the address it is limited by)."""
        entries = [part.strip() for part in value.split(",") if part.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"PPCOPT_TRUSTED_PROXIES: '{entry}' is not an IP address or network "
                    "(e.g. 10.0.0.1 or 10.0.0.0/8)"
                ) from None
        return ",".join(entries)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
