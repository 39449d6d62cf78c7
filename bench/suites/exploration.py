"""Learn while spending (issue 23): the nightly job in a closed loop, with and without spend tests.

Each seed's account (2 keyword campaigns x 4 keywords and a keyword-less one, 84 days of simulated
history) is stored with a cap that pays its current daily spend over the loop's days. Then, every
night, the job ingests yesterday's rows, refits and publishes tomorrow's plan; the simulated
account spends what the plan says and its rows are what the next night ingests
(`optimizer.simulate.live`). Two arms per seed meet the same daily luck: the plan policy's
exploration share 0 (no tests) and `share`. Scored against the truth: expected conversions of the
spend each plan made, from day `burn_in` on, beside the oracle's (the true curves' best split of
the same day's total): the gap is what there was to learn. Tested entities' elasticity bands are
compared with what the value-of-information model predicted for them, and with the band the arm
without tests had for the same entity and spend on the same night (what the test itself taught,
apart from the days both arms gained).

With `volume`, every entity converts that many times as often at the same spend (its cost per
conversion divided by it): the same tests carry that many times the information, and so does the
history they add to.

With `lagged`, conversions are reported late (`ConversionLag.typical()`: 55% on the day) and the
account sends its last `upload_days` days every night, as the Google Ads script does (30 by
default, its conversion window), so the fit learns the lag from days sent again
(`optimizer.simulate.live.as_exported`). Without it, every
day's conversions are complete when sent once, and the account's lag report says so: a fit that
assumed its default lag there would take the newest days for under-reported, and read whatever the
plan did last as better than it was.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.registry import case

__all__ = ["closed_loop", "exploration_loop"]

_START = dt.date(2026, 1, 5)
_HISTORY = 84
_NOT_SHOWN = frozenset({"losses", "information_first", "information_last"})


def closed_loop(
    *,
    seed: int,
    days: int,
    share: float,
    workdir: Path,
    burn_in: int = 30,
    history: int = _HISTORY,
    steady: bool = False,
    lagged: bool = False,
    upload_days: int = 30,
    volume: float = 1.0,
) -> dict[str, Any]:
    """One arm: `days` nights of the nightly job on a simulated account that spends the plans."""
    import numpy as np
    import pandas as pd

    from optimizer.access import Role, system_principal
    from optimizer.experiments import Z90
    from optimizer.io import write_canonical_csv
    from optimizer.models.curves import entity_id
    from optimizer.models.lag import NO_LAG
    from optimizer.schema import NAME_COLUMNS, EntityKey
    from optimizer.settings import Settings
    from optimizer.simulate import optimal_allocation
    from optimizer.simulate.live import as_exported, day_rows, true_conversions
    from optimizer.simulate.truth import ConversionLag, true_elasticity
    from optimizer.store.engine import make_engine, upgrade
    from optimizer.usecases import experiments, recommendations
    from optimizer.usecases.accounts import create_account
    from optimizer.usecases.caps import decide_cap, propose_cap
    from optimizer.usecases.fit import set_lag_report
    from optimizer.usecases.ingest import ingest
    from optimizer.usecases.nightly import run_nightly
    from optimizer.usecases.policy import PlanPolicy, set_policy

    workdir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{workdir / 'store.db'}")
    upgrade(engine)
    manager = system_principal("bench:manager", Role.MANAGER)
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    sim = _account(seed=seed, history=history, steady=steady, volume=volume)
    last = _START + dt.timedelta(days=history - 1)
    lag = ConversionLag.typical() if lagged else None
    sent = {pd.Timestamp(d).date(): rows for d, rows in sim.history.groupby("date")}
    shown = sim.history if lag is None else as_exported(sim.history, lag, last, seed)
    write_canonical_csv(shown, workdir / "history.csv")
    ingest(engine, "shop", workdir / "history.csv")
    recent = sim.history[sim.history["date"] > str(last - dt.timedelta(days=7))]
    daily = float(recent["spend"].sum()) / 7
    finance = [system_principal(f"bench:finance-{i}", Role.FINANCE) for i in (1, 2)]
    cap = propose_cap(engine, finance[0], "shop", period_start=last + dt.timedelta(days=1),
                      period_end=last + dt.timedelta(days=days),
                      amount=f"{daily * days:.2f}", currency="EUR")  # fmt: skip
    decide_cap(engine, finance[1], cap.id, approve=True)
    set_policy(engine, manager, "shop", PlanPolicy(exploration_share=share))
    if lag is None:
        set_lag_report(engine, manager, "shop", NO_LAG, "simulator: complete on the day")
    settings = Settings(database_url="sqlite://", inbox=workdir / "inbox")
    inbox = workdir / "inbox" / "shop"
    inbox.mkdir(parents=True)
    truth = sim.truth
    true_params = truth.params()
    no_floor, no_ceiling = np.zeros(len(true_params)), np.full(len(true_params), np.inf)
    scored = 0.0
    oracle = 0.0
    spent = 0.0
    over = 0
    losses: list[tuple[str, float, float, float]] = []
    started = time.perf_counter()
    for night in range(days):
        today = last + dt.timedelta(days=night)
        moment = dt.datetime.combine(today, dt.time(23, 0), tzinfo=dt.UTC)
        run = run_nightly(engine, system_principal("scheduler"), "shop", trigger="manual",
                          now=moment, settings=settings)  # fmt: skip
        if run.status != "succeeded":
            raise RuntimeError(f"night {night}: {run.error}")
        plan = recommendations.latest(engine, manager, "shop")
        over += plan.total_micros > plan.budget_micros
        spends = {
            EntityKey(*(str(row[n] or "") for n in NAME_COLUMNS)): row["micros"] / 1_000_000
            for row in plan.payload["keyword"]
        }
        day = today + dt.timedelta(days=1)
        rows = day_rows(truth, spends, day, seed)
        sent[day] = rows
        if lag is None:
            write_canonical_csv(rows, inbox / f"{day}.csv")
        else:
            window = pd.concat([sent[d] for d in sorted(sent)[-upload_days:]])
            write_canonical_csv(as_exported(window, lag, day, seed), inbox / f"{day}.csv")
        if night >= burn_in:
            scored += true_conversions(truth, spends, day)
            best = optimal_allocation(
                true_params, sum(spends.values()), no_floor, no_ceiling,
                weekday=day.weekday(), day_index=truth.day_index(day),
            )  # fmt: skip
            oracle += best.objective
            _add_losses(losses, truth, true_params, spends, best, day)
            spent += float(rows["spend"].sum())
    tests = experiments.list_experiments(engine, manager, "shop")
    window_ends = _window_ends(engine)
    engine.dispose()
    read = [t.readout for t in tests if t.readout is not None]
    ratios = [
        r["sd_after"] / r["sd_before"] for r in read if r["sd_before"] > 0 and r["sd_after"] > 0
    ]
    predicted = [r["predicted_sd_after"] / r["sd_before"] for r in read if r["sd_before"] > 0]
    curves = {entity_id(key): curve for key, curve in truth.curves.items()}
    errors = []
    bands = []
    for test in tests:
        if test.readout is None:
            continue
        curve = curves[test.entity_id]
        x = test.base_micros / 1_000_000
        true_e = true_elasticity(curve, x)
        r = test.readout
        errors.append(
            (
                abs(r["elasticity_before"] - true_e),
                abs(r["elasticity_after"] - true_e),
                abs(r["elasticity_after"] - true_e) <= Z90 * r["sd_after"],
            )
        )
        bands.append(
            {
                "entity_id": test.entity_id,
                "spend": x,
                "window_end": window_ends[r["curve_set_version"]],
                "true_elasticity": true_e,
                "elasticity_after": r["elasticity_after"],
                "sd_after": r["sd_after"],
            }
        )
    return {
        "true_conversions": scored,
        "oracle_conversions": oracle,
        "spend": spent,
        "tests": len(tests),
        "tests_scored": len(read),
        "expected_cost": sum(t.expected_cost for t in tests),
        "measured_cost": sum(r["conversions_cost"] for r in read),
        "band_ratio": statistics.median(ratios) if ratios else None,
        "predicted_band_ratio": statistics.median(predicted) if predicted else None,
        "seconds": time.perf_counter() - started,
        "over_budget_days": over,
        "readout_errors": errors,
        "readout_bands": bands,
        "experiments": [t.as_dict() for t in tests],
        "losses": losses,
        "information_first": _information(sim.history),
        "information_last": _information(pd.concat([sent[d] for d in sorted(sent)[:-1]])),
    }


def _add_losses(
    losses: list[tuple[str, float, float, float]],
    truth: Any,
    params: Any,
    spends: dict[Any, float],
    best: Any,
    day: dt.date,
) -> None:
    """Each entity's part of the day's gap to the oracle, f(x*) - f(x) - lambda (x* - x) (>= 0
    for concave curves; they sum to the gap, both splits spending the same): (entity id, loss,
    its spend, the day's total) appended per entity; `params` are `truth.params()`, in its
    order."""
    import numpy as np

    from optimizer.models.curves import entity_id
    from optimizer.simulate.truth import expected_conversions

    keys = truth.keys
    x = np.array([spends.get(key, 0.0) for key in keys])
    index = np.full(len(keys), truth.day_index(day))
    f = expected_conversions(params, x, weekday=day.weekday(), day_index=index)
    f_best = expected_conversions(params, best.allocation, weekday=day.weekday(), day_index=index)
    loss = f_best - f - best.lambda_ * (best.allocation - x)
    total = float(x.sum())
    for key, lost, spent in zip(keys, loss, x, strict=True):
        losses.append((entity_id(key), float(lost), float(spent), total))


def _information(rows: Any) -> dict[str, tuple[float, float, float]]:
    """Each entity's conversions a day and the Fisher information its daily `rows` carry about its
    elasticity, twice: with no calendar, and net of a trend and weekday factors of its own.

    Over days with spend: the conversion-weighted sum of squared residuals of log spend about its
    weighted mean (or its weighted least-squares fit on day, weekday), as a Poisson regression of
    conversions on log spend (and the calendar) has it. Neither falls as days are added, and
    steady spend carries next to none. The fit's calendar is the campaign's, so a keyword's
    information lies between the two; a keyword-less campaign's is the second.
    """
    import numpy as np
    import pandas as pd

    from optimizer.models.curves import entity_id
    from optimizer.schema import NAME_COLUMNS, EntityKey

    out = {}
    names = rows[list(NAME_COLUMNS)].fillna("").astype(str)
    for key, days in rows.groupby([names[n] for n in NAME_COLUMNS], sort=False):
        spent = days[days["spend"] > 0]
        weights = spent["conversions"].to_numpy(dtype=np.float64)
        if weights.sum() <= 0:
            continue
        log_spend = np.log(spent["spend"].to_numpy(dtype=np.float64))
        dates = pd.to_datetime(spent["date"])
        day = (dates - dates.min()).dt.days.to_numpy(dtype=np.float64)
        weekday = dates.dt.day_of_week.to_numpy()
        calendar = np.column_stack(
            [np.ones_like(day), day, *((weekday == w).astype(np.float64) for w in range(1, 7))]
        )
        out[entity_id(EntityKey(*key))] = (
            float(days["conversions"].mean()),
            _residual_ss(calendar[:, :1], log_spend, weights),
            _residual_ss(calendar, log_spend, weights),
        )
    return out


def _residual_ss(design: Any, y: Any, weights: Any) -> float:
    """The weighted sum of squared residuals of `y` after its weighted least-squares fit on the
    columns of `design`."""
    import numpy as np

    root = np.sqrt(weights)
    coef, *_ = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)
    return float(weights @ (y - design @ coef) ** 2)


def _vs_oracle(arm: dict[str, Any]) -> float:
    """An arm's true conversions against the oracle's over the scored days (-0.02: 2% fewer)."""
    best = arm["oracle_conversions"]
    return float(arm["true_conversions"] / best - 1) if best > 0 else 0.0


def _account(*, seed: int, history: int, steady: bool, volume: float) -> Any:
    """The seed's simulated account (its history and truth), as both arms start from it."""
    from optimizer.simulate import Scenario, simulate

    levels = (0.9, 1.1) if steady else Scenario().spend_levels
    scenario = Scenario(spend_levels=levels, volume=volume)
    return simulate(campaigns=2, keywords_per_campaign=4, days=history, seed=seed, start=_START,
                    scenario=scenario)  # fmt: skip


def _window_ends(engine: Any) -> dict[int, str]:
    """Each stored curve set's version -> the last day of the data it was fitted on."""
    from sqlalchemy import select

    from optimizer.store.tables import curve_sets

    with engine.connect() as connection:
        rows = connection.execute(select(curve_sets.c.version, curve_sets.c.window_end)).all()
    return {int(version): str(day) for version, day in rows}


def _elasticities(store: Path, truth: Any, nights: slice) -> list[tuple[str, float, float, float]]:
    """The fits of `nights` (in order of fitting): each entity's id, its fitted elasticity at its
    current spend, the true one there, and the spread the value-of-information model read off its
    band."""
    from sqlalchemy import select

    from optimizer.experiments import local_elasticity
    from optimizer.models.curves import entity_id
    from optimizer.simulate.truth import true_elasticity
    from optimizer.store.curves import load_curve_set
    from optimizer.store.engine import make_engine
    from optimizer.store.tables import curve_sets

    curves = {entity_id(key): curve for key, curve in truth.curves.items()}
    engine = make_engine(f"sqlite:///{store}")
    out = []
    with engine.connect() as connection:
        fits = connection.execute(
            select(curve_sets.c.account_id, curve_sets.c.version).order_by(curve_sets.c.version)
        ).all()
        for account, version in fits[nights]:
            fitted = load_curve_set(connection, account, version).curve_set
            for curve in fitted:
                x = curve.current_spend
                true_curve = curves.get(curve.entity_id)
                if x <= 0 or true_curve is None:
                    continue
                e, sd = local_elasticity(curve, x, fitted.band_scale)
                out.append((curve.entity_id, e, true_elasticity(true_curve, x), sd))
    engine.dispose()
    return out


def _band_coverage(store: Path, truth: Any, every: int = 10) -> list[tuple[float, float]]:
    """Every `every`-th night's fit: each entity's fitted elasticity at its current spend minus
    the true one, and the spread the value-of-information model read off its band (what a test
    is ranked by; an honest spread has 80% of the errors within Z90 of it)."""
    return [
        (e - true, sd)
        for _, e, true, sd in _elasticities(store, truth, slice(None, None, every))
        if math.isfinite(sd) and sd > 0
    ]


def _untested(store: Path, bands: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """For each read-out: the elasticity and its sd the arm without tests had for the same entity
    at the same spend, fitted on the same night (NaN where it has no such curve)."""
    from sqlalchemy import select

    from optimizer.experiments import local_elasticity
    from optimizer.store.curves import load_curve_set
    from optimizer.store.engine import make_engine
    from optimizer.store.tables import curve_sets

    engine = make_engine(f"sqlite:///{store}")
    with engine.connect() as connection:
        fits = connection.execute(
            select(curve_sets.c.account_id, curve_sets.c.version, curve_sets.c.window_end).order_by(
                curve_sets.c.version
            )
        ).all()
        night = {str(day): (account, version) for account, version, day in fits}
        loaded = {
            day: load_curve_set(connection, *night[day]).curve_set
            for day in {b["window_end"] for b in bands}
            if day in night
        }
    engine.dispose()
    curves = {day: {c.entity_id: c for c in curve_set} for day, curve_set in loaded.items()}
    out = []
    for band in bands:
        curve = curves.get(band["window_end"], {}).get(band["entity_id"])
        if curve is None:
            out.append((float("nan"), float("nan")))
            continue
        scale = loaded[band["window_end"]].band_scale
        out.append(local_elasticity(curve, band["spend"], scale))
    return out


@case("exploration_loop")
def exploration_loop(
    *,
    seeds: int,
    days: int,
    share: float,
    workdir: str,
    burn_in: int = 30,
    history: int = _HISTORY,
    steady: bool = False,
    lagged: bool = False,
    volume: float = 1.0,
    workers: int = 1,
) -> dict[str, Any]:
    """Both arms of every seed, `workers` loops at a time (each arm is deterministic)."""
    from optimizer.experiments import Z90

    base = Path(workdir) / f"exploration-{time.time_ns()}"
    runs = [(seed, name, s) for seed in range(seeds) for name, s in (("off", 0.0), ("on", share))]
    loop = functools.partial(
        closed_loop,
        days=days,
        burn_in=burn_in,
        history=history,
        steady=steady,
        lagged=lagged,
        volume=volume,
    )
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {
            (seed, name): pool.submit(loop, seed=seed, share=s, workdir=base / f"{seed}-{name}")
            for seed, name, s in runs
        }
        done = {key: future.result() for key, future in futures.items()}
    workers_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    gains, costs, measured, ratios, predicted = [], [], [], [], []
    against_off: list[float] = []
    untested: list[tuple[float, float]] = []
    errors: list[tuple[float, float, bool]] = []
    to_oracle: dict[str, list[float]] = {"off": [], "on": []}
    spreads: list[tuple[float, float]] = []
    tests = 0
    wins = 0
    for seed in range(seeds):
        arms = {name: done[(seed, name)] for name in ("off", "on")}
        off, on = arms["off"]["true_conversions"], arms["on"]["true_conversions"]
        gains.append(on / off - 1 if off > 0 else 0.0)
        for name in ("off", "on"):
            to_oracle[name].append(_vs_oracle(arms[name]))
        wins += on > off
        costs.append(arms["on"]["expected_cost"])
        measured.append(arms["on"]["measured_cost"])
        tests += arms["on"]["tests"]
        errors.extend(arms["on"]["readout_errors"])
        bands = arms["on"]["readout_bands"]
        truth = _account(seed=seed, history=history, steady=steady, volume=volume).truth
        spreads.extend(_band_coverage(base / f"{seed}-off" / "store.db", truth))
        without = _untested(base / f"{seed}-off" / "store.db", bands)
        for band, (e, sd) in zip(bands, without, strict=True):
            if sd > 0:
                against_off.append(band["sd_after"] / sd)
            if not math.isnan(e):  # the untested arm had a curve there
                truth = band["true_elasticity"]
                untested.append((abs(band["elasticity_after"] - truth), abs(e - truth)))
        if arms["on"]["band_ratio"] is not None:
            ratios.append(arms["on"]["band_ratio"])
            predicted.append(arms["on"]["predicted_band_ratio"])
        shown = {
            name: {k: v for k, v in arm.items() if k not in _NOT_SHOWN}
            for name, arm in arms.items()
        }
        print(f"seed {seed}: gain {gains[-1]:+.3%} {shown}", flush=True)
    result: dict[str, Any] = {
        "seeds": seeds,
        "days": days,
        "exploration_share": share,
        "mean_gain_true_conversions": statistics.mean(gains),
        "min_gain_true_conversions": min(gains),
        "seeds_won": wins,
        "off_vs_oracle": statistics.mean(to_oracle["off"]),
        "on_vs_oracle": statistics.mean(to_oracle["on"]),
        "tests": tests,
        "expected_cost_conversions": sum(costs),
        "measured_cost_conversions": sum(measured),
        "workers_peak_rss_mib": workers_mib,
    }
    if seeds > 1:
        result["gain_standard_error"] = statistics.stdev(gains) / seeds**0.5
    if errors:  # how the read-outs' elasticities stand against the true curves'
        result["readouts_scored"] = len(errors)
        result["readouts_closer_to_truth"] = sum(after < before for before, after, _ in errors)
        result["readout_error_before"] = statistics.mean(before for before, _, _ in errors)
        result["readout_error_after"] = statistics.mean(after for _, after, _ in errors)
        result["truth_in_band_after"] = statistics.mean(inside for _, _, inside in errors)
    if spreads:  # is the spread a test is ranked by honest? (the arm without tests, all entities)
        result["elasticity_in_band"] = statistics.mean(abs(d) <= Z90 * sd for d, sd in spreads)
        result["elasticity_median_z"] = statistics.median(abs(d) / sd for d, sd in spreads)
        result["elasticity_error"] = statistics.mean(abs(d) for d, _ in spreads)
    if ratios:  # no test scored (a short run): the band ratios are left out, not NaN
        result["median_band_ratio"] = statistics.median(ratios)
        result["median_predicted_band_ratio"] = statistics.median(predicted)
    if against_off:  # the band after a test against the untested arm's on the same night
        result["median_band_ratio_vs_untested"] = statistics.median(against_off)
    if untested:  # the read-out against the untested arm's estimate on the same night
        result["readouts_closer_than_untested"] = sum(t < u for t, u in untested)
        result["readout_error_untested"] = statistics.mean(u for _, u in untested)
    return result
