"""Weekday factors and trend: recovered from data with a known offset, normalised, switchable."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from optimizer.models.calendar import exposure, fit_calendar, multiplier

DOW = np.array([0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 0.8])


def _series(tau_year: float, days: int = 364) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    weekday = np.arange(days) % 7
    offset = np.arange(days, dtype=float) - (days - 1)
    base = rng.uniform(100.0, 300.0, days)
    mu = base * DOW[weekday] / DOW.mean() * np.exp(tau_year / 365.0 * offset)
    return rng.poisson(mu).astype(float), np.log(base), weekday, offset


def test_recovers_weekday_factors_and_trend() -> None:
    y, log_offset, weekday, offset = _series(0.3)
    dow, tau = fit_calendar(
        y,
        log_offset,
        np.ones(y.size, bool),
        weekday,
        offset,
        dow_ridge=1.0,
        trend_prior_sd_per_year=1.0,
    )
    assert np.allclose(dow, DOW / DOW.mean(), atol=0.03)
    assert np.mean(dow) == pytest.approx(1.0)
    assert tau * 365 == pytest.approx(0.3, abs=0.03)


def test_zero_trend_prior_switches_the_trend_off() -> None:
    y, log_offset, weekday, offset = _series(0.5)
    _, tau = fit_calendar(
        y,
        log_offset,
        np.ones(y.size, bool),
        weekday,
        offset,
        dow_ridge=1.0,
        trend_prior_sd_per_year=0.0,
    )
    assert tau == 0.0


def test_no_data_means_no_calendar_effect() -> None:
    days = 30
    dow, tau = fit_calendar(
        np.zeros(days),
        np.zeros(days),
        np.zeros(days, bool),
        np.arange(days) % 7,
        np.arange(days, dtype=float),
        dow_ridge=5.0,
        trend_prior_sd_per_year=0.25,
    )
    assert dow == (1.0,) * 7 and tau == 0.0


def test_multiplier_is_weekday_factor_times_trend() -> None:
    dow = tuple(float(v) for v in DOW)
    reference = dt.date(2026, 3, 1)
    day = dt.date(2026, 3, 11)
    assert multiplier(dow, 0.001, reference, day) == pytest.approx(
        DOW[day.weekday()] * np.exp(0.01)
    )
    factors = exposure(dow, 0.001, np.array([day.weekday()]), np.array([10.0]))
    assert factors[0] == pytest.approx(multiplier(dow, 0.001, reference, day))
