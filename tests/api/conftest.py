"""One seeded store and one real server process per backend, shared by the API tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.harness import Server, running_server, seed, store
from tests.conftest import POSTGRES_URL
from tests.stores import BACKENDS


@pytest.fixture(
    scope="package",
    params=BACKENDS,
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp(f"api-{request.param}")
    with store(request.param, workdir, POSTGRES_URL) as (engine, store_env):
        keys, end = seed(engine, workdir)
        env = {**store_env, "PPCOPT_INBOX": str(workdir / "inbox")}
        with running_server(env, workdir) as base:
            yield Server(base_url=base, keys=keys, engine=engine, history_end=end, env=env)
