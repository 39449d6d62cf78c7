"""Week-block bootstrap weights and the choice of band replicates."""

from __future__ import annotations

import numpy as np

from optimizer.models.bootstrap import percentile_replicates, week_weights


def test_weights_resample_whole_weeks_counted_back_from_the_last_day() -> None:
    weights = week_weights(30, 200, 7, np.random.default_rng(0))
    assert weights.shape == (200, 30)
    blocks = [range(23, 30), range(16, 23), range(9, 16), range(2, 9), range(0, 2)]
    for block in blocks:
        assert (weights[:, list(block)] == weights[:, [block[0]]]).all()
    assert (weights[:, [29, 22, 15, 8, 1]].sum(axis=1) == 5).all()
    assert len({tuple(row) for row in weights}) > 50


def test_same_generator_state_gives_the_same_weights() -> None:
    a = week_weights(60, 10, 7, np.random.default_rng(3))
    b = week_weights(60, 10, 7, np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_percentile_replicates_pick_the_ranked_replicates() -> None:
    values = np.array([[5.0, 1.0, 3.0, 4.0, 2.0, 9.0, 7.0, 6.0, 8.0, 0.0, 10.0]])
    low, high = percentile_replicates(values, (0.1, 0.9))
    assert values[0, low[0]] == 1.0
    assert values[0, high[0]] == 9.0
