"""Child process: fit one simulated account in-process, with 2 jobs and on Dask; print digests.

Run by test_determinism.py with a chosen OPENBLAS_NUM_THREADS, which BLAS reads only at start-up.
"""

from __future__ import annotations

import hashlib
import json
import sys

from optimizer.models import CurveSet, fit_account
from optimizer.simulate import simulate


def digest(curve_set: CurveSet) -> str:
    payload = json.loads(curve_set.to_json())
    payload.pop("fitted_at")
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def main() -> None:
    from distributed import LocalCluster

    history = simulate(campaigns=2, keywords_per_campaign=40, days=150, seed=23).history
    digests = {
        "in-process": digest(fit_account(history)),
        "2-jobs": digest(fit_account(history, n_jobs=2)),
    }
    with LocalCluster(
        n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    ) as cluster:
        remote = fit_account(history, engine="dask", dask_address=cluster.scheduler_address)
        digests["dask"] = digest(remote)
    json.dump(digests, sys.stdout)


if __name__ == "__main__":
    main()
