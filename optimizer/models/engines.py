"""Where campaign fits run: in this machine's processes (joblib) or on a Dask cluster.

An engine maps `fit_campaign` over a stream of `CampaignTask`s and yields each campaign's curves
in task order, whatever order they finish in, so every engine returns the same curves. Both keep
only a bounded window of tasks in flight, so the dense per-campaign arrays of a large account never
exist all at once.

Dask is imported only when a Dask engine runs. Its failures become domain errors: a scheduler that
cannot be reached or goes away mid-fit is an outage (`StoreUnavailableError`, retryable like a
database outage: "a backing service is unavailable right now"); a campaign whose task keeps killing
workers (typically out of memory) is a `SolverError` (the numerical backend failed on this input);
a malformed address is an `InvalidInputError`. Exceptions raised by `fit_campaign` itself pass
through unchanged on every engine.

Every work unit runs under one BLAS thread (`fit_unit`): a matrix product summed by two threads
adds in another order than by one, so without the limit a curve's last bits would depend on where
it was fitted (this process's OpenBLAS threads, a loky worker's, a Dask worker's). It also keeps
joblib's and Dask's workers from each starting a BLAS thread per core.
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from joblib import Parallel, delayed
from threadpoolctl import ThreadpoolController

from optimizer.errors import InvalidInputError, SolverError, StoreUnavailableError
from optimizer.models.campaign import CampaignTask, fit_campaign
from optimizer.models.curves import EntityCurve
from optimizer.models.options import FitOptions

__all__ = [
    "ENGINE_NAMES",
    "DaskEngine",
    "FitEngine",
    "LocalEngine",
    "fit_unit",
    "resolve_engine",
]

ENGINE_NAMES: tuple[str, ...] = ("local", "dask")

_CONNECT_TIMEOUT_S = 10.0
_TASKS_PER_WORKER_THREAD = 2


@functools.cache
def _controller() -> ThreadpoolController:
    """The BLAS libraries this process loaded, found once (a scan per campaign would cost more)."""
    return ThreadpoolController()


def fit_unit(task: CampaignTask, options: FitOptions) -> list[EntityCurve]:
    """`fit_campaign` under one BLAS thread, so its result is the same bits on every engine."""
    with _controller().limit(limits=1, user_api="blas"):
        return fit_campaign(task, options)


class FitEngine(Protocol):
    """Maps `fit_unit(task, options)` over tasks; yields each task's curves in task order."""

    def map(
        self, tasks: Iterable[CampaignTask], options: FitOptions
    ) -> Iterator[list[EntityCurve]]: ...


@dataclass(frozen=True)
class LocalEngine:
    """joblib's loky process pool on this machine (`n_jobs=1`: in this process, no pool)."""

    n_jobs: int = 1

    def map(
        self, tasks: Iterable[CampaignTask], options: FitOptions
    ) -> Iterator[list[EntityCurve]]:
        if self.n_jobs == 0:
            raise InvalidInputError("n_jobs must not be 0 (use 1 for in-process, -1 for all cores)")
        parallel = Parallel(n_jobs=self.n_jobs, backend="loky", return_as="generator")
        yield from parallel(delayed(fit_unit)(task, options) for task in tasks)


@dataclass(frozen=True)
class DaskEngine:
    """A dask.distributed scheduler at `address` (e.g. `tcp://10.0.0.5:8786`).

    Workers need this package installed at the same version. `window` is how many tasks may be in
    flight at once (default: two per worker thread); it bounds the memory both here and on the
    cluster.
    """

    address: str
    window: int | None = None
    connect_timeout_s: float = _CONNECT_TIMEOUT_S

    def map(
        self, tasks: Iterable[CampaignTask], options: FitOptions
    ) -> Iterator[list[EntityCurve]]:
        if self.window is not None and self.window < 1:
            raise InvalidInputError(f"the Dask window must be at least 1, not {self.window}")
        client = self._connect()
        try:
            yield from self._run(client, iter(tasks), options)
        finally:
            client.close()

    def _connect(self) -> Any:
        from distributed import Client

        try:
            return Client(  # type: ignore[no-untyped-call]
                self.address, timeout=self.connect_timeout_s, set_as_default=False
            )
        except ValueError as exc:
            raise InvalidInputError(
                f"'{self.address}' is not a Dask scheduler address ({exc})"
            ) from exc
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def _run(
        self, client: Any, tasks: Iterator[CampaignTask], options: FitOptions
    ) -> Iterator[list[EntityCurve]]:
        from distributed import KilledWorker
        from distributed.client import ClosedClientError

        if not client.nthreads():
            try:
                client.wait_for_workers(1, timeout=self.connect_timeout_s)
            except TimeoutError as exc:
                raise self._unavailable(OSError("the scheduler has no workers")) from exc
        window = self.window or _TASKS_PER_WORKER_THREAD * max(1, _threads(client))
        pending: deque[tuple[str, Any]] = deque()
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                    break
                future = client.submit(fit_unit, task, options, pure=False)
                pending.append((task.campaign, future))
            if not pending:
                return
            campaign, future = pending.popleft()
            try:
                curves: list[EntityCurve] = future.result()
            except KilledWorker as exc:
                raise SolverError(
                    f"fitting campaign '{campaign}' killed Dask workers repeatedly (most often "
                    "out of memory; give the workers more memory)"
                ) from exc
            except (OSError, concurrent.futures.CancelledError, ClosedClientError) as exc:
                raise self._unavailable(exc) from exc
            yield curves

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreUnavailableError(
            f"the Dask scheduler at {self.address} is unavailable right now ({reason}); "
            "try again shortly or fit with the local engine"
        )


def resolve_engine(
    engine: str | FitEngine, *, n_jobs: int = 1, dask_address: str | None = None
) -> FitEngine:
    """An engine object from a name ('local' or 'dask') or an engine given as is."""
    if not isinstance(engine, str):
        return engine
    if engine == "local":
        return LocalEngine(n_jobs=n_jobs)
    if engine == "dask":
        if not dask_address:
            raise InvalidInputError(
                "the Dask engine needs a scheduler address (--dask-address or PPCOPT_DASK_ADDRESS)"
            )
        return DaskEngine(dask_address)
    raise InvalidInputError(f"unknown fit engine '{engine}' (choose {' or '.join(ENGINE_NAMES)})")


def _threads(client: Any) -> int:
    return int(sum(client.nthreads().values()))
