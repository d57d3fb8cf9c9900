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
    f1_curve,
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


def test_the_f1_curve_is_sklearn_s_f1_at_every_threshold():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(2)
    y = rng.random(300) < 0.2
    p = np.round(rng.random(300) * 0.99, 3)
    curve = f1_curve(y, p)
    for i in range(0, len(THRESHOLD_GRID), 25):
        assert curve[i] == pytest.approx(f1_score(y, p >= THRESHOLD_GRID[i], zero_division=0.0)), THRESHOLD_GRID[i]
    assert curve[-1] == 0.0  # nobody refused above every score: no true positive, F1 is 0, not undefined
    assert len(f1_curve(y, p, np.array([0.0, 0.5]))) == 2  # the thresholds given, not the grid


def test_curves_take_lists_and_the_thresholds_they_are_given():
    thresholds = np.array([0.0, 0.3, 0.95])
    curve = confusion_curve(list(Y), [str(x) for x in P], thresholds)  # any array-like, numbers as text too
    assert curve["tp"].tolist() == [3, 2, 0] and curve["fn"].tolist() == [0, 1, 3]
    assert curve["fp"].tolist() == [7, 3, 0] and curve["tn"].tolist() == [0, 4, 7]
    assert cost_curve(Y, P, 10, 1, thresholds) == pytest.approx([0.7, 1.3, 3.0])
    at_a_score = confusion_curve(Y, P, np.array([0.35, 0.3500001]))  # scored exactly at the threshold: refused
    assert at_a_score["tp"].tolist() == [2, 2] and at_a_score["fp"].tolist() == [2, 1]


def test_scores_where_nobody_is_refused_or_nobody_defaults():
    nobody = scores_at(Y, P, 0.95, 10, 1)  # no refusal: precision and F1 are 0, not undefined
    assert (nobody.precision, nobody.recall, nobody.f1) == (0.0, 0.0, 0.0)
    everybody = scores_at(Y, P, 0.0, 10, 1)
    assert (everybody.precision, everybody.recall) == (pytest.approx(0.3), 1.0)
    no_defaulter = scores_at(np.array([0, 0, 1, 0]), np.array([0.1, 0.2, 0.3, 0.4]), 0.35, 10, 1)
    assert (no_defaulter.tp, no_defaulter.fp, no_defaulter.recall, no_defaulter.precision) == (0, 1, 0.0, 0.0)
    assert no_defaulter.accuracy == 0.5 and no_defaulter.threshold == 0.35


def test_precision_recall_and_f1_where_they_are_equal_and_where_nobody_defaults():
    even = scores_at(np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.8, 0.1]), 0.5, 10, 1)  # tp = fp = fn = tn = 1
    assert (even.precision, even.recall, even.f1) == (0.5, 0.5, 0.5)
    no_default = scores_at(np.array([0, 0]), np.array([0.1, 0.9]), 0.5, 10, 1)
    assert (no_default.recall, no_default.precision, no_default.f1) == (0.0, 0.0, 0.0)
    curve = f1_curve(np.zeros(4, dtype=bool), np.array([0.1, 0.2, 0.3, 0.4]))  # no defaulter: F1 is 0 everywhere
    assert not np.isnan(curve).any() and (curve == 0).all()
