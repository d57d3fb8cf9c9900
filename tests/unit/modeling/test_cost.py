"""Business cost and thresholds against hand computations."""

import numpy as np
import pytest

from credit_scoring.modeling.cost import (
    THRESHOLD_GRID,
    best_threshold,
    confusion_at,
    confusion_curve,
    cost_curve,
    cost_per_client,
    f1_threshold,
    scores_at,
)

Y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0])
P = np.array([0.9, 0.1, 0.35, 0.2, 0.05, 0.6, 0.15, 0.3, 0.45, 0.02])


def test_confusion_by_hand():
    # refused: p >= 0.3 -> clients 0, 2, 5, 7, 8; defaulters 0, 3, 8
    c = confusion_at(Y, P, 0.3)
    assert (c.tp, c.fp, c.tn, c.fn) == (2, 3, 4, 1)


def test_cost_by_hand():
    assert cost_per_client(Y, P, 0.3, fn_cost=10, fp_cost=1) == pytest.approx((10 * 1 + 1 * 3) / 10)
    # threshold 0 refuses everyone: only false positives
    assert cost_per_client(Y, P, 0.0, 10, 1) == pytest.approx(7 / 10)
    # threshold above every score grants everyone: only false negatives
    assert cost_per_client(Y, P, 0.95, 10, 1) == pytest.approx(30 / 10)


def test_curve_equals_pointwise_computation():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.1
    p = np.round(rng.random(500), 3)  # ties on the grid on purpose
    curve = confusion_curve(y, p)
    for i in rng.choice(len(THRESHOLD_GRID), 50):
        c = confusion_at(y, p, THRESHOLD_GRID[i])
        assert (curve["tp"][i], curve["fp"][i], curve["tn"][i], curve["fn"][i]) == (c.tp, c.fp, c.tn, c.fn)
    costs = cost_curve(y, p, 10, 1)
    assert costs[300] == pytest.approx(cost_per_client(y, p, THRESHOLD_GRID[300], 10, 1))


def test_best_threshold_is_the_minimum_of_the_curve():
    t, cost = best_threshold(Y, P, 10, 1)
    assert cost == pytest.approx(min(cost_per_client(Y, P, x, 10, 1) for x in THRESHOLD_GRID))
    assert cost == pytest.approx(cost_per_client(Y, P, t, 10, 1))
    # refusing from just above 0.15 catches every defaulter at the price of 3 good clients (0.35, 0.6, 0.3)
    assert (t, cost) == (pytest.approx(0.151), pytest.approx(0.3))


def test_calibrated_probabilities_give_a_cost_optimum_near_one_eleventh():
    rng = np.random.default_rng(1)
    p = rng.beta(1, 10, 200_000)
    y = rng.random(len(p)) < p
    t, _ = best_threshold(y, p, 10, 1)
    assert abs(t - 1 / 11) < 0.01
    assert f1_threshold(y, p) > t + 0.05  # the F1 optimum is elsewhere


def test_scores_at_threshold():
    s = scores_at(Y, P, 0.3, 10, 1)
    assert s.recall == pytest.approx(2 / 3)
    assert s.precision == pytest.approx(2 / 5)
    assert s.accuracy == pytest.approx(6 / 10)
    assert s.f1 == pytest.approx(2 * (2 / 5) * (2 / 3) / (2 / 5 + 2 / 3))
    assert s.as_dict("holdout_")["holdout_cost_per_client"] == pytest.approx(1.3)
