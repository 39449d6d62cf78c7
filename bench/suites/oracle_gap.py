"""Where the plan's gap to the oracle lies, and how much its fits know (issue 23: where to test).

The nightly job in the closed loop without spend tests (`exploration.closed_loop`, share 0), per
seed. On every scored day each entity's part of the gap to the oracle is f(x*) - f(x) - lambda
(x* - x) under the true curves (x the plan's spend, x* the oracle's split of the same total,
lambda its marginal return); the parts sum to the day's gap. A spend test moves `step` x an
entity's spend and fits an exploration share s of the day's budget only where step x spend <=
s x budget: the gap on such entity-days is what tests of that share can reach at all. And across
entities, the fitted elasticity at the current spend against the true one, on the first night
(the history alone) and the last: a correlation near 0 means the plan ranks entities by
elasticities the data did not reveal.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.registry import case
from bench.suites.exploration import (
    _HISTORY,
    _account,
    _elasticities,
    _vs_oracle,
    closed_loop,
)

__all__ = ["oracle_gap"]


@case("oracle_gap")
def oracle_gap(
    *,
    seeds: int,
    days: int,
    workdir: str,
    burn_in: int = 30,
    history: int = _HISTORY,
    steady: bool = False,
    step: float = 0.3,
    shares: tuple[float, ...] = (0.03, 0.1),
    workers: int = 1,
) -> dict[str, Any]:
    """The arm without tests of every seed, `workers` loops at a time."""
    base = Path(workdir) / f"gap-{time.time_ns()}"
    loop = functools.partial(
        closed_loop, days=days, share=0.0, burn_in=burn_in, history=history, steady=steady
    )
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(loop, seed=seed, workdir=base / str(seed)) for seed in range(seeds)]
        done = [future.result() for future in futures]
    to_oracle, top, lost, scored = [], [], 0.0, 0.0
    reachable = dict.fromkeys(shares, 0.0)
    first: list[tuple[float, float, float]] = []
    last: list[tuple[float, float, float]] = []
    for seed, arm in enumerate(done):
        to_oracle.append(_vs_oracle(arm))
        by_entity: dict[str, float] = defaultdict(float)
        for entity, loss, spend, total in arm["losses"]:
            by_entity[entity] += loss
            for share in shares:
                if step * spend <= share * total:
                    reachable[share] += loss
        seed_loss = sum(by_entity.values())
        lost += seed_loss
        scored += arm["true_conversions"]
        if seed_loss > 0:
            top.append(max(by_entity.values()) / seed_loss)
        truth = _account(seed=seed, history=history, steady=steady, volume=1.0).truth
        store = base / str(seed) / "store.db"
        first.extend(_elasticities(store, truth, slice(0, 1)))
        last.extend(_elasticities(store, truth, slice(-1, None)))
    result: dict[str, Any] = {
        "seeds": seeds,
        "days": days,
        "off_vs_oracle": statistics.mean(to_oracle),
        "gap_conversions": lost,
        "gap_share_of_conversions": lost / scored if scored > 0 else 0.0,
        "median_top_entity_share_of_gap": statistics.median(top) if top else 0.0,
    }
    for share in shares:
        result[f"gap_reachable_share_{share:g}"] = reachable[share] / lost if lost > 0 else 0.0
    for name, fits in (("first", first), ("last", last)):
        fitted = [e for e, _, _ in fits]
        true = [t for _, t, _ in fits]
        result[f"elasticity_correlation_{name}_fit"] = statistics.correlation(fitted, true)
        result[f"elasticity_slope_{name}_fit"] = statistics.linear_regression(true, fitted).slope
        result[f"elasticity_mean_error_{name}_fit"] = statistics.mean(
            e - t for e, t in zip(fitted, true, strict=True)
        )
    return result
