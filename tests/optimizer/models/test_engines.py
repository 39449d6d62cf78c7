"""Fit engines: Dask (a LocalCluster) gives the local curves, streams, fails as domain errors."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from optimizer.errors import InvalidInputError, SolverError, StoreUnavailableError
from optimizer.models import CampaignTask, CurveSet, FitOptions, fit_account
from optimizer.models.account import campaign_tasks, plan_campaigns
from optimizer.models.engines import DaskEngine, LocalEngine, resolve_engine
from optimizer.simulate import Simulation

_QUICK = FitOptions(bootstrap=4)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=40,
    ) as cluster:
        yield str(cluster.scheduler_address)


def _without_fit_time(curve_set: CurveSet) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(curve_set.to_json())
    payload.pop("fitted_at")
    return payload


def test_dask_gives_the_local_curves_table_and_json(
    scheduler: str, small_sim: Simulation, small_fit: CurveSet
) -> None:
    seen: list[tuple[int, int]] = []
    remote = fit_account(
        small_sim.history,
        engine="dask",
        dask_address=scheduler,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert len(small_fit.curves) == len(remote.curves) > 0
    assert remote.curves == small_fit.curves
    assert _without_fit_time(remote) == _without_fit_time(small_fit)
    day = small_fit.window_end
    pd.testing.assert_frame_equal(remote.table(day), small_fit.table(day), check_exact=True)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (len(small_fit), len(small_fit))


class _CountingTasks:
    """Yields tasks and counts how many were taken, to see how far ahead an engine reads."""

    def __init__(self, tasks: list[CampaignTask]) -> None:
        self.tasks = tasks
        self.taken = 0

    def __iter__(self) -> Iterator[CampaignTask]:
        for task in self.tasks:
            self.taken += 1
            yield task


@pytest.mark.parametrize("window", [pytest.param(1, id="window-1"), pytest.param(2, id="window-2")])
def test_dask_keeps_at_most_a_window_of_tasks_in_flight(
    scheduler: str, small_sim: Simulation, window: int
) -> None:
    tasks, _, _, _ = campaign_tasks(small_sim.history)
    counting = _CountingTasks(tasks)
    results = DaskEngine(scheduler, window=window).map(counting, _QUICK)
    first = next(results)
    assert counting.taken == window
    rest = list(results)
    assert counting.taken == len(tasks)
    expected = list(LocalEngine(n_jobs=1).map(tasks, _QUICK))
    assert [first, *rest] == expected


def test_tasks_are_built_one_campaign_at_a_time(small_sim: Simulation) -> None:
    plan = plan_campaigns(small_sim.history)
    stream = plan.tasks()
    first = next(stream)
    assert first.spend.shape == (len(first.keys), plan.days)
    listed, _, start, end = campaign_tasks(small_sim.history)
    streamed = [first, *stream]
    assert [t.keys for t in streamed] == [t.keys for t in listed]
    assert all((a.spend == b.spend).all() for a, b in zip(streamed, listed, strict=True))
    assert (plan.start, plan.end) == (start, end)
    assert plan.entities == sum(len(t.keys) for t in listed)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_scheduler_is_an_outage(small_sim: Simulation) -> None:
    engine = DaskEngine(f"tcp://127.0.0.1:{_closed_port()}", connect_timeout_s=0.5)
    with pytest.raises(StoreUnavailableError, match=r"Dask scheduler at tcp://127\.0\.0\.1"):
        fit_account(small_sim.history, _QUICK, engine=engine)


@pytest.mark.parametrize(
    ("engine", "address", "message"),
    [
        pytest.param("dask", None, "needs a scheduler address", id="dask-without-address"),
        pytest.param("dask", "nonsense://x", "not a Dask scheduler address", id="bad-scheme"),
        pytest.param("spark", None, "unknown fit engine", id="unknown-engine"),
    ],
)
def test_bad_engine_choices_are_invalid_input(
    small_sim: Simulation, engine: str, address: str | None, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        fit_account(small_sim.history, _QUICK, engine=engine, dask_address=address)


class _FailingFuture:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def result(self) -> Any:
        raise self.error


class _FakeClient:
    """Just enough of distributed.Client for DaskEngine, failing every task with `error`."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.closed = False

    def nthreads(self) -> dict[str, int]:
        return {"tcp://worker:1": 1}

    def submit(self, *_args: Any, **_kwargs: Any) -> _FailingFuture:
        return _FailingFuture(self.error)

    def close(self) -> None:
        self.closed = True


