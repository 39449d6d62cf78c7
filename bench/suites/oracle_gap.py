"""Where the plan's gap to the oracle lies, and how much its fits know (issue 23: where to test).

The nightly job in the closed loop without spend tests (`exploration.closed_loop`, share 0), per
seed. On every scored day each entity's part of the gap to the oracle is f(x*) - f(x) - lambda
(x* - x) under the true curves (x the plan's spend, x* the oracle's split of the same total,
lambda its marginal return); the parts sum to the day's gap. A spend test moves `step` x an
entity's spend and fits an exploration share s of the day's budget only where step x spend <=
s x budget: the gap on such entity-days is what tests of that share can reach at all. And across
entities, the fitted elasticity at the current spend against the true one, on the first night
(the history alone) and the last: a correlation near 0 means the plan ranks entities by
elasticities the data did not reveal. Beside it, the Fisher information each entity's data
carry about its elasticity (first night and last, and what a default spend test would add), and on
the last night the fits' elasticity error by how much information the data carry: an error that
does not fall as the information grows is not one a spend test can cure.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from bench.registry import case
from bench.suites.exploration import (
    _HISTORY,
    _account,
    _elasticities,
    _vs_oracle,
    closed_loop,
)

__all__ = ["oracle_gap"]


class _Fit(NamedTuple):
    """One entity on one night: fitted and true elasticity at its current spend, the information
    its data carried (without a calendar and net of its own), its conversions a day."""

    fitted: float
    true: float
    information: float
    net: float
    conversions: float


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
    fits: dict[str, list[_Fit]] = {"first": [], "last": []}
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
        for name, nights in (("first", slice(0, 1)), ("last", slice(-1, None))):
            information = arm[f"information_{name}"]
            for entity, e, true, _ in _elasticities(store, truth, nights):
                conversions, info, net = information.get(entity, (0.0, 0.0, 0.0))
                fits[name].append(_Fit(e, true, info, net, conversions))
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
    for name, night in fits.items():
        fitted = [fit.fitted for fit in night]
        true = [fit.true for fit in night]
        result[f"elasticity_correlation_{name}_fit"] = statistics.correlation(fitted, true)
        result[f"elasticity_slope_{name}_fit"] = statistics.linear_regression(true, fitted).slope
        result[f"elasticity_mean_error_{name}_fit"] = statistics.mean(
            e - t for e, t in zip(fitted, true, strict=True)
        )
        result[f"information_{name}_fit_median"] = statistics.median(
            fit.information for fit in night
        )
        result[f"information_net_of_calendar_{name}_fit_median"] = statistics.median(
            fit.net for fit in night
        )
    per_test = _design_information()
    result["information_test_median"] = statistics.median(
        fit.conversions * per_test for fit in fits["last"]
    )
    for i, part in enumerate(_error_by_information(fits["last"]), 1):
        result.update({f"information_third_{i}_{name}": v for name, v in part.items()})
    return result


def _design_information() -> float:
    """What the default spend test adds to its entity's information per conversion a day, its
    multiples as the default change limits allow."""
    from optimizer.experiments import design_information, schedule
    from optimizer.usecases.experiments import DEFAULT_DESIGN
    from optimizer.usecases.policy import PlanPolicy

    policy = PlanPolicy()
    return design_information(
        schedule(DEFAULT_DESIGN, max_increase=policy.max_increase, max_decrease=policy.max_decrease)
    )


def _error_by_information(fits: list[_Fit], groups: int = 3) -> list[dict[str, float]]:
    """The entities in `groups` equal parts by the information their data carry net of a calendar
    of their own, least first: each part's size, median information (net and without a
    calendar), mean |fitted - true elasticity|, and that error if only either information limited
    it (`_limited`)."""
    import numpy as np

    ranked = sorted(fits, key=lambda fit: fit.net)
    out = []
    for part in np.array_split(np.arange(len(ranked)), groups):
        chosen = [ranked[i] for i in part]
        if not chosen:
            continue
        info = np.array([fit.information for fit in chosen])
        net = np.array([fit.net for fit in chosen])
        out.append(
            {
                "entities": len(chosen),
                "median": float(np.median(net)),
                "median_without_calendar": float(np.median(info)),
                "elasticity_error": float(np.mean([abs(fit.fitted - fit.true) for fit in chosen])),
                "elasticity_error_if_information_limited": _limited(net),
                "elasticity_error_if_information_without_calendar_limited": _limited(info),
            }
        )
    return out


def _limited(information: Any) -> float:
    """The mean |error| of an elasticity known to the prior and `information` alone: sqrt(2 / pi)
    / sqrt(1 / prior^2 + information), the prior the spread of elasticities pooling assumes."""
    import numpy as np

    from optimizer.models.shrinkage import SPREAD_PRIOR_SCALE

    spread = 1 / np.sqrt(SPREAD_PRIOR_SCALE**-2 + np.asarray(information, dtype=np.float64))
    return float(np.mean(np.sqrt(2 / np.pi) * spread))
