"""Settings that guard security: a mistyped one fails at start-up instead of trusting wrongly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from optimizer.settings import Settings


@pytest.mark.parametrize("value", ["*", "proxy.local", "10.0.0.300"], ids=["star", "name", "typo"])
def test_a_trusted_proxy_must_be_an_address(value: str) -> None:
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(database_url="sqlite://", trusted_proxies=value)