def _killed_worker() -> BaseException:
    from distributed import KilledWorker

    return KilledWorker("fit_campaign-1", "tcp://worker:1", 3)


@pytest.mark.parametrize(
    ("make_error", "expected"),
    [
        pytest.param(_killed_worker, SolverError, id="killed-worker"),
        pytest.param(lambda: OSError("connection reset"), StoreUnavailableError, id="comm-lost"),
        pytest.param(concurrent.futures.CancelledError, StoreUnavailableError, id="cancelled"),
        pytest.param(lambda: InvalidInputError("bad task"), InvalidInputError, id="domain-error"),
    ],
)
def test_cluster_failures_become_domain_errors(
    monkeypatch: pytest.MonkeyPatch,
    small_sim: Simulation,
    make_error: Any,
    expected: type[Exception],
) -> None:
    pytest.importorskip("distributed")
    client = _FakeClient(make_error())
    monkeypatch.setattr(DaskEngine, "_connect", lambda self: client)
    with pytest.raises(expected):
        fit_account(small_sim.history, _QUICK, engine=DaskEngine("tcp://fake:1"))
    assert client.closed


def test_names_resolve_to_engines() -> None:
    assert resolve_engine("local", n_jobs=3) == LocalEngine(n_jobs=3)
    assert resolve_engine("dask", dask_address="tcp://h:1") == DaskEngine("tcp://h:1")
    given = LocalEngine(n_jobs=2)
    assert resolve_engine(given, dask_address="tcp://ignored:1") is given


def test_fitting_locally_never_imports_dask() -> None:
    code = (
        "import sys\n"
        "from optimizer.models import FitOptions, fit_account\n"
        "from optimizer.simulate import simulate\n"
        "sim = simulate(campaigns=1, keywords_per_campaign=2, days=60, seed=1)\n"
        "fit_account(sim.history, FitOptions(bootstrap=2))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


@pytest.fixture
def history_file(tmp_path: Path, small_sim: Simulation) -> Path:
    from optimizer.io import write_canonical_csv

    path = tmp_path / "history.csv"
    write_canonical_csv(small_sim.history, path)
    return path


@pytest.mark.parametrize(
    "from_setting",
    [pytest.param(False, id="address-flag"), pytest.param(True, id="address-setting")],
)
def test_cli_fits_on_dask_like_locally(
    scheduler: str,
    history_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    from_setting: bool,
) -> None:
    from cli import main
    from optimizer.settings import get_settings

    address = ["--dask-address", scheduler]
    if from_setting:
        monkeypatch.setenv("PPCOPT_DASK_ADDRESS", scheduler)
        address = []
    get_settings.cache_clear()
    try:
        local, remote = tmp_path / "local.json", tmp_path / "remote.json"
        assert main(["fit", "--data", str(history_file), "--out", str(local), "--jobs", "1"]) == 0
        args = ["fit", "--data", str(history_file), "--out", str(remote), "--engine", "dask"]
        assert main([*args, *address]) == 0
    finally:
        get_settings.cache_clear()
    payloads = [json.loads(p.read_text(encoding="utf-8")) for p in (local, remote)]
    for payload in payloads:
        payload.pop("fitted_at")
    assert payloads[0] == payloads[1]


def test_cli_refuses_dask_without_an_address(
    history_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import main
    from optimizer.settings import get_settings

    monkeypatch.delenv("PPCOPT_DASK_ADDRESS", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["fit", "--data", str(history_file), "--engine", "dask"]) == 1
    finally:
        get_settings.cache_clear()
    assert "needs a scheduler address" in capsys.readouterr().err
